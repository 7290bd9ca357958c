"""Private TensorFlow names tfflow relies on.

- `in_multi_worker_mode`: `MultiWorkerMirroredStrategy.extended._in_multi_worker_mode()`,
  whether the strategy spans several workers (a strategy built without `TF_CONFIG` runs on
  one worker only). Keras reduces step outputs differently in that mode.
"""

from __future__ import annotations

import tensorflow as tf

__all__ = ["in_multi_worker_mode"]


def in_multi_worker_mode(strategy: tf.distribute.Strategy) -> bool:
    """Whether `strategy` is a `MultiWorkerMirroredStrategy` over more than one worker."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return False
    return bool(strategy.extended._in_multi_worker_mode())
