"""Optimizer pieces of the training recipes."""

from tfflow.optimizers.linear_warmup import LinearWarmup

__all__ = ["LinearWarmup"]
