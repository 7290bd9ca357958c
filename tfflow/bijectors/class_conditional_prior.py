"""A class-conditional diagonal Gaussian prior folded into a bijector (Glow, Sec. 5)."""

from __future__ import annotations

import tensorflow as tf
from numpy.typing import ArrayLike

from tfflow.bijectors._validation import check_event, check_float
from tfflow.bijectors.flow_bijector import FlowBijector, log_det_dtype
from tfflow.layers.parameter_set import ParameterSet, parameter_dtype

__all__ = ["ClassConditionalPrior"]


class ClassConditionalPrior(FlowBijector):
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
        self.event_size = int(event_size)
        self.num_classes = int(num_classes)
        self.params = ParameterSet(
            {"mean": (num_classes, event_size), "log_sigma": (num_classes, event_size)},
            trainable_names=("mean", "log_sigma"),
            dtype=parameter_dtype(),
            name=f"{name}_params",
        )
        self.keras_layers = (self.params,)
        super().__init__(
            forward_min_event_ndims=1,
            validate_args=validate_args,
            parameters=parameters,
            name=name,
        )

    def _lookup(
        self, x: tf.Tensor, labels: tf.Tensor | ArrayLike | None, arg: str
    ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        x = check_float(x, self.name, arg)
        check_event(x, (self.event_size,), self.name, arg)
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
        return x, mean, log_sigma

    def _forward_and_log_det(
        self, x: tf.Tensor, labels: tf.Tensor | ArrayLike | None = None
    ) -> tuple[tf.Tensor, tf.Tensor]:
        x, mean, log_sigma = self._lookup(x, labels, "x")
        ldj = -tf.reduce_sum(tf.cast(log_sigma, log_det_dtype(x.dtype)), -1)
        return (x - mean) * tf.exp(-log_sigma), ldj + tf.zeros(tf.shape(x)[:-1], ldj.dtype)

    def _inverse_and_log_det(
        self, z: tf.Tensor, labels: tf.Tensor | ArrayLike | None = None
    ) -> tuple[tf.Tensor, tf.Tensor]:
        z, mean, log_sigma = self._lookup(z, labels, "z")
        ldj = tf.reduce_sum(tf.cast(log_sigma, log_det_dtype(z.dtype)), -1)
        return z * tf.exp(log_sigma) + mean, ldj + tf.zeros(tf.shape(z)[:-1], ldj.dtype)
