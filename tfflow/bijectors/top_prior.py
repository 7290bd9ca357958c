"""Glow's learned top prior (`learntop`): a trainable diagonal Gaussian over the top latent."""

from __future__ import annotations

import tensorflow as tf

from tfflow.bijectors.gaussian_prior import GaussianPrior
from tfflow.layers.parameter_set import ParameterSet, parameter_dtype

__all__ = ["LearnedTopPrior"]


class LearnedTopPrior(GaussianPrior):
    """Standardises a flat latent with a learned (unconditional) mean and log-scale.

    Forward (data -> latent), with trainable vectors `mu` and `log_sigma` of the latent's
    size:

        z = (x - mu) * exp(-log_sigma),    log|det J| = -sum(log_sigma)

    Placed on the top latent of a multi-scale flow (what the last level leaves), it makes
    that latent's prior `N(mu, diag(exp(log_sigma))^2)`: Glow's learned top prior.
    openai/glow's `--learntop` computes `mu` and `log_sigma` with a zero-initialised 3x3
    convolution of a zero input and its edge-padding indicator, so they vary by channel and
    only near the borders of the top feature map; here each latent entry has its own. Both
    vectors start at zero, so the model starts at the standard normal prior.

    Args:
        event_size: size of the flat latent.
        validate_args: TFP's `validate_args`.
        name: bijector name.

    Example:
        >>> prior = LearnedTopPrior(3)
        >>> prior.forward([[1.0, 2.0, 3.0]]).numpy()  # the identity at initialisation
        array([[1., 2., 3.]], dtype=float32)

    References:
        Kingma, Dhariwal. Glow: Generative Flow with Invertible 1x1 Convolutions.
        arXiv:1807.03039.
    """

    def __init__(self, event_size: int, validate_args: bool = False, name: str = "top_prior"):
        parameters = dict(locals())
        shape = (self.checked_event_size(event_size),)
        self.params = ParameterSet(
            {"mean": shape, "log_sigma": shape},
            trainable_names=("mean", "log_sigma"),
            dtype=parameter_dtype(),
            name=f"{name}_params",
        )
        super().__init__(event_size, (self.params,), parameters, validate_args, name)

    def _moments(self, x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        mean = tf.cast(self.params.mean, x.dtype)
        log_sigma = tf.cast(self.params.log_sigma, x.dtype)
        return mean, log_sigma
