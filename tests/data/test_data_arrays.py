"""Tests for `DatasetArrays`, `reduce_bits` and `load_arrays` argument checks."""

import dataclasses

import numpy as np
import pytest

from tfflow.data import DatasetArrays, load_arrays, reduce_bits


def _arrays(**overrides) -> DatasetArrays:
    fields = {
        "train": np.zeros((4, 2, 2, 1), np.uint8),
        "test": np.zeros((2, 2, 2, 1), np.uint8),
        "train_labels": None,
        "test_labels": None,
        "kind": "image",
        "num_classes": None,
        "name": "x",
        "description": "x",
    }
    return DatasetArrays(**{**fields, **overrides})


def test_dataset_arrays_is_frozen_and_defaults_to_8_bits():
    arrays = _arrays()
    assert arrays.n_bits == 8 and arrays.event_shape == (2, 2, 1) and arrays.num_dims == 4
    with pytest.raises(dataclasses.FrozenInstanceError):
        arrays.name = "y"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"kind": "video"}, r"`kind` must be one of \('image', 'tabular'\); received 'video'"),
        ({"train": np.zeros((4, 2, 2, 1), np.float32)}, "`train` must be a uint8 array of rank 4"),
        ({"kind": "tabular"}, "`train` must be a float32 array of rank 2 for kind='tabular'"),
        ({"test": np.zeros((2, 3, 2, 1), np.uint8)}, "must share the per-example shape"),
        ({"train_labels": np.zeros(3, np.int64)}, r"`train_labels` must have shape \(4,\)"),
        ({"n_bits": 9}, r"`n_bits` must be an integer in \[1, 8\]"),
    ],
)
def test_dataset_arrays_validates_fields(overrides, message):
    with pytest.raises(ValueError, match=message):
        _arrays(**overrides)


def test_reduce_bits_matches_glow():
    x = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(reduce_bits(x, 5), x // 8)
    np.testing.assert_array_equal(reduce_bits(x, 1), (x >= 128).astype(np.uint8))
    assert reduce_bits(x, 8) is x and reduce_bits(x, 3).dtype == np.uint8


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": ""}, "`name` must be a non-empty string"),
        ({"name": "digits", "n_bits": 0}, r"`n_bits` must be an integer in \[1, 8\]; received 0"),
        ({"name": "digits", "n_bits": 5.0}, r"received 5.0"),
        ({"name": "moons", "seed": -1}, "`seed` must be a non-negative integer; received -1"),
        ({"name": "digits", "num_examples": 0}, "`num_examples` must be a positive integer"),
    ],
)
def test_load_arrays_validates_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_arrays(**kwargs)
