"""Base class for tfflow bijectors and the one-pass (value, log-det) traversal.

TFP computes `forward(x)` and `forward_log_det_jacobian(x)` in two separate calls, so a
coupling layer evaluates its conditioner network twice per `log_prob`. tfflow bijectors
implement a single `_forward_and_log_det` / `_inverse_and_log_det` pair; the TFP methods are
derived from it, and `forward_and_log_det` / `inverse_and_log_det` below walk a whole
`Chain`/`Invert` tree computing each conditioner once. Models use these for training.

Consecutive bijectors of a `Chain` that work on the two halves of the last axis (couplings
with a `"half"` or `"channel"` partition, see `FlowBijector.halves_event_shape`) are handed
the halves directly: the traversal splits once before such a run and concatenates once after
it, instead of every coupling splitting its input and concatenating its output; the
couplings' log-scales are added up element-wise and reduced once per chain.

An ActNorm followed by an invertible 1x1 convolution (a Glow step) runs as one per-pixel
affine map whose weights are computed once per chain for all such pairs
(`tfflow.bijectors.fused_affine`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfflow._compat.tfp import CHAIN_TYPES, INVERT_TYPES, greedy_bijector_cache
from tfflow.bijectors._validation import check_event, check_float
from tfflow.bijectors.partitions import split_halves
from tfflow.layers.parameter_set import tf_variable

if TYPE_CHECKING:
    from tfflow.bijectors.fused_affine import FusedAffinePairs

tfb = tfp.bijectors

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

    Through TFP's own methods too, each conditioner runs once per input: `forward(x)` stores
    the log-determinant in TFP's bijector cache (as TFP's `FFJORD` does), so the
    `forward_log_det_jacobian(x)` that `TransformedDistribution.log_prob`, `Chain` and
    `Invert` call next on the same tensor is a lookup.

    Once called, the bijector's `variables` and `trainable_variables` (tf.Module's, which TFP
    distributions, `Chain`, `Invert` and `tfp.math.minimize` collect) hold the TensorFlow
    variables of its Keras layers; Keras 3 layers are not `tf.Module`s, so they would
    otherwise be invisible to TFP code.
    """

    keras_layers: Sequence[keras.layers.Layer] = ()

    _cache = greedy_bijector_cache("_augmented_forward", "_augmented_inverse")

    #: Event shape of the bijectors that can also work on the two halves of the last axis of
    #: their input (`split_halves`: the first `n // 2` and the last `n - n // 2` entries),
    #: taking and returning them unjoined through `_forward_halves_and_log_det(first, second)`
    #: / `_inverse_halves_and_log_det(first, second)` -> `(first, second, terms)`. `terms` are
    #: per-element log-det terms: summed over their last `len(halves_event_shape)` axes they
    #: give the forward log-det (at the input of the forward method, at the output of the
    #: inverse one, so the inverse log-det is minus their sum); None when it is zero. A run of
    #: such bijectors adds up the terms and reduces once. None for the others; set per
    #: instance (couplings with a `"half"` or `"channel"` partition).
    halves_event_shape: tuple[int, ...] | None = None

    @classmethod
    def _parameter_properties(cls, dtype: tf.DType | None, num_classes: int | None = None) -> dict:
        return {}

    def _forward(self, x: tf.Tensor, **kwargs: Any) -> tf.Tensor:
        return self._forward_and_log_det(x, **kwargs)[0]

    def _inverse(self, y: tf.Tensor, **kwargs: Any) -> tf.Tensor:
        return self._inverse_and_log_det(y, **kwargs)[0]

    def _forward_log_det_jacobian(self, x: tf.Tensor, **kwargs: Any) -> tf.Tensor:
        return self._forward_and_log_det(x, **kwargs)[1]

    def _inverse_log_det_jacobian(self, y: tf.Tensor, **kwargs: Any) -> tf.Tensor:
        return self._inverse_and_log_det(y, **kwargs)[1]

    def _augmented_forward(
        self, x: tf.Tensor, **kwargs: Any
    ) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
        y, fldj = self._forward_and_log_det(x, **kwargs)
        self._track_layer_variables()
        return y, {"fldj": fldj, "ildj": -fldj}

    def _augmented_inverse(
        self, y: tf.Tensor, **kwargs: Any
    ) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
        x, ildj = self._inverse_and_log_det(y, **kwargs)
        self._track_layer_variables()
        return x, {"ildj": ildj, "fldj": -ildj}

    def _track_layer_variables(self) -> None:
        """Holds the TF variables of `keras_layers` in an attribute that `tf.Module` walks.

        Keras creates a layer's weights on its first call, so this runs after each call and
        rebinds the attribute only when the set of variables changed.
        """
        found = []
        for layer in self.keras_layers:
            for weight in layer.weights:
                value = tf_variable(weight)
                if isinstance(value, tf.Variable):
                    found.append(value)
        known = self.__dict__.get("_keras_layer_variables", ())
        if len(found) != len(known) or any(a is not b for a, b in zip(found, known, strict=True)):
            self._keras_layer_variables = tuple(found)

    def _forward_and_log_det(self, x: tf.Tensor, **kwargs: Any) -> tuple[tf.Tensor, tf.Tensor]:
        raise NotImplementedError

    def _inverse_and_log_det(self, y: tf.Tensor, **kwargs: Any) -> tuple[tf.Tensor, tf.Tensor]:
        raise NotImplementedError

    def _forward_halves_and_log_det(
        self, first: tf.Tensor, second: tf.Tensor, **kwargs: Any
    ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        raise NotImplementedError

    def _inverse_halves_and_log_det(
        self, first: tf.Tensor, second: tf.Tensor, **kwargs: Any
    ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        raise NotImplementedError


def _event_ndims_of(bijector: tfb.Bijector, forward: bool) -> int:
    return bijector.forward_min_event_ndims if forward else bijector.inverse_min_event_ndims


def _pass(
    bijector: tfb.Bijector, x: tf.Tensor, forward: bool, event_ndims: int | None, kwargs: dict
) -> tuple[tf.Tensor, tf.Tensor, int]:
    """Returns (output, log-det, output event ndims) for `bijector` in the given direction."""
    if event_ndims is None:
        event_ndims = _event_ndims_of(bijector, forward)
    if isinstance(bijector, INVERT_TYPES):
        return _pass(bijector.bijector, x, not forward, event_ndims, kwargs)
    if isinstance(bijector, CHAIN_TYPES):
        return _pass_chain(bijector, x, forward, event_ndims, kwargs)
    own_kwargs = kwargs.get(bijector.name, {})
    if isinstance(bijector, FlowBijector):
        method = bijector._forward_and_log_det if forward else bijector._inverse_and_log_det
        y, ldj = method(x, **own_kwargs)
        bijector._track_layer_variables()
        ldj = _reduce_extra(ldj, event_ndims - _event_ndims_of(bijector, forward))
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


def _reduce_extra(ldj: tf.Tensor, extra: int) -> tf.Tensor:
    """Sums a log-det over the `extra` event dims beyond the bijector's minimum."""
    return tf.reduce_sum(ldj, axis=list(range(-extra, 0))) if extra > 0 else ldj


class _HalvesRun:
    """The state of a run of halves bijectors in a `Chain`: the two halves and the summed
    per-element log-det terms, grouped by shape (reduced by `_ChainLogDet` at the end of the
    chain)."""

    def __init__(self, x: tf.Tensor, bijector: FlowBijector, forward: bool, extra: int):
        arg = "x" if forward else "y"
        x = check_float(x, bijector.name, arg)
        check_event(x, bijector.halves_event_shape, bijector.name, arg)
        self.shape = bijector.halves_event_shape
        self.first, self.second = split_halves(x, self.shape)
        self.reduce_ndims = len(self.shape) + extra
        self.forward = forward
        self.dtype = log_det_dtype(x.dtype)
        self.terms: dict[tuple, tf.Tensor] = {}

    def apply(self, bijector: FlowBijector, kwargs: dict) -> None:
        method = (
            bijector._forward_halves_and_log_det
            if self.forward
            else bijector._inverse_halves_and_log_det
        )
        self.first, self.second, terms = method(self.first, self.second, **kwargs)
        bijector._track_layer_variables()
        if terms is not None:
            terms = tf.cast(terms, self.dtype)
            key = tuple(terms.shape.as_list())
            self.terms[key] = terms + self.terms[key] if key in self.terms else terms

    def end(self) -> tuple[tf.Tensor, dict]:
        """`(joined halves, {(terms shape, reduce ndims): summed terms})`."""
        terms = {(key, self.reduce_ndims): value for key, value in self.terms.items()}
        return tf.concat([self.first, self.second], axis=-1), terms


class _ChainLogDet:
    """The log-det of a `Chain` pass: whole log-dets, and per-element terms of halves runs
    summed element-wise across the runs and reduced once at the end."""

    def __init__(self, dtype: tf.DType, forward: bool):
        self.dtype = dtype
        self.forward = forward
        self.ldjs: list[tf.Tensor] = []
        self.terms: dict[tuple, tf.Tensor] = {}
        self.zero_shape = None

    def add_terms(self, terms: dict, first: tf.Tensor, reduce_ndims: int) -> None:
        if not terms and self.zero_shape is None:
            self.zero_shape = _batch_shape(first, reduce_ndims)
        for key, value in terms.items():
            self.terms[key] = value + self.terms[key] if key in self.terms else value

    def total(self) -> tf.Tensor:
        ldjs = [tf.cast(ldj, self.dtype) for ldj in self.ldjs]
        for (_, reduce_ndims), terms in self.terms.items():
            ldj = tf.reduce_sum(terms, axis=list(range(-reduce_ndims, 0)))
            ldjs.append(ldj if self.forward else -ldj)
        if self.zero_shape is not None:  # a run without log-det terms (additive couplings)
            ldjs.append(tf.zeros(self.zero_shape, self.dtype))
        if not ldjs:
            return tf.zeros([], self.dtype)
        total = ldjs[0]
        for ldj in ldjs[1:]:
            total = total + ldj
        return total


def _batch_shape(x: tf.Tensor, event_ndims: int) -> tf.Tensor:
    if x.shape.rank is not None:
        return tf.shape(x)[: x.shape.rank - event_ndims]
    return tf.shape(x)[: tf.rank(x) - event_ndims]


def _fused_pairs(
    parts: list, forward: bool, event_ndims: int, x: tf.Tensor, kwargs: dict
) -> tuple[dict[int, tfb.Bijector], FusedAffinePairs | None]:
    """`({start index: conv}, FusedAffinePairs)` for the chain's ActNorm + 1x1 convolution
    pairs, when they can run fused (see `tfflow.bijectors.fused_affine`)."""
    from tfflow.bijectors.fused_affine import FusedAffinePairs, fusable_pairs

    starts = fusable_pairs(parts, forward, kwargs)
    if not starts or not x.dtype.is_floating:
        return {}, None
    pairs = []
    for i in starts:
        first, second = parts[i], parts[i + 1]
        pairs.append((first, second) if forward else (second, first))
    convs = {i: conv for i, (_, conv) in zip(starts, pairs, strict=True)}
    return convs, FusedAffinePairs(pairs, forward, x.dtype)


def _pass_chain(
    chain: tfb.Chain, x: tf.Tensor, forward: bool, event_ndims: int, kwargs: dict
) -> tuple[tf.Tensor, tf.Tensor, int]:
    """`_pass` over the parts of a `Chain`, handing runs of halves bijectors the halves and
    running ActNorm + 1x1 convolution pairs as one fused affine map."""
    parts = list(chain.bijectors if not forward else reversed(chain.bijectors))
    log_det = _ChainLogDet(log_det_dtype(x.dtype), forward)
    fused_convs, fused = _fused_pairs(parts, forward, event_ndims, x, kwargs)
    fused_batch = None
    run = None
    i = 0
    while i < len(parts):
        part = parts[i]
        conv = fused_convs.get(i)
        if conv is not None and event_ndims == len(conv.event_shape_):
            if run is not None:
                x, terms = run.end()
                log_det.add_terms(terms, run.first, run.reduce_ndims)
                run = None
            x = check_float(x, conv.name, "x" if forward else "y")
            check_event(x, conv.event_shape_, conv.name, "x" if forward else "y")
            if fused_batch is None:
                fused_batch = _batch_shape(x, event_ndims)
            x = fused.apply(conv, x)
            for bijector in parts[i : i + 2]:
                # The bookkeeping each bijector's own call would do: expose its layers'
                # variables to TFP code.
                bijector._track_layer_variables()
            i += 2
            continue
        shape = part.halves_event_shape if isinstance(part, FlowBijector) else None
        if run is not None and shape != run.shape:
            x, terms = run.end()
            log_det.add_terms(terms, run.first, run.reduce_ndims)
            run = None
        i += 1
        if shape is None:
            x, ldj, event_ndims = _pass(part, x, forward, event_ndims, kwargs)
            log_det.ldjs.append(ldj)
            continue
        if run is None:
            run = _HalvesRun(x, part, forward, event_ndims - _event_ndims_of(part, forward))
        run.apply(part, kwargs.get(part.name, {}))
    if run is not None:
        x, terms = run.end()
        log_det.add_terms(terms, run.first, run.reduce_ndims)
    if fused_batch is not None:
        log_det.ldjs.append(tf.fill(fused_batch, tf.cast(fused.log_det(), log_det.dtype)))
    return x, log_det.total(), event_ndims


def forward_and_log_det(
    bijector: tfb.Bijector, x: tf.Tensor, event_ndims: int | None = None, **kwargs: Any
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
    bijector: tfb.Bijector, y: tf.Tensor, event_ndims: int | None = None, **kwargs: Any
) -> tuple[tf.Tensor, tf.Tensor]:
    """`(bijector.inverse(y), bijector.inverse_log_det_jacobian(y))` in one pass."""
    x, ldj, _ = _pass(bijector, y, False, event_ndims, kwargs)
    return x, ldj


def walk_bijectors(bijector: tfb.Bijector) -> Iterator[tfb.Bijector]:
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


def call_with_flat_batch(
    fn: Callable[[tf.Tensor], tf.Tensor], x: tf.Tensor, event_rank: int
) -> tf.Tensor:
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
