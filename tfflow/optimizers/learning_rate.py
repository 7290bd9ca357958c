"""Lowering an optimizer's learning rate whatever holds it: the one implementation used by
`DivergenceGuard`, `FusedAdam`'s rate setter (through `LinearWarmup.rescale`) and the
benchmarks' plateau schedule."""

from __future__ import annotations

import keras

from tfflow._compat.keras import learning_rate_schedule
from tfflow.optimizers.linear_warmup import LinearWarmup

__all__ = ["scale_learning_rate"]


def scale_learning_rate(
    optimizer: keras.optimizers.Optimizer, factor: float, *, current: float | None = None
) -> float:
    """Multiplies the optimizer's learning rate by `factor`, whatever its schedule.

    - a float rate (a variable) becomes `current * factor`;
    - a `tfflow.optimizers.LinearWarmup` (the recipes of `FlowModel.compile()`) has its
      `scale` multiplied by `factor`, keeping the warmup and decay shape;
    - any other schedule is left unchanged (it owns its rate).

    Args:
        optimizer: a Keras optimizer, or a `LossScaleOptimizer` (its inner optimizer is
            changed).
        factor: the multiplier, > 0 (e.g. 0.5 to halve the rate).
        current: the rate to multiply for a float rate (default: the rate in effect now);
            `DivergenceGuard` passes the rate read before restoring a snapshot, so that
            successive cuts compound.

    Returns:
        The current rate times `factor`, or the unchanged current rate for another schedule.

    Raises:
        ValueError: for a `factor` that is not positive.

    Example:
        >>> optimizer = keras.optimizers.SGD(learning_rate=0.1)
        >>> round(scale_learning_rate(optimizer, 0.5), 6)
        0.05
        >>> round(float(optimizer.learning_rate), 6)
        0.05
    """
    if not factor > 0:
        raise ValueError(f"`factor` must be positive; received {factor!r}.")
    inner = getattr(optimizer, "inner_optimizer", optimizer)  # LossScaleOptimizer
    if current is None:
        current = float(keras.ops.convert_to_numpy(inner.learning_rate))
    schedule = learning_rate_schedule(inner)
    if schedule is None:
        inner.learning_rate = current * factor
    elif isinstance(schedule, LinearWarmup):
        schedule.rescale(factor)
    else:
        return current
    return current * factor
