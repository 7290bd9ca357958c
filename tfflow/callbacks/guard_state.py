"""`GuardState`: the per-batch values a model's train step records for `DivergenceGuard`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from tfflow.layers.parameter_set import tf_variable

__all__ = ["GuardState"]


def _like(variable: tf.Variable) -> tf.Variable:
    """A zero-initialised, untrained variable with `variable`'s shape, dtype and replica
    synchronisation (so each replica keeps its own copy of a per-replica variable)."""
    return tf.Variable(
        tf.zeros(variable.shape, variable.dtype),
        trainable=False,
        synchronization=variable.synchronization,
        aggregation=variable.aggregation,
    )


class GuardState:
    """Per-batch training values that `DivergenceGuard` reads after each batch.

    `FlowModel.fit` creates one (in the model's strategy scope) when a guard is in use and
    keeps it as `model.guard_state`; `FlowModel.train_step` calls `record_inputs` on the batch,
    `save_metrics` before it updates the model's metrics, and assigns the batch's mean NLL to
    `batch_loss`. These are plain TF variables synchronised on read across replicas (the mean
    loss, the summed count of non-finite values), not Keras weights: they are never saved.

    The metric copies let the guard take a diverged batch back out of the epoch's metrics
    without reading them to the host after every good batch: `metric_backups` hold the metric
    states from before the latest batch, written inside the train step.

    Attributes:
        batch_loss: mean negative log-likelihood of the last batch, in nats.
        nonfinite_inputs: number of NaN/inf values in the last batch.
        input_min, input_max: the range of the last batch's finite values.
        metric_backups: copies of the tracked metric variables (`track_metrics`) as they
            were before the last batch updated them; empty until tracked.

    >>> import tensorflow as tf
    >>> state = GuardState()
    >>> total = tf.Variable(2.0)
    >>> state.track_metrics([total])
    >>> state.save_metrics([total])
    >>> _ = total.assign_add(float("nan"))
    >>> state.restore_metrics([total])
    True
    >>> float(total.numpy())
    2.0
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
        self.metric_backups: list[tf.Variable] = []

    def record_inputs(self, x: tf.Tensor) -> None:
        """Records the count of non-finite values of batch `x` and its finite range."""
        x = tf.cast(x, tf.float32)
        finite = tf.math.is_finite(x)
        self.nonfinite_inputs.assign(tf.reduce_sum(tf.cast(~finite, tf.float32)))
        self.input_min.assign(tf.reduce_min(tf.where(finite, x, np.inf)))
        self.input_max.assign(tf.reduce_max(tf.where(finite, x, -np.inf)))

    def track_metrics(self, variables: Sequence) -> None:
        """Creates a backup for each metric variable (TF or Keras variables), unless the
        backups already match them in number, shapes and dtypes. Call it eagerly (in the
        strategy scope that created the variables), before the train step is traced."""
        variables = [tf_variable(v) for v in variables]
        if _matches(self.metric_backups, variables):
            return
        self.metric_backups = [_like(v) for v in variables]

    def save_metrics(self, variables: Sequence) -> None:
        """Copies the metric variables into their backups (inside the train step, before the
        metrics are updated); does nothing when they are not tracked."""
        variables = [tf_variable(v) for v in variables]
        if not _matches(self.metric_backups, variables):
            return
        for backup, v in zip(self.metric_backups, variables, strict=True):
            backup.assign(v.read_value())

    def restore_metrics(self, variables: Sequence) -> bool:
        """Returns the metric variables to their backups; False (and nothing changed) when
        they are not tracked."""
        variables = [tf_variable(v) for v in variables]
        if not _matches(self.metric_backups, variables):
            return False
        for v, backup in zip(variables, self.metric_backups, strict=True):
            v.assign(backup.read_value())
        return True


def _matches(backups: Sequence[tf.Variable], variables: Sequence[tf.Variable]) -> bool:
    return len(backups) == len(variables) and all(
        b.shape == v.shape and b.dtype == v.dtype for b, v in zip(backups, variables, strict=True)
    )
