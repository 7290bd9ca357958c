"""The context encoder a conditional flow shares across all its couplings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import keras
import tensorflow as tf

__all__ = ["ContextEncoder"]


@keras.saving.register_keras_serializable(package="tfflow")
class ContextEncoder(keras.layers.Layer):
    """Encodes a context once per call; every coupling's conditioner reads the result.

    Vector contexts `(k,)`: `Dense(features, relu) -> Dense(features)`.
    Image contexts `(h, w, c)`: `Conv3x3(features, relu) -> Conv3x3(features)`, feature maps
    at the context's resolution (each coupling gets them resized to its own spatial size, as
    in SRFlow and conditional Glow; see `tfflow.models.context`).
    With `features=None` the context passes through unchanged (identity).

    Sharing one encoder across the couplings lets them read features learned once, instead of
    every conditioner re-learning them from the raw context. Contexts should be roughly
    standardised (e.g. pixels scaled to [0, 1]); the encoder does not rescale them.

    Args:
        context_shape: the shape of one context, `(k,)` or `(h, w, c)`.
        features: width of the encoded context, or None for the identity.
        **kwargs: `keras.layers.Layer` arguments.

    Call arguments:
        inputs: a context batch, `(batch,) + context_shape`.

    Returns:
        `(batch, features)` or `(batch, h, w, features)` (the input itself for the identity).

    Example:
        >>> tuple(ContextEncoder((3,), features=8)(keras.ops.zeros([2, 3])).shape)
        (2, 8)
    """

    def __init__(self, context_shape: Iterable[int], features: int | None = 32, **kwargs: Any):
        super().__init__(**kwargs)
        self.context_shape = tuple(int(d) for d in context_shape)
        if len(self.context_shape) not in (1, 3) or any(d < 1 for d in self.context_shape):
            raise ValueError(
                f"`context_shape` must be (k,) or (height, width, channels) of positive sizes; "
                f"received {tuple(context_shape)!r}."
            )
        if features is not None and int(features) < 1:
            raise ValueError(f"`context_features` must be None or >= 1; received {features!r}.")
        self.features = None if features is None else int(features)
        self.hidden = self.output_layer = None
        if self.features is not None:
            if len(self.context_shape) == 1:
                self.hidden = keras.layers.Dense(self.features, activation="relu", name="hidden")
                self.output_layer = keras.layers.Dense(self.features, name="output")
            else:
                self.hidden = keras.layers.Conv2D(
                    self.features, 3, padding="same", activation="relu", name="hidden"
                )
                self.output_layer = keras.layers.Conv2D(
                    self.features, 3, padding="same", name="output"
                )

    @property
    def output_features(self) -> int:
        """Features (channels) per position of the encoded context."""
        return self.context_shape[-1] if self.features is None else self.features

    def build(self, input_shape: tuple) -> None:
        if self.hidden is not None:
            shape = tuple(input_shape)
            self.hidden.build(shape)
            self.output_layer.build(shape[:-1] + (self.features,))
        self.built = True

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        if self.hidden is None:
            return inputs
        return self.output_layer(self.hidden(inputs))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape[:-1]) + (self.output_features,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"context_shape": list(self.context_shape), "features": self.features})
        return config
