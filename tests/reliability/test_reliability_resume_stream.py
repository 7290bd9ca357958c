"""A resumed run sees the batches an uninterrupted run would: `skip_trained_epochs`."""

import numpy as np
import pytest
import tensorflow as tf

from tfflow.training.errors import RunConfigurationError
from tfflow.training.resume import skip_trained_epochs


def _shuffled() -> tf.data.Dataset:
    batches = tf.data.Dataset.range(12).shuffle(12, seed=5, reshuffle_each_iteration=True)
    noise = tf.data.Dataset.random(seed=6, rerandomize_each_iteration=True)
    return tf.data.Dataset.zip(batches, noise).batch(4)


def _as_lists(batches) -> list:
    return [[np.asarray(part).tolist() for part in batch] for batch in batches]


def _uninterrupted(epochs: int) -> list:
    dataset = _shuffled()  # a fresh iterator per epoch, as `fit` iterates a finite dataset
    return [batch for _ in range(epochs) for batch in _as_lists(dataset)]


@pytest.mark.parametrize("steps_per_epoch", [None, 3])
def test_resumed_stream_continues_where_the_run_stopped(steps_per_epoch):
    dataset = _shuffled() if steps_per_epoch is None else _shuffled().repeat()
    resumed, steps = skip_trained_epochs(dataset, 2, steps_per_epoch)
    assert steps == 3
    expected = _uninterrupted(4)[6:]
    assert _as_lists(resumed.take(6)) == expected
    assert expected[:3] != _uninterrupted(1)  # the epochs differ: skipping is not a no-op


def test_nothing_done_leaves_the_stream_alone():
    dataset = _shuffled()
    assert skip_trained_epochs(dataset, 0, None) == (dataset, None)


def test_unknown_length_needs_steps_per_epoch():
    dataset = _shuffled().unbatch().filter(lambda x, noise: x >= 0).batch(4)
    with pytest.raises(RunConfigurationError, match="--steps-per-epoch"):
        skip_trained_epochs(dataset, 1, None)
