"""DivergenceGuard: roll back to the last good weights when training blows up."""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from tfflow._compat.keras import learning_rate_schedule
from tfflow.layers.parameter_set import tf_variable
from tfflow.optimizers.learning_rate import scale_learning_rate

__all__ = ["DivergenceGuard", "NonFiniteInputError", "TrainingDivergedError"]


class NonFiniteInputError(ValueError):
    """A training batch contained NaN or infinite values."""


class TrainingDivergedError(RuntimeError):
    """Training kept diverging: `DivergenceGuard` reached its `max_rollbacks`."""


class DivergenceGuard(keras.callbacks.Callback):
    """Keeps flow training finite without losing the run.

    After every batch it reads the batch's own negative log-likelihood (not the epoch's
    running mean) and the number of non-finite input values, both recorded by
    `FlowModel.train_step`:

    - non-finite inputs: restores the last good weights and raises `NonFiniteInputError`
      out of `fit`, naming the batch and its statistics (NaN data is a data bug, not a
      learning-rate problem);
    - a non-finite loss, or a loss above `spike_factor` x the running average (in nats per
      example, after `warmup_batches`): restores the last good weights and optimizer state,
      multiplies the learning rate in effect by `lr_factor` (so consecutive rollbacks
      compound: `lr_factor**n` after `n`), logs what happened, and continues. The
      `max_rollbacks`-th rollback restores the last good weights and raises
      `TrainingDivergedError` out of `fit`.

    A rolled-back batch does not count in the epoch's metrics: the model's metric states are
    returned to where they stood before it (`GuardState.metric_backups`, written by the
    train step), and the batch's `logs` are rewritten from them, so `History`, `CSVLogger`,
    `EarlyStopping` and checkpoints that monitor the loss see the mean over the batches that
    were kept, not a NaN.

    Both errors are raised from the batch that found them, so Keras never ends the
    interrupted epoch: no checkpoint, CSV row or `on_epoch_end` records it as complete.

    The rate is lowered through the optimizer's `learning_rate` for a float rate and through
    `scale` for a `tfflow.optimizers.LinearWarmup` schedule; another schedule is left
    unchanged (the rollback still happens, and the log line says so).

    After a rollback the running average is raised to the loss measured at the weights
    returned to (when that is higher), so the loss of those older weights does not read as
    a spike and roll back again.

    A copy of the weights and optimizer state is taken every `snapshot_every` good batches
    (one graph call reading every variable; the tensors it returns keep their values while
    training updates the variables). It becomes the one rollbacks return to only once the
    next batch's loss, computed at those weights, is good: weights just updated by a step
    have not been checked yet, and returning to weights that already diverge would roll back
    forever.

    Args:
        spike_factor: a loss above `spike_factor * running average` counts as divergence;
            compared on `|loss|` so it works for negative losses too; `None` disables.
        lr_factor: learning-rate multiplier applied at each rollback.
        snapshot_every: batches between weight snapshots.
        warmup_batches: batches before spike detection starts.
        max_rollbacks: rollbacks before training is stopped.
        verbose: print a line for every rollback.

    Attributes:
        rollbacks: one dict per rollback: `epoch`, `batch`, the diverged `loss` and the
            `new_learning_rate`.
    """

    def __init__(
        self,
        spike_factor: float | None = 3.0,
        lr_factor: float = 0.5,
        snapshot_every: int = 50,
        warmup_batches: int = 20,
        max_rollbacks: int = 10,
        verbose: bool = True,
    ):
        super().__init__()
        if spike_factor is not None and not spike_factor > 1:
            raise ValueError(f"`spike_factor` must be > 1 or None; received {spike_factor!r}.")
        if not 0 < lr_factor <= 1:
            raise ValueError(f"`lr_factor` must lie in (0, 1]; received {lr_factor!r}.")
        if snapshot_every < 1:
            raise ValueError(f"`snapshot_every` must be >= 1; received {snapshot_every!r}.")
        self.spike_factor = spike_factor
        self.lr_factor = lr_factor
        self.snapshot_every = snapshot_every
        self.warmup_batches = warmup_batches
        self.max_rollbacks = max_rollbacks
        self.verbose = verbose
        self.rollbacks: list[dict] = []
        self.error: NonFiniteInputError | None = None
        self._snapshot = None  # checked: the loss at these weights was good
        self._snapshot_loss = None  # that loss
        self._pending = None  # taken after the latest good batch; checked by the next one
        self._average = None
        self._good = 0
        self._epoch = 0
        self._reader = None  # (variables, tf.function reading them all)

    def _copy_state(self) -> tuple[list, list]:
        weights = list(self.model.variables)
        optimizer_variables = list(self.model.optimizer.variables)
        variables = weights + optimizer_variables
        if self._reader is None or not _same(self._reader[0], variables):
            tf_variables = [tf_variable(v) for v in variables]
            read = tf.function(lambda: [tf.identity(v) for v in tf_variables], autograph=False)
            self._reader = (variables, read)
        values = self._reader[1]()
        return values[: len(weights)], values[len(weights) :]

    def _restore(self) -> None:
        if self._snapshot is None:
            return
        weights, optimizer_values = self._snapshot
        for v, value in zip(self.model.variables, weights, strict=True):
            v.assign(value)
        optimizer_variables = self.model.optimizer.variables
        # The optimizer creates its slots on the first step: a snapshot taken before that has
        # none, and the freshly created slots are left as they are.
        if len(optimizer_variables) == len(optimizer_values):
            for v, value in zip(optimizer_variables, optimizer_values, strict=True):
                v.assign(value)

    def _restore_metrics(self, logs: dict | None) -> None:
        metrics = self.model.metrics
        if not self.model.guard_state.restore_metrics(self.model.metrics_variables):
            for metric in metrics:  # metrics not tracked: drop the epoch's so far
                metric.reset_state()
        if logs is not None:
            for metric in metrics:
                result = metric.result()
                if isinstance(result, dict):
                    logs.update(result)
                else:
                    logs[metric.name] = result

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._snapshot = self._copy_state()
        self._snapshot_loss = None  # the first batch's loss, computed at these weights
        self._pending = None
        self._good = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        state = getattr(self.model, "guard_state", None)
        if state is None:
            return
        loss = float(np.asarray(state.batch_loss.numpy()).reshape(-1)[0])
        nonfinite = int(np.asarray(state.nonfinite_inputs.numpy()).reshape(-1)[0])
        if nonfinite:
            self._restore()
            low, high = (float(v.numpy()) for v in (state.input_min, state.input_max))
            self.error = NonFiniteInputError(
                f"training batch {batch} contains {nonfinite} non-finite input values "
                f"(finite values range from {low:.4g} to {high:.4g}); stopped training and "
                f"restored the last good weights. Clean the data (e.g. `tf.data` "
                f"`.filter(lambda x: tf.reduce_all(tf.math.is_finite(x)))`)."
            )
            print(f"DivergenceGuard: {self.error}")
            raise self.error
        diverged = not math.isfinite(loss)
        if (
            not diverged
            and self.spike_factor is not None
            and self._average is not None
            and self._good >= self.warmup_batches
        ):
            threshold = abs(self._average) * self.spike_factor
            diverged = abs(loss) > threshold and loss > self._average
        if diverged:
            self._roll_back(batch, loss)
            self._restore_metrics(logs)
            return
        self._average = loss if self._average is None else 0.95 * self._average + 0.05 * loss
        if self._pending is not None:
            self._snapshot, self._pending = self._pending, None
            self._snapshot_loss = loss
        elif self._snapshot_loss is None:
            self._snapshot_loss = loss
        self._good += 1
        if self._good % self.snapshot_every == 0:
            self._pending = self._copy_state()

    def _roll_back(self, batch: int, loss: float) -> None:
        optimizer = self.model.optimizer
        inner = getattr(optimizer, "inner_optimizer", optimizer)  # LossScaleOptimizer
        # The rate in effect now, before the snapshot's optimizer state (which holds a float
        # rate as a variable) is restored: cutting that compounds across rollbacks.
        old_lr = float(keras.ops.convert_to_numpy(inner.learning_rate))
        average = self._average if self._average is not None else float("nan")
        self._pending = None
        self._restore()
        if self._snapshot_loss is not None and self._average is not None:
            # Back at older weights, whose loss was measured: judge the next batches against
            # that level, not against the lower average reached since.
            self._average = max(self._average, self._snapshot_loss)
        new_lr = scale_learning_rate(inner, self.lr_factor, current=old_lr)
        self.rollbacks.append(
            {"epoch": self._epoch, "batch": batch, "loss": loss, "new_learning_rate": new_lr}
        )
        if len(self.rollbacks) >= self.max_rollbacks:
            raise TrainingDivergedError(
                f"training diverged {len(self.rollbacks)} times (max_rollbacks="
                f"{self.max_rollbacks}); the last time at batch {batch} with loss {loss:.4g} "
                f"(running average {average:.4g}). Restored the last good weights. Lower the "
                f"learning rate, clip gradients (compile(clipnorm=1.0)) or check the data."
            )
        if self.verbose:
            change = (
                f"learning rate {old_lr:.3g} -> {new_lr:.3g}"
                if new_lr != old_lr
                else f"learning rate {old_lr:.3g} unchanged "
                f"({type(learning_rate_schedule(inner)).__name__} cannot be rescaled)"
            )
            print(
                f"DivergenceGuard: batch {batch} loss {loss:.4g} (running average "
                f"{average:.4g}); rolled back to the last good weights, {change}."
            )


def _same(a: list, b: list) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))
