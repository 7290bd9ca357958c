"""The base of the learned diagonal Gaussian priors that tfflow folds into a flow's bijector."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf

from tfflow.bijectors._validation import check_event, check_float
from tfflow.bijectors.flow_bijector import FlowBijector, log_det_dtype

__all__ = ["GaussianPrior"]


class GaussianPrior(FlowBijector):
    """Standardises a flat latent with a learned mean and log-scale.

    Forward (data -> latent), with `(mu, log_sigma)` given by the subclass's `_moments`:

        z = (x - mu) * exp(-log_sigma),    log|det J| = -sum(log_sigma)

    With a standard normal base the latent's prior becomes `N(mu, diag(exp(log_sigma))^2)`
    while the model's base distribution, its noise draw (temperature included) and its
    TFP `distribution` stay those of a standard normal: the prior is part of the bijector,
    so `log_prob`, `sample`, saving and export need no special case. Subclasses start at
    `mu = 0`, `log_sigma = 0` (the identity), so the model starts at the standard normal.

    Subclasses: `LearnedTopPrior` (unconditional), `ClassConditionalPrior` (per class),
    `ContextPrior` (predicted from a context). They implement
    `_moments(x, **kwargs) -> (mean, log_sigma)` in `x`'s dtype, broadcastable to `x`, for
    the conditional keyword arguments `kwargs` of the call.

    Args:
        event_size: size of the flat latent (> 0).
        keras_layers: the Keras layers holding the prior's parameters.
        parameters: the subclass's `dict(locals())` (TFP's `parameters`).
        validate_args: TFP's `validate_args`.
        name: bijector name (the key for conditional keyword arguments).

    Raises:
        ValueError: if `event_size` is not a positive integer.
    """

    def __init__(
        self,
        event_size: int,
        keras_layers: Sequence[keras.layers.Layer],
        parameters: dict,
        validate_args: bool,
        name: str,
    ):
        self.event_size = self.checked_event_size(event_size)
        self.keras_layers = tuple(keras_layers)
        super().__init__(
            forward_min_event_ndims=1,
            validate_args=validate_args,
            parameters=parameters,
            name=name,
        )

    @staticmethod
    def checked_event_size(event_size: int) -> int:
        """`event_size` as an `int`; `ValueError` unless it is a positive integer (subclasses
        call it before sizing their parameters)."""
        if isinstance(event_size, bool) or int(event_size) != event_size or event_size < 1:
            raise ValueError(f"`event_size` must be a positive integer; received {event_size!r}.")
        return int(event_size)

    def _moments(self, x: tf.Tensor, **kwargs: Any) -> tuple[tf.Tensor, tf.Tensor]:
        """`(mean, log_sigma)` for the flat latent `x` (already checked)."""
        raise NotImplementedError

    def _checked_moments(
        self, x: tf.Tensor, arg: str, kwargs: dict
    ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        x = check_float(x, self.name, arg)
        check_event(x, (self.event_size,), self.name, arg)
        mean, log_sigma = self._moments(x, **kwargs)
        return x, mean, log_sigma

    def _forward_and_log_det(self, x: tf.Tensor, **kwargs: Any) -> tuple[tf.Tensor, tf.Tensor]:
        x, mean, log_sigma = self._checked_moments(x, "x", kwargs)
        ldj = -tf.reduce_sum(tf.cast(log_sigma, log_det_dtype(x.dtype)), -1)
        z = (x - mean) * tf.exp(-log_sigma)
        return z, ldj + tf.zeros(tf.shape(z)[:-1], ldj.dtype)

    def _inverse_and_log_det(self, z: tf.Tensor, **kwargs: Any) -> tuple[tf.Tensor, tf.Tensor]:
        z, mean, log_sigma = self._checked_moments(z, "z", kwargs)
        ldj = tf.reduce_sum(tf.cast(log_sigma, log_det_dtype(z.dtype)), -1)
        x = z * tf.exp(log_sigma) + mean
        return x, ldj + tf.zeros(tf.shape(x)[:-1], ldj.dtype)
