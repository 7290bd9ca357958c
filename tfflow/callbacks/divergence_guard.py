"""DivergenceGuard: roll back to the last good weights when training blows up."""

from __future__ import annotations

import math

import keras
import numpy as np

__all__ = ["DivergenceGuard", "NonFiniteInputError"]


class NonFiniteInputError(ValueError):
    """A training batch contained NaN or infinite values."""


class DivergenceGuard(keras.callbacks.Callback):
    """Keeps flow training finite without losing the run.

    After every batch it reads the batch's own negative log-likelihood (not the epoch's
    running mean) and the number of non-finite input values, both recorded by
    `FlowModel.train_step`:

    - non-finite inputs: restores the last good weights and stops training with a
      `NonFiniteInputError` naming the batch and its statistics (NaN data is a data bug,
      not a learning-rate problem);
    - a non-finite loss, or a loss above `spike_factor` x the running average (in nats per
      example, after `warmup_batches`): restores the last good weights and optimizer state,
      multiplies the learning rate by `lr_factor`, logs what happened, and continues. After
      `max_rollbacks` rollbacks it stops training (weights stay at the last good copy).

    A copy of the weights is kept every `snapshot_every` good batches (in host memory).

    Args:
        spike_factor: a loss above `spike_factor * running average` counts as divergence;
            compared on `|loss|` so it works for negative losses too; `None` disables.
        lr_factor: learning-rate multiplier applied at each rollback.
        snapshot_every: batches between weight snapshots.
        warmup_batches: batches before spike detection starts.
        max_rollbacks: rollbacks before training is stopped.
        verbose: print a line for every rollback.
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
        self._snapshot = None
        self._average = None
        self._good = 0

    def _take_snapshot(self) -> None:
        optimizer = self.model.optimizer
        self._snapshot = (
            [v.numpy().copy() for v in self.model.weights],
            [v.numpy().copy() for v in optimizer.variables],
        )

    def _restore(self) -> None:
        if self._snapshot is None:
            return
        weights, optimizer_values = self._snapshot
        for v, value in zip(self.model.weights, weights, strict=True):
            v.assign(value)
        optimizer_variables = self.model.optimizer.variables
        # The optimizer creates its slots on the first step: a snapshot taken before that has
        # none, and the freshly created slots are left as they are.
        if len(optimizer_variables) == len(optimizer_values):
            for v, value in zip(optimizer_variables, optimizer_values, strict=True):
                v.assign(value)

    def on_train_begin(self, logs=None):
        self._take_snapshot()
        self._good = 0

    def on_train_batch_end(self, batch, logs=None):
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
            self.model.stop_training = True
            print(f"DivergenceGuard: {self.error}")
            return
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
            return
        self._average = loss if self._average is None else 0.95 * self._average + 0.05 * loss
        self._good += 1
        if self._good % self.snapshot_every == 0:
            self._take_snapshot()

    def _roll_back(self, batch: int, loss: float) -> None:
        self._restore()
        optimizer = self.model.optimizer
        inner = getattr(optimizer, "inner_optimizer", optimizer)  # LossScaleOptimizer
        old_lr = float(keras.ops.convert_to_numpy(inner.learning_rate))
        new_lr = old_lr * self.lr_factor
        schedule = inner._learning_rate
        if hasattr(schedule, "scale"):  # tfflow.optimizers.LinearWarmup
            schedule.scale.assign(schedule.scale * self.lr_factor)
        elif isinstance(schedule, keras.Variable):
            schedule.assign(new_lr)
        else:
            inner.learning_rate = new_lr
        self.rollbacks.append({"batch": batch, "loss": loss, "new_learning_rate": new_lr})
        if self.verbose:
            print(
                f"DivergenceGuard: batch {batch} loss {loss:.4g} (running average "
                f"{self._average if self._average is not None else float('nan'):.4g}); rolled "
                f"back to the last good weights, learning rate {old_lr:.3g} -> {new_lr:.3g}."
            )
        if len(self.rollbacks) >= self.max_rollbacks:
            print(f"DivergenceGuard: {len(self.rollbacks)} rollbacks; stopping training.")
            self.model.stop_training = True
