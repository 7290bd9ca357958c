"""Glow's ActNorm + invertible 1x1 convolution as one per-pixel affine map, weights batched.

In a flow step, ActNorm `a(x) = (x + b) * exp(s)` is followed by the 1x1 convolution
`y = W a(x)` at every pixel. Together they are one affine map per pixel,

    y = A x + c,            A = W diag(exp(s)),   c = A b,
    x = A^-1 y - b,         A^-1 = diag(exp(-s)) W^-1,
    log|det J| = (pixels) * (sum(s) + log|det W|)   (the same for every example),

so the one-pass traversal (`forward_and_log_det`) runs each such pair as one matmul with a
bias (fused into one kernel on CPU) instead of ActNorm's shift, exponential and product
followed by the convolution's matmul. The weights `A`, `c` of all the pairs of
one `Chain` (one Glow level) are computed together, once per call, from the stacked
parameters (batched LU assembly, `W = P L (U + diag(sign * exp(log_s)))`), and their
log-determinants are summed into one scalar. The bijectors themselves are unchanged: their
own methods, weights and checkpoints stay as they are; only the traversal takes the shortcut,
and never during ActNorm's data-dependent initialisation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from tfflow.bijectors.actnorm import ActNorm
from tfflow.bijectors.data_dependent import is_initializing
from tfflow.bijectors.flow_bijector import log_det_dtype
from tfflow.bijectors.invertible_conv1x1 import InvertibleConv1x1

__all__ = ["FusedAffinePairs", "fusable_pairs"]


def fusable_pairs(parts: Sequence, forward: bool, kwargs: dict) -> list[int]:
    """Indices `i` of `parts` (in traversal order) where `parts[i], parts[i + 1]` is an
    ActNorm followed by a 1x1 convolution on the same event (forward), or the convolution
    followed by the ActNorm (inverse), neither taking keyword arguments."""
    if is_initializing():
        return []
    found, i = [], 0
    while i < len(parts) - 1:
        first, second = parts[i], parts[i + 1]
        actnorm, conv = (first, second) if forward else (second, first)
        if (
            type(actnorm) is ActNorm
            and type(conv) is InvertibleConv1x1
            and actnorm.event_shape_ == conv.event_shape_
            and not kwargs.get(actnorm.name)
            and not kwargs.get(conv.name)
        ):
            found.append(i)
            i += 2
        else:
            i += 1
    return found


def _stack(variables: Sequence[tf.Variable], dtype: tf.DType) -> tf.Tensor:
    return tf.cast(tf.stack([tf.convert_to_tensor(v) for v in variables]), dtype)


def _weights(convs: Sequence[InvertibleConv1x1], dtype: tf.DType) -> tf.Tensor:
    """`(W, log|det W|)` of every convolution, stacked: `[K, c, c]` and `[K]`."""
    if convs[0].lu_decomposed:
        c = convs[0].event_shape_[-1]
        mask = np.tril(np.ones((c, c)), -1)
        params = [conv.params for conv in convs]
        log_s = _stack([p.log_s for p in params], dtype)
        lower = _stack([p.lower for p in params], dtype) * mask + np.eye(c)
        upper = _stack([p.upper for p in params], dtype) * mask.T + tf.linalg.diag(
            _stack([p.sign_s for p in params], dtype) * tf.exp(log_s)
        )
        w = tf.matmul(_stack([p.permutation for p in params], dtype), tf.matmul(lower, upper))
        return w, tf.reduce_sum(log_s, axis=-1)
    w = _stack([conv.params.kernel for conv in convs], dtype)
    r = tf.linalg.qr(w)[1]
    return w, tf.reduce_sum(tf.math.log(tf.abs(tf.linalg.diag_part(r))), axis=-1)


class FusedAffinePairs:
    """The per-pixel affine maps of a chain's (ActNorm, 1x1 convolution) pairs for one call.

    Args:
        pairs: `(actnorm, conv)` per pair; pairs of equal channels and parameterisation are
            computed in one batch.
        forward: the direction of the traversal.
        dtype: dtype of the flow state (weights are computed in its log-det dtype).
    """

    def __init__(
        self, pairs: Sequence[tuple[ActNorm, InvertibleConv1x1]], forward: bool, dtype: tf.DType
    ):
        self.forward = forward
        self.dtype = tf.as_dtype(dtype)
        compute = log_det_dtype(self.dtype)
        self.maps: dict[int, tuple[tf.Tensor, tf.Tensor, int]] = {}
        self._positions: list[tuple[int, int]] = []
        groups: dict[tuple, list[tuple[ActNorm, InvertibleConv1x1]]] = {}
        for actnorm, conv in pairs:
            groups.setdefault((conv.event_shape_[-1], conv.lu_decomposed), []).append(
                (actnorm, conv)
            )
        log_dets = []
        for group in groups.values():
            actnorms = [a for a, _ in group]
            convs = [c for _, c in group]
            w, conv_log_det = _weights(convs, compute)
            log_scale = _stack([a.params.log_scale for a in actnorms], compute)
            bias = _stack([a.params.bias for a in actnorms], compute)
            pixels = np.array([conv._pixels for conv in convs], compute.as_numpy_dtype)
            log_dets.append(pixels * (tf.reduce_sum(log_scale, axis=-1) + conv_log_det))
            if forward:
                matrix = w * tf.exp(log_scale)[:, None, :]
                shift = tf.linalg.matvec(matrix, bias)
            else:
                matrix = tf.linalg.inv(w) / tf.exp(log_scale)[:, :, None]
                shift = -bias
            # `x @ matrix^T` at every pixel: kernels [K, c_in, c_out].
            kernels = tf.unstack(tf.cast(tf.linalg.matrix_transpose(matrix), self.dtype))
            shifts = tf.unstack(tf.cast(shift, self.dtype))
            for k, ((_, conv), kernel, b) in enumerate(zip(group, kernels, shifts, strict=True)):
                self.maps[id(conv)] = (kernel, b, len(self._positions))
                self._positions.append((len(log_dets) - 1, k))
        self._log_dets = log_dets
        self.applied: list[int] = []

    def log_det(self) -> tf.Tensor:
        """The log-determinant (scalar, the same for every example) of the pairs applied so
        far, in the traversal's direction."""
        if len(self.applied) == len(self._positions):
            sums = [tf.reduce_sum(log_det) for log_det in self._log_dets]
        else:
            sums = [self._log_dets[g][k] for g, k in (self._positions[i] for i in self.applied)]
        total = sums[0] if len(sums) == 1 else tf.add_n(sums)
        return total if self.forward else -total

    def apply(self, conv: InvertibleConv1x1, x: tf.Tensor) -> tf.Tensor:
        """The pair of `conv` applied to `x` (event shape `conv.event_shape_`)."""
        kernel, bias, position = self.maps[id(conv)]
        self.applied.append(position)
        if x.shape.rank == 2:
            return tf.nn.bias_add(tf.matmul(x, kernel), bias)
        c = conv.event_shape_[-1]
        flat = tf.reshape(x, [-1, c])
        return tf.reshape(tf.nn.bias_add(tf.matmul(flat, kernel), bias), tf.shape(x))
