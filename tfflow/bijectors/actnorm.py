"""ActNorm (Glow): per-channel affine `y = (x + b) * exp(s)` with data-dependent init."""

from __future__ import annotations

import tensorflow as tf

from tfflow.bijectors._validation import check_event, check_float
from tfflow.bijectors.data_dependent import (
    constant_log_det,
    data_dependent_init,
    initialize_from_batch,
    is_initializing,
)
from tfflow.bijectors.flow_bijector import FlowBijector
from tfflow.layers.parameter_set import ParameterSet, parameter_dtype

# `data_dependent_init` and `is_initializing` live in `tfflow.bijectors.data_dependent`; they
# stay importable from here, where they were first defined.
__all__ = ["ActNorm", "data_dependent_init", "is_initializing"]


class ActNorm(FlowBijector):
    """Activation normalisation (Kingma & Dhariwal 2018, Sec. 3.1).

    Forward (data -> latent): `y = (x + b) * exp(s)` per channel (last axis);
    `log|det J| = (prod of the other event dims) * sum(s)`.

    Args:
        event_shape: event shape, e.g. `(h, w, c)` for images or `(d,)` for vectors; the
            parameters are per last-axis channel.
        init_scale: target standard deviation after data-dependent init (1).
        validate_args: TFP's `validate_args`.
        name: bijector name.
    """

    def __init__(
        self,
        event_shape: tuple[int, ...],
        init_scale: float = 1.0,
        validate_args: bool = False,
        name: str = "actnorm",
    ):
        parameters = dict(locals())
        self.event_shape_ = tuple(int(d) for d in event_shape)
        self.init_scale = float(init_scale)
        channels = self.event_shape_[-1]
        self.params = ParameterSet(
            {"bias": (channels,), "log_scale": (channels,), "initialized": ()},
            trainable_names=("bias", "log_scale"),
            dtype=parameter_dtype(),
            name=f"{name}_params",
        )
        self.keras_layers = (self.params,)
        super().__init__(
            forward_min_event_ndims=len(self.event_shape_),
            validate_args=validate_args,
            parameters=parameters,
            name=name,
        )

    @property
    def initialized(self) -> bool:
        return bool(self.params.initialized.numpy() > 0)

    def _maybe_initialize(self, x: tf.Tensor) -> None:
        initialize_from_batch(
            self.params,
            x,
            batch_axes=range(x.shape.rank - 1),
            target_scale=self.init_scale,
            center=True,
        )

    def _params(self, x: tf.Tensor, arg: str) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        x = check_float(x, self.name, arg)
        check_event(x, self.event_shape_, self.name, arg)
        return x, tf.cast(self.params.bias, x.dtype), tf.cast(self.params.log_scale, x.dtype)

    def _log_det(self, x: tf.Tensor, log_scale: tf.Tensor) -> tf.Tensor:
        pixels = 1
        for d in self.event_shape_[:-1]:
            pixels *= d
        return constant_log_det(x, log_scale, len(self.event_shape_), repeats=pixels)

    def _forward_and_log_det(self, x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x = check_float(x, self.name, "x")
        self._maybe_initialize(x)
        x, bias, log_scale = self._params(x, "x")
        return (x + bias) * tf.exp(log_scale), self._log_det(x, log_scale)

    def _inverse_and_log_det(self, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        y, bias, log_scale = self._params(y, "y")
        return y / tf.exp(log_scale) - bias, -self._log_det(y, log_scale)
