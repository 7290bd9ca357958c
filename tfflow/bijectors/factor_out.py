"""Multi-scale factor-out ("split"): half the channels leave the flow at each scale."""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfflow.bijectors._validation import check_event, check_float
from tfflow.bijectors.flow_bijector import (
    FlowBijector,
    call_with_flat_batch,
    collect_keras_layers,
    forward_and_log_det,
    inverse_and_log_det,
    log_det_dtype,
)
from tfflow.layers.zero_conv import ZeroConv2D

tfb = tfp.bijectors

__all__ = ["FactorOut"]


class FactorOut(FlowBijector):
    """Factors out half of an image's channels; the rest go through `inner`.

    Forward (data -> latent), for `x` of event shape `(h, w, c)`:
        (x1, x2) = (x[..., :c1], x[..., c1:])        # c1 = c - c // 2 channels stay
        z2 = (x2 - mu(x1)) * exp(-log_sigma(x1))    # learned prior (Glow), else z2 = x2
        z = concat([flatten(z2), inner(x1)])        # a flat latent vector of h*w*c entries
        log|det J| = -sum(log_sigma(x1)) + log|det J_inner|

    With `learned_prior=True` the factored-out half's conditional Gaussian
    `N(mu(x1), exp(log_sigma(x1)))` (predicted by a zero-initialised 3x3 conv, as in Glow's
    `split2d`) is folded into the bijector, so the base distribution stays a standard normal
    and sampling at temperature T scales `z2`'s noise as Glow does. RealNVP uses
    `learned_prior=False`.

    Args:
        event_shape: `(h, w, c)` of the input.
        inner: bijector taking `x1` of shape `(h, w, c1)` to a flat vector `(h * w * c1,)`,
            e.g. the next scale followed by `tfb.Reshape`.
        learned_prior: fold Glow's learned conditional prior into the bijector.
        validate_args: TFP's `validate_args`.
        name: bijector name.

    Conditional keyword arguments (e.g. a context for the couplings of `inner`) are those
    of `inner`'s bijectors, keyed by their names as in `tfflow.bijectors.forward_and_log_det`.
    """

    def __init__(
        self,
        event_shape: tuple[int, int, int],
        inner: tfb.Bijector,
        learned_prior: bool = True,
        validate_args: bool = False,
        name: str = "factor_out",
    ):
        parameters = dict(locals())
        self.event_shape_ = tuple(int(d) for d in event_shape)
        if len(self.event_shape_) != 3 or self.event_shape_[-1] < 2:
            raise ValueError(
                f"`event_shape` must be (height, width, channels) with channels >= 2; "
                f"received {event_shape!r}."
            )
        h, w, c = self.event_shape_
        self.kept_channels = c - c // 2
        self.out_channels = c // 2
        self.inner = inner
        self.learned_prior = bool(learned_prior)
        self.prior = (
            ZeroConv2D(2 * self.out_channels, name=f"{name}_prior") if learned_prior else None
        )
        layers = []
        if self.prior is not None:
            self.prior.build((None, h, w, self.kept_channels))
            layers.append(self.prior)
        self.keras_layers = tuple(layers) + tuple(collect_keras_layers(inner))
        self._size = h * w * c
        self._out_size = h * w * self.out_channels
        super().__init__(
            forward_min_event_ndims=3,
            inverse_min_event_ndims=1,
            validate_args=validate_args,
            parameters=parameters,
            name=name,
        )

    def _prior(self, x1: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        params = tf.cast(call_with_flat_batch(self.prior, x1, 3), x1.dtype)
        mean, log_sigma = tf.split(params, 2, axis=-1)
        return mean, log_sigma

    def _forward_and_log_det(
        self, x: tf.Tensor, **inner_kwargs: Any
    ) -> tuple[tf.Tensor, tf.Tensor]:
        x = check_float(x, self.name, "x")
        check_event(x, self.event_shape_, self.name, "x")
        x1, x2 = tf.split(x, [self.kept_channels, self.out_channels], axis=-1)
        z_inner, ldj = forward_and_log_det(self.inner, x1, **inner_kwargs)
        if self.learned_prior:
            mean, log_sigma = self._prior(x1)
            x2 = (x2 - mean) / tf.exp(log_sigma)
            ldj = ldj - tf.reduce_sum(tf.cast(log_sigma, log_det_dtype(x.dtype)), axis=[-3, -2, -1])
        batch = tf.shape(x)[:-3]
        z2 = tf.reshape(x2, tf.concat([batch, [self._out_size]], 0))
        z = tf.concat([z2, tf.cast(z_inner, x.dtype)], axis=-1)
        return tf.ensure_shape(z, x.shape[:-3].concatenate([self._size])), ldj

    def _inverse_and_log_det(
        self, z: tf.Tensor, **inner_kwargs: Any
    ) -> tuple[tf.Tensor, tf.Tensor]:
        z = check_float(z, self.name, "z")
        check_event(z, (self._size,), self.name, "z")
        h, w, _ = self.event_shape_
        batch = tf.shape(z)[:-1]
        z2, z_inner = tf.split(z, [self._out_size, self._size - self._out_size], axis=-1)
        x2 = tf.reshape(z2, tf.concat([batch, [h, w, self.out_channels]], 0))
        x1, ldj = inverse_and_log_det(self.inner, z_inner, **inner_kwargs)
        if self.learned_prior:
            mean, log_sigma = self._prior(x1)
            x2 = x2 * tf.exp(log_sigma) + mean
            ldj = ldj + tf.reduce_sum(tf.cast(log_sigma, log_det_dtype(z.dtype)), axis=[-3, -2, -1])
        x = tf.concat([x1, x2], axis=-1)
        return tf.ensure_shape(x, z.shape[:-1].concatenate(self.event_shape_)), ldj

    def _forward_event_shape(self, input_shape: tf.TensorShape) -> tf.TensorShape:
        return tf.TensorShape([self._size])

    def _inverse_event_shape(self, output_shape: tf.TensorShape) -> tf.TensorShape:
        return tf.TensorShape(self.event_shape_)

    def _forward_event_shape_tensor(self, input_shape: tf.Tensor) -> tf.Tensor:
        return tf.constant([self._size], tf.int32)

    def _inverse_event_shape_tensor(self, output_shape: tf.Tensor) -> tf.Tensor:
        return tf.constant(np.array(self.event_shape_, np.int32))
