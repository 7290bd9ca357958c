"""NICE's diagonal scaling layer: `y = x * exp(s)`, `log|det J| = sum(s)`."""

from __future__ import annotations

import tensorflow as tf

from tfflow.bijectors._validation import check_event, check_float
from tfflow.bijectors.flow_bijector import FlowBijector, log_det_dtype
from tfflow.layers.parameter_set import ParameterSet, parameter_dtype

__all__ = ["Scaling"]


class Scaling(FlowBijector):
    """Learned diagonal scaling over the event (Dinh et al. 2014, Sec. 3.3).

    Forward (data -> latent): `y = x * exp(s)` elementwise over an event of shape
    `event_shape`; `log|det J| = sum(s)`. `s` is a trainable Keras weight initialised at 0.

    Args:
        event_shape: shape of the event `s` covers.
        validate_args: TFP's `validate_args`.
        name: bijector name.
    """

    def __init__(
        self,
        event_shape: tuple[int, ...],
        validate_args: bool = False,
        name: str = "scaling",
    ):
        parameters = dict(locals())
        self.event_shape_ = tuple(int(d) for d in event_shape)
        self.params = ParameterSet(
            {"log_scale": self.event_shape_},
            trainable_names=("log_scale",),
            dtype=parameter_dtype(),
            name=f"{name}_params",
        )
        self.keras_layers = (self.params,)
        super().__init__(
            forward_min_event_ndims=len(self.event_shape_),
            # Constant in x, but trainable: TFP would cache the first value it computed.
            is_constant_jacobian=False,
            validate_args=validate_args,
            parameters=parameters,
            name=name,
        )

    def _log_scale(self, x):
        x = check_float(x, self.name)
        check_event(x, self.event_shape_, self.name)
        return x, tf.cast(self.params.log_scale, x.dtype)

    def _log_det(self, x, log_scale):
        total = tf.reduce_sum(tf.cast(log_scale, log_det_dtype(x.dtype)))
        rank = len(self.event_shape_)
        return tf.fill(tf.shape(x)[: tf.rank(x) - rank], total)

    def _forward_and_log_det(self, x):
        x, log_scale = self._log_scale(x)
        return x * tf.exp(log_scale), self._log_det(x, log_scale)

    def _inverse_and_log_det(self, y):
        y, log_scale = self._log_scale(y)
        return y * tf.exp(-log_scale), -self._log_det(y, log_scale)
