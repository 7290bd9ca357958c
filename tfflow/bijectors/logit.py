"""RealNVP's logit preprocessing: `y = logit(alpha + (1 - 2 alpha) x)` for `x` in [0, 1]."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfflow.bijectors._validation import assert_in_range, check_event, check_float
from tfflow.bijectors.flow_bijector import FlowBijector, log_det_dtype
from tfflow.bijectors.pixel_scaling import PixelScaling

__all__ = ["Logit", "logit_preprocessing"]


class Logit(FlowBijector):
    """Maps `[0, 1]` to the real line, shrunk by `alpha` away from the boundaries.

    Forward: `u = alpha + (1 - 2 alpha) x`, `y = log u - log(1 - u)`;
    `log|det J| = sum(log(1 - 2 alpha) - log u - log(1 - u))`
    (Dinh et al. 2016, Sec. 4.1; alpha = 0.05 there, 1e-6 in MAF's MNIST setup).

    Outside `[0, 1]` the transform is undefined; models report `log_prob = -inf` there, and
    with `validate_args=True` this bijector raises `InvalidArgumentError`.

    Args:
        event_shape: shape of one example.
        alpha: boundary shrinkage in `[0, 0.5)`.
        validate_args: TFP's `validate_args`.
        name: bijector name.
    """

    def __init__(
        self,
        event_shape: tuple[int, ...],
        alpha: float = 0.05,
        validate_args: bool = False,
        name: str = "logit",
    ):
        parameters = dict(locals())
        if not 0.0 <= float(alpha) < 0.5:
            raise ValueError(f"`alpha` must lie in [0, 0.5); received {alpha!r}.")
        self.event_shape_ = tuple(int(d) for d in event_shape)
        self.alpha = float(alpha)
        super().__init__(
            forward_min_event_ndims=len(self.event_shape_),
            validate_args=validate_args,
            parameters=parameters,
            name=name,
        )

    def _sum(self, values: tf.Tensor) -> tf.Tensor:
        return tf.reduce_sum(values, axis=list(range(-len(self.event_shape_), 0)))

    def _forward_and_log_det(self, x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x = check_float(x, self.name, "x")
        check_event(x, self.event_shape_, self.name, "x")
        if self.validate_args:
            x = assert_in_range(x, 0.0, 1.0 + 1e-7, f"{self.name}: `x` must lie in [0, 1]")
        a = tf.cast(self.alpha, x.dtype)
        u = a + (1.0 - 2.0 * a) * x
        log_u, log_1mu = tf.math.log(u), tf.math.log1p(-u)
        ldt = log_det_dtype(x.dtype)
        ldj = self._sum(tf.cast(np.log1p(-2.0 * self.alpha) - log_u - log_1mu, ldt))
        return log_u - log_1mu, ldj

    def _inverse_and_log_det(self, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        y = check_float(y, self.name, "y")
        check_event(y, self.event_shape_, self.name, "y")
        a = tf.cast(self.alpha, y.dtype)
        u = tf.sigmoid(y)
        x = (u - a) / (1.0 - 2.0 * a)
        ldt = log_det_dtype(y.dtype)
        # log u + log(1 - u) = -softplus(-y) - softplus(y), stable for large |y|.
        log_du = -tf.nn.softplus(-y) - tf.nn.softplus(y)
        ldj = self._sum(tf.cast(log_du - np.log1p(-2.0 * self.alpha), ldt))
        return x, ldj


def logit_preprocessing(
    event_shape: tuple[int, ...], n_bits: int, alpha: float
) -> list[FlowBijector]:
    """RealNVP's pixel preprocessing, in forward (data -> latent) order: `x / 2**n_bits`,
    then `Logit(alpha)`. The bijectors are named `pixel_scaling` and `logit`."""
    return [
        PixelScaling(event_shape, n_bits=n_bits, name="pixel_scaling"),
        Logit(event_shape, alpha=alpha, name="logit"),
    ]
