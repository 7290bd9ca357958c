"""`PartitionedCoupling`: the partition bookkeeping shared by the element-wise couplings."""

from __future__ import annotations

import tensorflow as tf

from tfflow.bijectors._validation import check_event, check_float
from tfflow.bijectors.conditioning import run_conditioner
from tfflow.bijectors.flow_bijector import FlowBijector

__all__ = ["PartitionedCoupling"]


class PartitionedCoupling(FlowBijector):
    """A coupling `y = merge(x1, g(x2; conditioner(x1)))` with per-element log-det terms.

    With `(x1, x2) = partition.split(x)` and an element-wise bijection `g` whose parameters
    come from the conditioner,

        forward:  y2 = g(x2; theta(x1)),   log|det J| = sum_i log|g'(x2_i)|
        inverse:  x2 = g^-1(y2; theta(y1)),  log|det J^-1| = -sum_i log|g'(x2_i)|

    Subclasses set `self.conditioner` and `self.partition` and implement
    `_forward_parts(x_cond, x_trans, context) -> (y_trans, terms)` and
    `_inverse_parts(y_cond, y_trans, context) -> (x_trans, terms)`, where `terms` are the
    per-element forward log-derivatives (so the inverse log-det is minus their sum). This
    class provides the whole-tensor and the halves forms the traversal uses, the input checks
    and the one entry point to the conditioner, `_conditioner_output`.
    """

    def _conditioner_output(self, x_cond: tf.Tensor, context: tf.Tensor | None = None) -> tf.Tensor:
        """The conditioner's output on `x_cond` (and the encoded `context`, if any)."""
        return run_conditioner(self.conditioner, x_cond, context, len(self.partition.event_shape))

    def _prepare(self, x: tf.Tensor, arg: str) -> tf.Tensor:
        x = check_float(x, self.name, arg)
        check_event(x, self.partition.event_shape, self.name, arg)
        return x

    def _forward_parts(
        self, x_cond: tf.Tensor, x_trans: tf.Tensor, context: tf.Tensor | None = None
    ) -> tuple[tf.Tensor, tf.Tensor]:
        raise NotImplementedError

    def _inverse_parts(
        self, y_cond: tf.Tensor, y_trans: tf.Tensor, context: tf.Tensor | None = None
    ) -> tuple[tf.Tensor, tf.Tensor]:
        raise NotImplementedError

    def _forward_and_log_det(
        self, x: tf.Tensor, context: tf.Tensor | None = None
    ) -> tuple[tf.Tensor, tf.Tensor]:
        x_cond, x_trans = self.partition.split(self._prepare(x, "x"))
        y_trans, terms = self._forward_parts(x_cond, x_trans, context)
        return self.partition.merge(x_cond, y_trans), self.partition.transformed_sum(terms)

    def _inverse_and_log_det(
        self, y: tf.Tensor, context: tf.Tensor | None = None
    ) -> tuple[tf.Tensor, tf.Tensor]:
        y_cond, y_trans = self.partition.split(self._prepare(y, "y"))
        x_trans, terms = self._inverse_parts(y_cond, y_trans, context)
        return self.partition.merge(y_cond, x_trans), -self.partition.transformed_sum(terms)

    def _forward_halves_and_log_det(
        self, first: tf.Tensor, second: tf.Tensor, context: tf.Tensor | None = None
    ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        x_cond, x_trans = self.partition.roles(first, second)
        y_trans, terms = self._forward_parts(x_cond, x_trans, context)
        return (*self.partition.roles(x_cond, y_trans), terms)

    def _inverse_halves_and_log_det(
        self, first: tf.Tensor, second: tf.Tensor, context: tf.Tensor | None = None
    ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        y_cond, y_trans = self.partition.roles(first, second)
        x_trans, terms = self._inverse_parts(y_cond, y_trans, context)
        return (*self.partition.roles(y_cond, x_trans), terms)
