"""A learned context-dependent diagonal Gaussian prior folded into a bijector."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfflow.bijectors.gaussian_prior import GaussianPrior

__all__ = ["ContextPrior"]


class ContextPrior(GaussianPrior):
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
        # Zero-initialised: the flow starts with the unconditional base prior.
        self.dense = keras.layers.Dense(
            2 * self.checked_event_size(event_size),
            kernel_initializer="zeros",
            name=f"{name}_dense",
        )
        super().__init__(event_size, (self.dense,), parameters, validate_args, name)

    def _moments(
        self, x: tf.Tensor, context: tf.Tensor | None = None
    ) -> tuple[tf.Tensor, tf.Tensor]:
        if context is None:
            raise ValueError(f"{self.name}: this flow needs a `context`; received None.")
        context = tf.convert_to_tensor(context)
        flat = tf.reshape(context, [-1, context.shape[-1]])
        params = tf.cast(self.dense(flat), x.dtype)
        params = tf.reshape(params, tf.concat([tf.shape(context)[:-1], [2 * self.event_size]], 0))
        mean, log_sigma = tf.split(params, 2, axis=-1)
        return mean, log_sigma
