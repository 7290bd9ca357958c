"""Learning-rate schedule of the training recipes: linear warmup (Glow's official code), then
constant, or an exponential decay per step down to a floor (NICE's official code)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["LinearWarmup"]


@keras.saving.register_keras_serializable(package="tfflow")
class LinearWarmup(keras.optimizers.schedules.LearningRateSchedule):
    """`lr(t) = scale * max(floor_fraction * r, r * decay_per_step**t) * min(1, (t + 1) / w)`.

    `r` is `learning_rate`, `w` is `warmup_steps` and `t` the optimizer step. With the
    defaults (`decay_per_step=1`) this is a linear warmup to a constant rate. `scale` is a
    variable (1 at start) that `rescale` multiplies (`DivergenceGuard` lowers it after a
    rollback, through `tfflow.optimizers.scale_learning_rate`).

    Args:
        learning_rate: the rate reached after warmup (before any decay).
        warmup_steps: number of steps of the linear ramp (0: none).
        decay_per_step: factor applied to the rate at every step, in (0, 1]. The NICE
            recipe divides by 1.0005 per step (`exp/nice_mnist.yaml` of the official code).
        floor_fraction: the decay stops at `floor_fraction * learning_rate`, in [0, 1]
            (NICE: 1e-4 / 1e-3 = 0.1).

    Example:
        >>> schedule = LinearWarmup(1e-3, decay_per_step=0.5, floor_fraction=0.1)
        >>> [round(float(schedule(t)), 6) for t in (0, 1, 10)]
        [0.001, 0.0005, 0.0001]
    """

    def __init__(
        self,
        learning_rate: float,
        warmup_steps: int = 0,
        decay_per_step: float = 1.0,
        floor_fraction: float = 0.0,
    ):
        if not learning_rate > 0:
            raise ValueError(f"`learning_rate` must be positive; received {learning_rate!r}.")
        if warmup_steps < 0:
            raise ValueError(f"`warmup_steps` must be >= 0; received {warmup_steps!r}.")
        if not 0 < decay_per_step <= 1:
            raise ValueError(f"`decay_per_step` must be in (0, 1]; received {decay_per_step!r}.")
        if not 0 <= floor_fraction <= 1:
            raise ValueError(f"`floor_fraction` must be in [0, 1]; received {floor_fraction!r}.")
        self.learning_rate = float(learning_rate)
        self.warmup_steps = int(warmup_steps)
        self.decay_per_step = float(decay_per_step)
        self.floor_fraction = float(floor_fraction)
        self.scale = keras.Variable(1.0, trainable=False, name="lr_scale")

    def __call__(self, step: tf.Tensor | int) -> tf.Tensor:
        step = keras.ops.cast(step, "float32")
        ramp = keras.ops.minimum(1.0, (step + 1.0) / max(self.warmup_steps, 1))
        rate = self.learning_rate
        if self.decay_per_step != 1.0:
            decayed = rate * keras.ops.power(self.decay_per_step, step)
            rate = keras.ops.maximum(self.floor_fraction * rate, decayed)
        return self.scale * rate * ramp

    def set_current_rate(self, rate: float, step: tf.Tensor | int) -> None:
        """Rescales the schedule so that it gives `rate` at `step` (and proportionally after).

        This is what setting `optimizer.learning_rate` means for a schedule built by
        `FlowModel.compile()`: Keras' `ReduceLROnPlateau` and `LearningRateScheduler` set a
        float, and the warmup and decay shape is kept, multiplied by `scale`.
        """
        current = float(keras.ops.convert_to_numpy(self(step)))
        if not current > 0:
            raise ValueError(f"The schedule's rate at step {int(step)} is {current}; cannot scale.")
        self.rescale(float(rate) / current)

    def rescale(self, factor: float) -> None:
        """Multiplies every rate of the schedule from now on by `factor` (through `scale`).

        `tfflow.optimizers.scale_learning_rate` lowers an optimizer's rate with it.
        """
        self.scale.assign(self.scale * factor)

    def get_config(self) -> dict:
        return {
            "learning_rate": self.learning_rate,
            "warmup_steps": self.warmup_steps,
            "decay_per_step": self.decay_per_step,
            "floor_fraction": self.floor_fraction,
        }
