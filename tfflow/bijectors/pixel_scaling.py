"""Affine rescaling of pixels, e.g. `[0, 256) -> [0, 1)` or Glow's `[-0.5, 0.5)`."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfflow.bijectors._validation import assert_in_range, check_event, check_float
from tfflow.bijectors.flow_bijector import FlowBijector, log_det_dtype

__all__ = ["PixelScaling"]


class PixelScaling(FlowBijector):
    """`y = x / 2**n_bits + shift` over an event of shape `event_shape`.

    Makes likelihoods of rescaled data densities over raw pixel values:
    `log|det J| = -D * n_bits * log 2` for an event of `D` values, so bits/dim of the model
    are on the `n_bits`-bit scale that published tables use.

    Args:
        event_shape: shape of one example.
        n_bits: bits per pixel of the data (8: values in [0, 256)).
        shift: added after scaling (-0.5 for Glow, 0 for RealNVP's logit preprocessing).
        validate_args: TFP's `validate_args`.
        name: bijector name.
    """

    def __init__(
        self,
        event_shape: tuple[int, ...],
        n_bits: int = 8,
        shift: float = 0.0,
        validate_args: bool = False,
        name: str = "pixel_scaling",
    ):
        parameters = dict(locals())
        if not 1 <= int(n_bits) <= 16:
            raise ValueError(f"`n_bits` must be an integer in [1, 16]; received {n_bits!r}.")
        self.event_shape_ = tuple(int(d) for d in event_shape)
        self.n_bits = int(n_bits)
        self.shift = float(shift)
        self._size = int(np.prod(self.event_shape_, dtype=np.int64))
        super().__init__(
            forward_min_event_ndims=len(self.event_shape_),
            is_constant_jacobian=True,
            validate_args=validate_args,
            parameters=parameters,
            name=name,
        )

    def _log_det(self, x: tf.Tensor, sign: float) -> tf.Tensor:
        value = sign * -self._size * self.n_bits * np.log(2.0)
        batch = tf.shape(x)[: tf.rank(x) - len(self.event_shape_)]
        return tf.fill(batch, tf.constant(value, log_det_dtype(x.dtype)))

    def _forward_and_log_det(self, x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x = check_float(x, self.name, "x")
        check_event(x, self.event_shape_, self.name, "x")
        if self.validate_args:
            x = assert_in_range(
                x, 0.0, 2.0**self.n_bits, f"{self.name}: pixels must lie in [0, {2**self.n_bits})"
            )
        y = x * tf.cast(2.0**-self.n_bits, x.dtype) + tf.cast(self.shift, x.dtype)
        return y, self._log_det(x, 1.0)

    def _inverse_and_log_det(self, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        y = check_float(y, self.name, "y")
        check_event(y, self.event_shape_, self.name, "y")
        x = (y - tf.cast(self.shift, y.dtype)) * tf.cast(2.0**self.n_bits, y.dtype)
        return x, self._log_det(y, -1.0)
