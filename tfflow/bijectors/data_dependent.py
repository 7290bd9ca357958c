"""Data-dependent initialisation shared by ActNorm and Scaling: the context that turns it on,
the one-time statistics that set a log-scale (and bias), and their constant log-determinant."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence

import tensorflow as tf

from tfflow.bijectors.flow_bijector import log_det_dtype

__all__ = ["constant_log_det", "data_dependent_init", "initialize_from_batch", "is_initializing"]

# A context variable rather than a module-global flag: each thread (and asyncio task) sees
# its own setting, and `data_dependent_init` restores the previous one on exit.
_INITIALIZING: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "tfflow_data_dependent_init", default=False
)


def is_initializing() -> bool:
    """Whether a `data_dependent_init()` context is active."""
    return _INITIALIZING.get()


@contextlib.contextmanager
def data_dependent_init() -> Iterator[None]:
    """Within this context, uninitialised ActNorms (and Scalings with `data_init_scale`)
    initialise from the batch they see.

    Run one eager forward (data -> latent) pass of a model inside it; each ActNorm sets
    `b = -mean`, `s = log(init_scale / std)` of its input per channel, so its output has zero
    mean and unit variance, and marks itself initialised (a saved weight, so it never
    re-initialises after reload). `FlowModel.fit` does this before training.

    Example:
        >>> is_initializing()
        False
        >>> with data_dependent_init():
        ...     is_initializing()
        True
    """
    token = _INITIALIZING.set(True)
    try:
        yield
    finally:
        _INITIALIZING.reset(token)


def initialize_from_batch(
    params: tf.Module,
    x: tf.Tensor,
    *,
    batch_axes: Sequence[int],
    target_scale: float,
    center: bool,
) -> None:
    """Sets `params.log_scale = log(target_scale / (std(x) + 1e-6))` (and with `center`,
    `params.bias = -mean(x)`), statistics over `batch_axes` in float64, and marks
    `params.initialized`; a no-op outside `data_dependent_init()`, while tracing, or once
    `params.initialized` is set.

    Args:
        params: a `ParameterSet` with `log_scale`, `initialized` and (for `center`) `bias`.
        x: the batch the bijector sees.
        batch_axes: the axes the statistics reduce (the others keep one value each).
        target_scale: the standard deviation of the output after initialisation.
        center: also set the bias, so the output has zero mean.
    """
    if not is_initializing() or not tf.executing_eagerly() or params.initialized.numpy() > 0:
        return
    axes = list(batch_axes)
    x = tf.cast(x, tf.float64)
    mean = tf.reduce_mean(x, axis=axes)
    std = tf.sqrt(tf.reduce_mean(tf.square(x - mean), axis=axes))
    if center:
        params.bias.assign(tf.cast(-mean, params.bias.dtype))
    log_scale = tf.math.log(target_scale / (std + 1e-6))
    params.log_scale.assign(tf.cast(log_scale, params.log_scale.dtype))
    params.initialized.assign(tf.ones_like(params.initialized))


def constant_log_det(
    x: tf.Tensor, log_scale: tf.Tensor, event_ndims: int, repeats: int = 1
) -> tf.Tensor:
    """`repeats * sum(log_scale)` for every example of `x`: the log-det of a scaling
    `exp(log_scale)` applied `repeats` times per event (ActNorm: once per pixel).

    Returns:
        A tensor of `x`'s batch shape, in the log-det dtype of `x` (float32 under mixed
        precision).
    """
    total = tf.reduce_sum(tf.cast(log_scale, log_det_dtype(x.dtype)))
    if repeats != 1:
        total = repeats * total
    return tf.fill(tf.shape(x)[: tf.rank(x) - event_ndims], total)
