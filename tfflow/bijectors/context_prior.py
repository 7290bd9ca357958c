"""A learned context-dependent diagonal Gaussian prior folded into a bijector."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfflow.bijectors._validation import check_event, check_float
from tfflow.bijectors.flow_bijector import FlowBijector, log_det_dtype

__all__ = ["ContextPrior"]


class ContextPrior(FlowBijector):
    """Standardises a flat latent with a mean and log-scale predicted from a context.

    Forward (data -> latent), with `h` an encoded context vector `(batch..., f)` (models
    average image feature maps over their positions first) and `(mu, log_sigma) = Dense(h)`:

        z = (x - mu(h)) * exp(-log_sigma(h)),    log|det J| = -sum(log_sigma(h))

    With a standard normal base the latent prior becomes `N(mu(h), exp(log_sigma(h)))`:
    Glow's learned class-conditional top prior (`ycond`), generalised from one-hot labels
    to any context. The dense layer starts at zero, so the prior starts as the base.

    Call with the conditional keyword argument `context` (the encoded context), e.g.
    `flow.forward(x, context_prior={"context": h})` inside a `tfb.Chain`.

    Args:
        event_size: size of the flat latent.
        validate_args: TFP's `validate_args`.
        name: bijector name (the key for conditional keyword arguments).
    """

    def __init__(self, event_size: int, validate_args: bool = False, name: str = "context_prior"):
        parameters = dict(locals())
        self.event_size = int(event_size)
        # Zero-initialised: the flow starts with the unconditional base prior.
        self.dense = keras.layers.Dense(
            2 * self.event_size, kernel_initializer="zeros", name=f"{name}_dense"
        )
        self.keras_layers = (self.dense,)
        super().__init__(
            forward_min_event_ndims=1,
            validate_args=validate_args,
            parameters=parameters,
            name=name,
        )

    def _moments(
        self, x: tf.Tensor, context: tf.Tensor | None, arg: str
    ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        x = check_float(x, self.name, arg)
        check_event(x, (self.event_size,), self.name, arg)
        if context is None:
            raise ValueError(f"{self.name}: this flow needs a `context`; received None.")
        context = tf.convert_to_tensor(context)
        flat = tf.reshape(context, [-1, context.shape[-1]])
        params = tf.cast(self.dense(flat), x.dtype)
        params = tf.reshape(params, tf.concat([tf.shape(context)[:-1], [2 * self.event_size]], 0))
        mean, log_sigma = tf.split(params, 2, axis=-1)
        return x, mean, log_sigma

    def _forward_and_log_det(
        self, x: tf.Tensor, context: tf.Tensor | None = None
    ) -> tuple[tf.Tensor, tf.Tensor]:
        x, mean, log_sigma = self._moments(x, context, "x")
        ldj = -tf.reduce_sum(tf.cast(log_sigma, log_det_dtype(x.dtype)), -1)
        z = (x - mean) * tf.exp(-log_sigma)
        return z, ldj + tf.zeros(tf.shape(z)[:-1], ldj.dtype)

    def _inverse_and_log_det(
        self, z: tf.Tensor, context: tf.Tensor | None = None
    ) -> tuple[tf.Tensor, tf.Tensor]:
        z, mean, log_sigma = self._moments(z, context, "z")
        ldj = tf.reduce_sum(tf.cast(log_sigma, log_det_dtype(z.dtype)), -1)
        x = z * tf.exp(log_sigma) + mean
        return x, ldj + tf.zeros(tf.shape(x)[:-1], ldj.dtype)
