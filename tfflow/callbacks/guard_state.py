"""`GuardState`: the per-batch values a model's train step records for `DivergenceGuard`."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = ["GuardState"]


class GuardState:
    """Per-batch training values that `DivergenceGuard` reads after each batch.

    `FlowModel.fit` creates one (in the model's strategy scope) when a guard is in use and
    keeps it as `model.guard_state`; `FlowModel.train_step` calls `record_inputs` on the batch
    and assigns the batch's mean NLL to `batch_loss`. These are plain TF variables synchronised
    on read across replicas (the mean loss, the summed count of non-finite values), not Keras
    weights: they are never saved.

    Attributes:
        batch_loss: mean negative log-likelihood of the last batch, in nats.
        nonfinite_inputs: number of NaN/inf values in the last batch.
        input_min, input_max: the range of the last batch's finite values.
    """

    def __init__(self):
        def variable(value: float, aggregation: tf.VariableAggregation) -> tf.Variable:
            return tf.Variable(
                value,
                trainable=False,
                synchronization=tf.VariableSynchronization.ON_READ,
                aggregation=aggregation,
            )

        self.batch_loss = variable(0.0, tf.VariableAggregation.MEAN)
        self.nonfinite_inputs = variable(0.0, tf.VariableAggregation.SUM)
        self.input_min = variable(0.0, tf.VariableAggregation.MEAN)
        self.input_max = variable(0.0, tf.VariableAggregation.MEAN)

    def record_inputs(self, x: tf.Tensor) -> None:
        """Records the count of non-finite values of batch `x` and its finite range."""
        x = tf.cast(x, tf.float32)
        finite = tf.math.is_finite(x)
        self.nonfinite_inputs.assign(tf.reduce_sum(tf.cast(~finite, tf.float32)))
        self.input_min.assign(tf.reduce_min(tf.where(finite, x, np.inf)))
        self.input_max.assign(tf.reduce_max(tf.where(finite, x, -np.inf)))
