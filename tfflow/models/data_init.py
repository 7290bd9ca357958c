"""Data-dependent initialisation of a flow (ActNorm, NICE's Scaling) before training."""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from numpy.typing import ArrayLike

from tfflow.bijectors.actnorm import ActNorm
from tfflow.bijectors.flow_bijector import walk_bijectors
from tfflow.bijectors.scaling import Scaling

__all__ = [
    "first_conditioned_examples",
    "data_initialised_bijectors",
    "first_examples",
    "synchronise_across_workers",
]


def data_initialised_bijectors(flow: tfp.bijectors.Bijector) -> list:
    """The bijectors of `flow` initialised from data once (ActNorm, Scaling)."""
    return [b for b in walk_bijectors(flow) if isinstance(b, ActNorm | Scaling)]


def first_examples(x: ArrayLike | tf.data.Dataset, count: int) -> tf.Tensor:
    """Up to `count` examples from the start of `x` (an array or a `tf.data.Dataset` of
    batches, or of `(x, ...)` tuples of batches)."""
    if isinstance(x, tf.data.Dataset):
        batches, seen = [], 0
        for element in x:
            batch = element[0] if isinstance(element, tuple | list) else element
            batches.append(batch)
            seen += int(batch.shape[0])
            if seen >= count:
                break
        return tf.concat(batches, 0)[:count]
    return tf.convert_to_tensor(np.asarray(x)[:count])


def first_conditioned_examples(data: Any, count: int) -> tuple[tf.Tensor, tf.Tensor]:
    """Up to `count` `(x, condition)` examples from the start of `data`: a `(x, condition)`
    pair of arrays, or a `tf.data.Dataset` of `(x, condition, ...)` batches.

    Raises:
        ValueError: if `data` does not hold pairs.
    """
    if isinstance(data, tf.data.Dataset):
        xs, conditions, seen = [], [], 0
        for element in data:
            if not isinstance(element, tuple | list) or len(element) < 2:
                raise ValueError(
                    "A conditional model trains on `(x, condition)` pairs; the dataset "
                    "yields single tensors."
                )
            xs.append(element[0])
            conditions.append(element[1])
            seen += int(element[0].shape[0])
            if seen >= count:
                break
        return tf.concat(xs, 0)[:count], tf.concat(conditions, 0)[:count]
    if not isinstance(data, tuple | list) or len(data) < 2:
        raise ValueError("A conditional model trains on `(x, condition)` pairs; received `x` only.")
    return (
        tf.convert_to_tensor(np.asarray(data[0])[:count]),
        tf.convert_to_tensor(np.asarray(data[1])[:count]),
    )


def synchronise_across_workers(bijectors: list, strategy: tf.distribute.Strategy) -> None:
    """Makes every worker hold the same data-initialised parameters (their mean).

    Mirrored replicas on one machine share one assignment already; the workers of a
    `MultiWorkerMirroredStrategy` each initialised from their own first batch.
    """
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return
    for b in bijectors:
        for v in b.params.trainable_variables:
            value = v.value
            per_replica = strategy.run(lambda value=value: tf.identity(value))
            v.assign(strategy.reduce(tf.distribute.ReduceOp.MEAN, per_replica, axis=None))
