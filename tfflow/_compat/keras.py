"""Private Keras names tfflow relies on.

- `learning_rate_schedule`: Keras optimizers keep the `LearningRateSchedule` they were built
  with in `_learning_rate` (a float rate becomes a variable there); the public
  `learning_rate` property only gives the current value.
"""

from __future__ import annotations

import keras

__all__ = ["learning_rate_schedule"]


def learning_rate_schedule(optimizer: keras.optimizers.Optimizer):
    """The optimizer's `LearningRateSchedule`, or None for a float (variable) rate.

    Args:
        optimizer: a Keras optimizer (not a `LossScaleOptimizer`: pass its `inner_optimizer`).

    Returns:
        The schedule (or callable) object, or None when the rate is a plain value.
    """
    rate = optimizer._learning_rate
    if isinstance(rate, keras.optimizers.schedules.LearningRateSchedule) or callable(rate):
        return rate
    return None
