"""Optimizer pieces of the training recipes."""

from tfflow.optimizers.fused_adam import FusedAdam
from tfflow.optimizers.learning_rate import scale_learning_rate
from tfflow.optimizers.linear_warmup import LinearWarmup

__all__ = ["FusedAdam", "LinearWarmup", "scale_learning_rate"]
