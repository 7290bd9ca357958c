"""Optimizer pieces of the training recipes."""

from tfflow.optimizers.fused_adam import FusedAdam
from tfflow.optimizers.linear_warmup import LinearWarmup

__all__ = ["FusedAdam", "LinearWarmup"]
