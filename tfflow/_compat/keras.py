"""Private Keras names tfflow relies on.

- `learning_rate_schedule`: Keras optimizers keep the `LearningRateSchedule` they were built
  with in `_learning_rate` (a float rate becomes a variable there); the public
  `learning_rate` property only gives the current value.
- `adam_slots`: Keras' Adam keeps its first and second moments in `_momentums` and
  `_velocities`, indexed by `_get_variable_index(variable)`.
- `tfflow.optimizers.FusedAdam` also overrides `Optimizer._backend_update_step` (to share one
  step's scalars between variables); `tests/compat` pins that method's existence.
"""

from __future__ import annotations

import keras

__all__ = ["adam_slots", "learning_rate_schedule"]


def learning_rate_schedule(optimizer: keras.optimizers.Optimizer):
    """The optimizer's `LearningRateSchedule`, or None for a float (variable) rate.

    Args:
        optimizer: a Keras optimizer (not a `LossScaleOptimizer`: pass its `inner_optimizer`).

    Returns:
        The schedule (or callable) object, or None when the rate is a plain value (or not
        set yet).
    """
    rate = getattr(optimizer, "_learning_rate", None)  # absent while __init__ sets it
    if isinstance(rate, keras.optimizers.schedules.LearningRateSchedule) or callable(rate):
        return rate
    return None


def adam_slots(optimizer: keras.optimizers.Adam, variable) -> tuple:
    """`(m, v)`: the first- and second-moment slot variables of `variable` in Keras' Adam."""
    index = optimizer._get_variable_index(variable)
    return optimizer._momentums[index], optimizer._velocities[index]
