"""Distribution strategies and mixed-precision policies named on the command line."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import keras
import tensorflow as tf

from tfflow.training.config import MIXED_PRECISION_POLICIES
from tfflow.training.errors import RunConfigurationError

__all__ = ["default_jit", "make_strategy", "mixed_precision_policy"]


def make_strategy(name: str) -> tf.distribute.Strategy:
    """`"default"`, `"mirrored"` (all local GPUs) or `"multiworker"` (reads `TF_CONFIG`).

    Raises:
        RunConfigurationError: If `name` is unknown or the strategy cannot be created (a
            `MultiWorkerMirroredStrategy` must be created before TensorFlow runs any op).
    """
    if name == "default":
        return tf.distribute.get_strategy()
    try:
        if name == "mirrored":
            return tf.distribute.MirroredStrategy()
        if name == "multiworker":
            return tf.distribute.MultiWorkerMirroredStrategy()
    except (RuntimeError, ValueError) as err:
        raise RunConfigurationError(
            f"cannot create the {name} strategy: {' '.join(str(err).split())}"
        ) from err
    raise RunConfigurationError(
        f"--strategy must be default, mirrored or multiworker; received {name!r}."
    )


@contextlib.contextmanager
def mixed_precision_policy(mode: str) -> Iterator[str]:
    """Sets Keras' global dtype policy for `mode` ("off", "float16", "bfloat16") and restores
    the previous policy on exit, so that in-process runs do not leak it.

    Yields:
        The policy name, e.g. `"mixed_float16"`.
    """
    if mode not in MIXED_PRECISION_POLICIES:
        raise RunConfigurationError(
            f"--mixed-precision must be one of {', '.join(MIXED_PRECISION_POLICIES)}; "
            f"received {mode!r}."
        )
    previous = keras.mixed_precision.global_policy()
    policy = MIXED_PRECISION_POLICIES[mode]
    keras.mixed_precision.set_global_policy(policy)
    try:
        yield policy
    finally:
        keras.mixed_precision.set_global_policy(previous)


def default_jit(model: keras.Model | None = None) -> bool:
    """The default XLA setting: `model.default_jit_compile()` (on a GPU always; on CPU for
    vector models on non-AMD CPUs only; `tfflow.models.recipe.default_jit_compile`), or
    without a model whether a GPU is visible."""
    if model is not None and hasattr(model, "default_jit_compile"):
        return bool(model.default_jit_compile())
    return bool(tf.config.list_logical_devices("GPU"))
