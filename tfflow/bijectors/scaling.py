"""NICE's diagonal scaling layer: `y = x * exp(s)`, `log|det J| = sum(s)`."""

from __future__ import annotations

import tensorflow as tf

from tfflow.bijectors._validation import check_event, check_float
from tfflow.bijectors.data_dependent import constant_log_det, initialize_from_batch
from tfflow.bijectors.flow_bijector import FlowBijector
from tfflow.layers.parameter_set import ParameterSet, parameter_dtype

__all__ = ["Scaling"]


class Scaling(FlowBijector):
    """Learned diagonal scaling over the event (Dinh et al. 2014, Sec. 3.3).

    Forward (data -> latent): `y = x * exp(s)` elementwise over an event of shape
    `event_shape`; `log|det J| = sum(s)`. `s` is a trainable Keras weight initialised at 0.

    With `data_init_scale` set, the first batch seen inside `data_dependent_init()` sets
    `s = log(data_init_scale / std(x))` per element (like ActNorm), so the output starts with
    the prior's spread instead of waiting for Adam to move `s` by ~lr per step; done once and
    saved.

    Args:
        event_shape: shape of the event `s` covers.
        data_init_scale: target standard deviation of the data-dependent init (None: no
            data-dependent init, `s` starts at 0 as in the NICE paper).
        validate_args: TFP's `validate_args`.
        name: bijector name.
    """

    def __init__(
        self,
        event_shape: tuple[int, ...],
        data_init_scale: float | None = None,
        validate_args: bool = False,
        name: str = "scaling",
    ):
        parameters = dict(locals())
        self.event_shape_ = tuple(int(d) for d in event_shape)
        self.data_init_scale = data_init_scale
        self.params = ParameterSet(
            {"log_scale": self.event_shape_, "initialized": ()},
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

    def _log_scale(self, x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x = check_float(x, self.name)
        check_event(x, self.event_shape_, self.name)
        return x, tf.cast(self.params.log_scale, x.dtype)

    def _log_det(self, x: tf.Tensor, log_scale: tf.Tensor) -> tf.Tensor:
        return constant_log_det(x, log_scale, len(self.event_shape_))

    @property
    def initialized(self) -> bool:
        return self.data_init_scale is None or bool(self.params.initialized.numpy() > 0)

    def _maybe_initialize(self, x: tf.Tensor) -> None:
        if self.data_init_scale is None:
            return
        initialize_from_batch(
            self.params,
            x,
            batch_axes=range(x.shape.rank - len(self.event_shape_)),
            target_scale=self.data_init_scale,
            center=False,
        )

    def _forward_and_log_det(self, x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        self._maybe_initialize(tf.convert_to_tensor(x))
        x, log_scale = self._log_scale(x)
        return x * tf.exp(log_scale), self._log_det(x, log_scale)

    def _inverse_and_log_det(self, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        y, log_scale = self._log_scale(y)
        return y * tf.exp(-log_scale), -self._log_det(y, log_scale)
