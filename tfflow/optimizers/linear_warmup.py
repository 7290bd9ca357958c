"""Linear learning-rate warmup, then constant (Glow's official code warms up linearly)."""

from __future__ import annotations

import keras

__all__ = ["LinearWarmup"]


@keras.saving.register_keras_serializable(package="tfflow")
class LinearWarmup(keras.optimizers.schedules.LearningRateSchedule):
    """`lr(step) = scale * learning_rate * min(1, (step + 1) / warmup_steps)`.

    `scale` is a variable (1 at start) that `DivergenceGuard` lowers after a rollback.

    Args:
        learning_rate: the rate reached after warmup.
        warmup_steps: number of steps of the linear ramp (0: none).
    """

    def __init__(self, learning_rate: float, warmup_steps: int = 0):
        if not learning_rate > 0:
            raise ValueError(f"`learning_rate` must be positive; received {learning_rate!r}.")
        if warmup_steps < 0:
            raise ValueError(f"`warmup_steps` must be >= 0; received {warmup_steps!r}.")
        self.learning_rate = float(learning_rate)
        self.warmup_steps = int(warmup_steps)
        self.scale = keras.Variable(1.0, trainable=False, name="lr_scale")

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        ramp = keras.ops.minimum(1.0, (step + 1.0) / max(self.warmup_steps, 1))
        return self.scale * self.learning_rate * ramp

    def get_config(self) -> dict:
        return {"learning_rate": self.learning_rate, "warmup_steps": self.warmup_steps}
