"""A Keras layer that only owns named weights, for bijectors that read them at call time."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

__all__ = ["ParameterSet", "parameter_dtype", "tf_variable"]


def parameter_dtype() -> str:
    """Dtype of flow parameters and states: the global policy's variable dtype.

    float32 under `mixed_float16`/`mixed_bfloat16` (log-dets and the prior stay float32),
    float64 under a float64 policy.
    """
    return keras.config.dtype_policy().variable_dtype


def tf_variable(variable: Any) -> Any:
    """The `tf.Variable` behind a Keras 3 variable (TensorFlow backend); anything else as it
    is (a `tf.Variable` stays itself).

    >>> import keras
    >>> type(tf_variable(keras.Variable(1.0))).__name__
    'ResourceVariable'
    """
    return variable.value if isinstance(variable, keras.Variable) else variable


@keras.saving.register_keras_serializable(package="tfflow")
class ParameterSet(keras.layers.Layer):
    """Holds named Keras weights for a tfflow bijector (ActNorm, 1x1 conv, scaling, ...).

    TFP bijectors are `tf.Module`s that Keras 3 does not track, and a Keras variable handed to
    a TFP bijector's constructor is frozen into a constant. tfflow bijectors therefore keep their
    parameters in a `ParameterSet` that the owning model tracks, and read them in every call.

    Args:
        shapes: mapping from weight name to shape.
        trainable_names: names of the weights that are trained (the rest are state, e.g. the
            ActNorm "initialized" flag or a fixed LU permutation).
        initial_values: optional mapping from name to a numpy array of initial values
            (default zeros). Not part of the config: saved weights overwrite them on load.
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`).
    """

    def __init__(
        self,
        shapes: dict[str, tuple[int, ...]],
        trainable_names: tuple[str, ...] | list[str] = (),
        initial_values: dict[str, np.ndarray] | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.shapes = {k: tuple(int(d) for d in v) for k, v in shapes.items()}
        self.trainable_names = tuple(trainable_names)
        initial_values = initial_values or {}
        for name, shape in self.shapes.items():
            value = initial_values.get(name)
            initializer = (
                keras.initializers.Zeros()
                if value is None
                else keras.initializers.Constant(np.asarray(value))
            )
            weight = self.add_weight(
                name=name,
                shape=shape,
                initializer=initializer,
                trainable=name in self.trainable_names,
            )
            setattr(self, name, weight)
        self.built = True

    def call(self, inputs: Any) -> None:  # pragma: no cover - parameters are read directly
        return inputs

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                "shapes": {k: list(v) for k, v in self.shapes.items()},
                "trainable_names": list(self.trainable_names),
            }
        )
        return config
