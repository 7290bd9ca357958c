"""Glow's invertible 1x1 convolution: `y = W x` at every pixel, plain or LU-decomposed."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfflow.bijectors._validation import check_event, check_float
from tfflow.bijectors.flow_bijector import FlowBijector, log_det_dtype
from tfflow.layers.parameter_set import ParameterSet, parameter_dtype

__all__ = ["InvertibleConv1x1", "random_rotation"]


def random_rotation(channels: int, seed: int) -> np.ndarray:
    """A random orthogonal `channels x channels` matrix with determinant +1 (QR of a Gaussian)."""
    rng = np.random.RandomState(seed)
    q, r = np.linalg.qr(rng.normal(size=(channels, channels)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def _lu(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`(P, L, U)` with `w = P @ L @ U`: permutation, unit lower and upper triangular factors
    (partial pivoting, `tf.linalg.lu` in float64)."""
    with tf.init_scope():  # NumPy values even when a model is built inside a `tf.function`
        packed, perm = tf.linalg.lu(tf.constant(w, tf.float64))
        packed, perm = packed.numpy(), perm.numpy()
    c = w.shape[0]
    permutation = np.zeros((c, c))
    permutation[perm, np.arange(c)] = 1.0  # tf.linalg.lu factors the rows w[perm] = L U
    return permutation, np.tril(packed, -1) + np.eye(c), np.triu(packed)


class InvertibleConv1x1(FlowBijector):
    """Invertible 1x1 convolution (Kingma & Dhariwal 2018, Sec. 3.2).

    Forward (data -> latent): `y[..., i] = sum_j W[i, j] x[..., j]` at every position of the
    event; `log|det J| = (h * w) * log|det W|`.

    With `lu_decomposed=True`, `W = P L (U + diag(sign * exp(log_s)))` with `P` a fixed
    permutation, `L` unit lower triangular and `U` strictly upper triangular; then
    `log|det W| = sum(log_s)`, O(c) instead of the O(c^3) `slogdet` of the plain version.
    Both start at a random rotation drawn from `seed` (so `log|det W| = 0`).

    Args:
        event_shape: event shape, `(h, w, c)` or `(c,)`.
        lu_decomposed: use the LU parameterisation.
        seed: seed of the initial rotation (part of the config, so rebuilding is exact).
        validate_args: TFP's `validate_args`.
        name: bijector name.
    """

    def __init__(
        self,
        event_shape: tuple[int, ...],
        lu_decomposed: bool = True,
        seed: int = 0,
        validate_args: bool = False,
        name: str = "invertible_conv1x1",
    ):
        parameters = dict(locals())
        self.event_shape_ = tuple(int(d) for d in event_shape)
        self.lu_decomposed = bool(lu_decomposed)
        self.seed = int(seed)
        c = self.event_shape_[-1]
        w = random_rotation(c, self.seed)
        dtype = parameter_dtype()
        if self.lu_decomposed:
            p, lower, upper = _lu(w)
            diag = np.diag(upper)
            self.params = ParameterSet(
                {
                    "permutation": (c, c),
                    "lower": (c, c),
                    "upper": (c, c),
                    "log_s": (c,),
                    "sign_s": (c,),
                },
                trainable_names=("lower", "upper", "log_s"),
                initial_values={
                    "permutation": p,
                    "lower": np.tril(lower, -1),
                    "upper": np.triu(upper, 1),
                    "log_s": np.log(np.abs(diag)),
                    "sign_s": np.sign(diag),
                },
                dtype=dtype,
                name=f"{name}_params",
            )
        else:
            self.params = ParameterSet(
                {"kernel": (c, c)},
                trainable_names=("kernel",),
                initial_values={"kernel": w},
                dtype=dtype,
                name=f"{name}_params",
            )
        self.keras_layers = (self.params,)
        self._pixels = int(np.prod(self.event_shape_[:-1], dtype=np.int64))
        super().__init__(
            forward_min_event_ndims=len(self.event_shape_),
            validate_args=validate_args,
            parameters=parameters,
            name=name,
        )

    def weight_and_log_det(self, dtype: tf.DType) -> tuple[tf.Tensor, tf.Tensor]:
        """`(W, log|det W|)` read from the current weights."""
        p = self.params
        if not self.lu_decomposed:
            w = tf.cast(p.kernel, dtype)
            # log|det W| = sum log|diag R| of W = QR; unlike `slogdet`, QR compiles with XLA.
            r = tf.linalg.qr(tf.cast(w, log_det_dtype(dtype)))[1]
            return w, tf.reduce_sum(tf.math.log(tf.abs(tf.linalg.diag_part(r))))
        c = self.event_shape_[-1]
        lower_mask = np.tril(np.ones((c, c)), -1)
        lower = tf.cast(p.lower, dtype) * lower_mask + tf.eye(c, dtype=dtype)
        log_s = tf.cast(p.log_s, dtype)
        upper = tf.cast(p.upper, dtype) * lower_mask.T + tf.linalg.diag(
            tf.cast(p.sign_s, dtype) * tf.exp(log_s)
        )
        w = tf.matmul(tf.cast(p.permutation, dtype), tf.matmul(lower, upper))
        return w, tf.reduce_sum(tf.cast(log_s, log_det_dtype(dtype)))

    def _apply(self, x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        c = self.event_shape_[-1]
        flat = tf.reshape(x, [-1, c])
        return tf.reshape(tf.matmul(flat, w, transpose_b=True), tf.shape(x))

    def _batch_log_det(self, x: tf.Tensor, log_det: tf.Tensor) -> tf.Tensor:
        shape = tf.shape(x)[: tf.rank(x) - len(self.event_shape_)]
        return tf.fill(shape, self._pixels * log_det)

    def _forward_and_log_det(self, x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x = check_float(x, self.name, "x")
        check_event(x, self.event_shape_, self.name, "x")
        w, log_det = self.weight_and_log_det(log_det_dtype(x.dtype))
        return self._apply(x, tf.cast(w, x.dtype)), self._batch_log_det(x, log_det)

    def _inverse_and_log_det(self, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        y = check_float(y, self.name, "y")
        check_event(y, self.event_shape_, self.name, "y")
        w, log_det = self.weight_and_log_det(log_det_dtype(y.dtype))
        w_inv = tf.cast(tf.linalg.inv(w), y.dtype)
        return self._apply(y, w_inv), -self._batch_log_det(y, log_det)
