"""Keras callbacks specific to flow training."""

from tfflow.callbacks.divergence_guard import DivergenceGuard, NonFiniteInputError

__all__ = ["DivergenceGuard", "NonFiniteInputError"]
