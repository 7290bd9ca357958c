"""The support of pixel data, `[0, 2**n_bits)` per value, as a bijector."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfflow.bijectors._validation import check_event, check_float
from tfflow.bijectors.flow_bijector import FlowBijector, log_det_dtype

__all__ = ["PixelSupport"]


class PixelSupport(FlowBijector):
    """Identity on `[0, 2**n_bits)^D`; log-density `-inf` for events outside it.

    A pixel model's density is zero outside the pixel range, so its `log_prob` there is
    `-inf`. Placed first in a flow (the data end), this bijector gives every way of
    evaluating the density the same answer, whether the model's own `log_prob`, TFP's
    `TransformedDistribution.log_prob` or a user's composition:

        forward(x) = x                        if every value of the event is in range
                     2**(n_bits - 1)          (each value) otherwise
        fldj(x)    = 0 in range, -inf otherwise
        ildj(y)    = 0 in range, +inf otherwise  (so fldj(x) == -ildj(forward(x)))

    Out-of-range events are replaced by the centre of the range before the rest of the flow
    sees them, so no NaN appears in the log-density or in its gradients; their `-inf` is
    exactly the log-determinant.

    Args:
        event_shape: shape of one example.
        n_bits: bits per pixel of the data.
        validate_args: TFP's `validate_args`.
        name: bijector name.

    Example:
        >>> support = PixelSupport((2,), n_bits=8)
        >>> support.forward_log_det_jacobian(tf.constant([[0.0, 255.5], [-1.0, 3.0]])).numpy()
        array([  0., -inf], dtype=float32)
    """

    def __init__(
        self,
        event_shape: tuple[int, ...],
        n_bits: int = 8,
        validate_args: bool = False,
        name: str = "pixel_support",
    ):
        parameters = dict(locals())
        if not 1 <= int(n_bits) <= 16:
            raise ValueError(f"`n_bits` must be an integer in [1, 16]; received {n_bits!r}.")
        self.event_shape_ = tuple(int(d) for d in event_shape)
        self.n_bits = int(n_bits)
        super().__init__(
            forward_min_event_ndims=len(self.event_shape_),
            validate_args=validate_args,
            parameters=parameters,
            name=name,
        )

    def _in_support(self, x: tf.Tensor) -> tf.Tensor:
        high = tf.cast(2.0**self.n_bits, x.dtype)
        axes = list(range(-len(self.event_shape_), 0))
        return tf.reduce_all((x >= 0) & (x < high), axis=axes)

    def _log_det(self, in_support: tf.Tensor, dtype: tf.DType, outside: float) -> tf.Tensor:
        dtype = log_det_dtype(dtype)
        return tf.where(in_support, tf.zeros([], dtype), tf.constant(outside, dtype))

    def _forward_and_log_det(self, x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x = check_float(x, self.name, "x")
        check_event(x, self.event_shape_, self.name, "x")
        in_support = self._in_support(x)
        mask = tf.reshape(
            in_support, tf.concat([tf.shape(in_support), [1] * len(self.event_shape_)], 0)
        )
        centre = tf.cast(2.0 ** (self.n_bits - 1), x.dtype)
        y = tf.where(mask, x, tf.fill(tf.shape(x), centre))
        return y, self._log_det(in_support, x.dtype, -np.inf)

    def _inverse_and_log_det(self, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        y = check_float(y, self.name, "y")
        check_event(y, self.event_shape_, self.name, "y")
        return y, self._log_det(self._in_support(y), y.dtype, np.inf)
