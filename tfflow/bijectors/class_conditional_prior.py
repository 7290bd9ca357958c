"""A class-conditional diagonal Gaussian prior folded into a bijector (Glow, Sec. 5)."""

from __future__ import annotations

import tensorflow as tf
from numpy.typing import ArrayLike

from tfflow.bijectors.gaussian_prior import GaussianPrior
from tfflow.layers.parameter_set import ParameterSet, parameter_dtype

__all__ = ["ClassConditionalPrior"]


class ClassConditionalPrior(GaussianPrior):
    """Standardises a flat latent with a learned per-class mean and log-scale.

    Forward (data -> latent): `z = (x - mu[y]) * exp(-log_sigma[y])`,
    `log|det J| = -sum(log_sigma[y])`, where `y` is the integer class label passed as the
    conditional keyword argument `labels`. With a standard normal base this makes the latent
    prior `N(mu[y], exp(log_sigma[y]))`, the class-conditional prior of Glow's conditional
    experiments (here over the whole latent). Both tables start at zero (identity).

    Use through `tfb.Chain`'s keyword routing: `flow.forward(x, class_prior={"labels": y})`.

    Args:
        event_size: size of the flat latent.
        num_classes: number of classes.
        validate_args: check at run time that labels lie in `[0, num_classes)`.
        name: bijector name (the key for conditional keyword arguments).
    """

    def __init__(
        self,
        event_size: int,
        num_classes: int,
        validate_args: bool = False,
        name: str = "class_prior",
    ):
        parameters = dict(locals())
        if int(num_classes) < 2:
            raise ValueError(f"`num_classes` must be >= 2; received {num_classes!r}.")
        self.num_classes = int(num_classes)
        shape = (self.num_classes, self.checked_event_size(event_size))
        self.params = ParameterSet(
            {"mean": shape, "log_sigma": shape},
            trainable_names=("mean", "log_sigma"),
            dtype=parameter_dtype(),
            name=f"{name}_params",
        )
        super().__init__(event_size, (self.params,), parameters, validate_args, name)

    def _moments(
        self, x: tf.Tensor, labels: tf.Tensor | ArrayLike | None = None
    ) -> tuple[tf.Tensor, tf.Tensor]:
        if labels is None:
            raise ValueError(
                f"{self.name}: this flow is class-conditional and needs `labels` (integers in "
                f"[0, {self.num_classes})); received None."
            )
        labels = tf.convert_to_tensor(labels)
        if not labels.dtype.is_integer:
            raise TypeError(
                f"{self.name}: `labels` must be integers; received {labels.dtype.name}."
            )
        labels = tf.cast(labels, tf.int32)
        if self.validate_args:
            message = f"{self.name}: `labels` must lie in [0, {self.num_classes})"
            checks = [
                tf.debugging.assert_non_negative(labels, message=message),
                tf.debugging.assert_less(labels, self.num_classes, message=message),
            ]
            with tf.control_dependencies(checks):
                labels = tf.identity(labels)
        # An out-of-range label gives NaN (never another class's prior): gather is clamped.
        valid = (labels >= 0) & (labels < self.num_classes)
        safe = tf.clip_by_value(labels, 0, self.num_classes - 1)
        mean = tf.cast(tf.gather(self.params.mean, safe), x.dtype)
        log_sigma = tf.cast(tf.gather(self.params.log_sigma, safe), x.dtype)
        nan = tf.cast(float("nan"), x.dtype)
        mean = tf.where(valid[..., None], mean, nan)
        return mean, log_sigma
