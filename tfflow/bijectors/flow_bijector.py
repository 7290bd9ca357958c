"""Base class for tfflow bijectors and the one-pass (value, log-det) traversal.

TFP computes `forward(x)` and `forward_log_det_jacobian(x)` in two separate calls, so a
coupling layer evaluates its conditioner network twice per `log_prob`. tfflow bijectors
implement a single `_forward_and_log_det` / `_inverse_and_log_det` pair; the TFP methods are
derived from it, and `forward_and_log_det` / `inverse_and_log_det` below walk a whole
`Chain`/`Invert` tree computing each conditioner once. Models use these for training.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf
import tensorflow_probability as tfp
from tensorflow_probability.python.bijectors.chain import _Chain
from tensorflow_probability.python.bijectors.invert import _Invert

tfb = tfp.bijectors

# `tfb.Chain(...)`/`tfb.Invert(...)` return the private base classes `_Chain`/`_Invert` when a
# component is not a CompositeTensor (as tfflow bijectors, which hold Keras layers, are not);
# the public classes subclass them, so these cover both.
CHAIN_TYPES = (_Chain,)
INVERT_TYPES = (_Invert,)

__all__ = [
    "FlowBijector",
    "call_with_flat_batch",
    "collect_keras_layers",
    "forward_and_log_det",
    "inverse_and_log_det",
    "log_det_dtype",
    "walk_bijectors",
]


def log_det_dtype(dtype: tf.DType) -> tf.DType:
    """Log-determinants of half-precision inputs are accumulated in float32."""
    dtype = tf.as_dtype(dtype)
    return tf.float32 if dtype in (tf.float16, tf.bfloat16) else dtype


class FlowBijector(tfb.Bijector):
    """A TFP bijector whose value and log-determinant come from one computation.

    Subclasses implement `_forward_and_log_det(x, **kwargs) -> (y, fldj)` and
    `_inverse_and_log_det(y, **kwargs) -> (x, ildj)`, where the log-determinants are reduced
    over the bijector's minimum event dims (so they have the batch shape of the input), and
    list the Keras layers holding their parameters in `keras_layers`.
    """

    keras_layers: Sequence[keras.layers.Layer] = ()

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return {}

    def _forward(self, x, **kwargs):
        return self._forward_and_log_det(x, **kwargs)[0]

    def _inverse(self, y, **kwargs):
        return self._inverse_and_log_det(y, **kwargs)[0]

    def _forward_log_det_jacobian(self, x, **kwargs):
        return self._forward_and_log_det(x, **kwargs)[1]

    def _inverse_log_det_jacobian(self, y, **kwargs):
        return self._inverse_and_log_det(y, **kwargs)[1]

    def _forward_and_log_det(self, x, **kwargs):
        raise NotImplementedError

    def _inverse_and_log_det(self, y, **kwargs):
        raise NotImplementedError


def _event_ndims_of(bijector: tfb.Bijector, forward: bool) -> int:
    return bijector.forward_min_event_ndims if forward else bijector.inverse_min_event_ndims


def _pass(bijector: tfb.Bijector, x: tf.Tensor, forward: bool, event_ndims: int | None, kwargs):
    """Returns (output, log-det, output event ndims) for `bijector` in the given direction."""
    if event_ndims is None:
        event_ndims = _event_ndims_of(bijector, forward)
    if isinstance(bijector, INVERT_TYPES):
        return _pass(bijector.bijector, x, not forward, event_ndims, kwargs)
    if isinstance(bijector, CHAIN_TYPES):
        parts = bijector.bijectors if not forward else list(reversed(bijector.bijectors))
        total = None
        ldj_dtype = log_det_dtype(x.dtype)
        for part in parts:
            x, ldj, event_ndims = _pass(part, x, forward, event_ndims, kwargs)
            ldj = tf.cast(ldj, ldj_dtype)
            total = ldj if total is None else total + ldj
        if total is None:
            total = tf.zeros([], ldj_dtype)
        return x, total, event_ndims
    own_kwargs = kwargs.get(bijector.name, {})
    if isinstance(bijector, FlowBijector):
        extra = event_ndims - _event_ndims_of(bijector, forward)
        method = bijector._forward_and_log_det if forward else bijector._inverse_and_log_det
        y, ldj = method(x, **own_kwargs)
        if extra > 0:
            ldj = tf.reduce_sum(ldj, axis=list(range(-extra, 0)))
        out_ndims = (
            bijector.forward_event_ndims(event_ndims)
            if forward
            else bijector.inverse_event_ndims(event_ndims)
        )
        return y, ldj, out_ndims
    if forward:
        y = bijector.forward(x, **own_kwargs)
        ldj = bijector.forward_log_det_jacobian(x, event_ndims=event_ndims, **own_kwargs)
        return y, ldj, bijector.forward_event_ndims(event_ndims)
    y = bijector.inverse(x, **own_kwargs)
    ldj = bijector.inverse_log_det_jacobian(x, event_ndims=event_ndims, **own_kwargs)
    return y, ldj, bijector.inverse_event_ndims(event_ndims)


def forward_and_log_det(
    bijector: tfb.Bijector, x: tf.Tensor, event_ndims: int | None = None, **kwargs
) -> tuple[tf.Tensor, tf.Tensor]:
    """`(bijector.forward(x), bijector.forward_log_det_jacobian(x))` in one pass.

    Args:
        bijector: any TFP bijector; tfflow bijectors inside `Chain`/`Invert` trees are
            evaluated once each.
        x: input tensor.
        event_ndims: event rank of `x` (default: the bijector's `forward_min_event_ndims`).
        **kwargs: per-bijector keyword arguments keyed by bijector name, as in `tfb.Chain`.
    """
    y, ldj, _ = _pass(bijector, x, True, event_ndims, kwargs)
    return y, ldj


def inverse_and_log_det(
    bijector: tfb.Bijector, y: tf.Tensor, event_ndims: int | None = None, **kwargs
) -> tuple[tf.Tensor, tf.Tensor]:
    """`(bijector.inverse(y), bijector.inverse_log_det_jacobian(y))` in one pass."""
    x, ldj, _ = _pass(bijector, y, False, event_ndims, kwargs)
    return x, ldj


def walk_bijectors(bijector: tfb.Bijector):
    """Yields `bijector` and every bijector nested in it: the parts of `Chain`s, the bijector
    of an `Invert` or `Recompute`, and the `inner` flow of a `FactorOut`."""
    stack = [bijector]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, CHAIN_TYPES):
            stack.extend(current.bijectors)
        for attr in ("bijector", "inner"):
            child = getattr(current, attr, None)
            if isinstance(child, tfb.Bijector):
                stack.append(child)


def collect_keras_layers(bijector: tfb.Bijector) -> list[keras.layers.Layer]:
    """Every Keras layer that holds parameters of `bijector` or its components, in order."""
    found: list[keras.layers.Layer] = []
    if isinstance(bijector, INVERT_TYPES):
        return collect_keras_layers(bijector.bijector)
    if isinstance(bijector, CHAIN_TYPES):
        for part in bijector.bijectors:
            found.extend(collect_keras_layers(part))
        return found
    if isinstance(bijector, FlowBijector):
        found.extend(bijector.keras_layers)
    return found


def call_with_flat_batch(fn, x: tf.Tensor, event_rank: int) -> tf.Tensor:
    """Applies `fn` (e.g. a Keras conv net needing rank-4 input) over any batch shape.

    The batch dims of `x` (all but the last `event_rank`) are flattened into one, `fn` is
    applied, and the result gets the batch dims back.
    """
    if x.shape.rank == event_rank + 1:
        return fn(x)
    shape = tf.shape(x)
    batch_shape = shape[: tf.rank(x) - event_rank]
    flat = tf.reshape(x, tf.concat([[-1], shape[tf.rank(x) - event_rank :]], 0))
    out = fn(flat)
    out_event = tf.shape(out)[1:]
    result = tf.reshape(out, tf.concat([batch_shape, out_event], 0))
    static_event = out.shape[1:]
    return tf.ensure_shape(result, x.shape[: x.shape.rank - event_rank].concatenate(static_event))
