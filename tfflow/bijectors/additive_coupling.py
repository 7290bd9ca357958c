"""Additive coupling (NICE): `y2 = x2 + m(x1)`, `y1 = x1`, log-det 0."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfflow.bijectors._validation import check_event, check_float
from tfflow.bijectors.conditioning import run_conditioner
from tfflow.bijectors.flow_bijector import FlowBijector, log_det_dtype
from tfflow.bijectors.partitions import Partition

__all__ = ["AdditiveCoupling"]


class AdditiveCoupling(FlowBijector):
    """NICE's additive coupling layer, volume preserving.

    Forward (data -> latent): `(x1, x2) = split(x)`, `y2 = x2 + m(x1)`, `y = merge(x1, y2)`.
    Inverse: `x2 = y2 - m(y1)`. The Jacobian is unit triangular, so `log|det J| = 0`.

    Args:
        conditioner: Keras layer mapping the conditioning part to the transformed part's size.
        partition: a `Partition` (NICE uses `"odd_even"` with alternating parity).
            With a context (the conditional keyword argument `context`, an encoded context
            tensor), the conditioner reads `concat(x1, context)`
            (`tfflow.bijectors.conditioning`).
        validate_args: TFP's `validate_args`.
        name: bijector name.

    References:
        Dinh, Krueger, Bengio. NICE: Non-linear Independent Components Estimation.
        arXiv:1410.8516.
    """

    def __init__(
        self,
        conditioner: keras.layers.Layer,
        partition: Partition,
        validate_args: bool = False,
        name: str = "additive_coupling",
    ):
        parameters = dict(locals())
        self.conditioner = conditioner
        self.partition = partition
        self.keras_layers = (conditioner,)
        self.halves_event_shape = partition.event_shape if partition.splits_halves else None
        super().__init__(
            forward_min_event_ndims=len(partition.event_shape),
            is_constant_jacobian=True,
            validate_args=validate_args,
            parameters=parameters,
            name=name,
        )

    def _conditioner_output(self, x_cond: tf.Tensor, context: tf.Tensor | None = None) -> tf.Tensor:
        """The conditioner's output on `x_cond` (and the encoded `context`, if any)."""
        return run_conditioner(self.conditioner, x_cond, context, len(self.partition.event_shape))

    def _shift(self, x_cond: tf.Tensor, context: tf.Tensor | None = None) -> tf.Tensor:
        return self.partition.restrict(self._conditioner_output(x_cond, context))

    def _zero_log_det(self, x: tf.Tensor) -> tf.Tensor:
        rank = len(self.partition.event_shape)
        return tf.zeros(tf.shape(x)[: tf.rank(x) - rank], log_det_dtype(x.dtype))

    def _forward_and_log_det(
        self, x: tf.Tensor, context: tf.Tensor | None = None
    ) -> tuple[tf.Tensor, tf.Tensor]:
        x = check_float(x, self.name, "x")
        check_event(x, self.partition.event_shape, self.name, "x")
        x_cond, x_trans = self.partition.split(x)
        y = self.partition.merge(x_cond, x_trans + self._shift(x_cond, context))
        return y, self._zero_log_det(x)

    def _inverse_and_log_det(
        self, y: tf.Tensor, context: tf.Tensor | None = None
    ) -> tuple[tf.Tensor, tf.Tensor]:
        y = check_float(y, self.name, "y")
        check_event(y, self.partition.event_shape, self.name, "y")
        y_cond, y_trans = self.partition.split(y)
        x = self.partition.merge(y_cond, y_trans - self._shift(y_cond, context))
        return x, self._zero_log_det(y)

    def _forward_halves_and_log_det(
        self, first: tf.Tensor, second: tf.Tensor, context: tf.Tensor | None = None
    ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        x_cond, x_trans = self.partition.roles(first, second)
        y_trans = x_trans + self._shift(x_cond, context)
        return (*self.partition.roles(x_cond, y_trans), None)

    def _inverse_halves_and_log_det(
        self, first: tf.Tensor, second: tf.Tensor, context: tf.Tensor | None = None
    ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        y_cond, y_trans = self.partition.roles(first, second)
        x_trans = y_trans - self._shift(y_cond, context)
        return (*self.partition.roles(y_cond, x_trans), None)
