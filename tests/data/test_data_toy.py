"""Tests for the 2-D toy densities."""

import numpy as np
import pytest

from tfflow.data import KNOWN_DATASETS, load_arrays

TOYS = ["moons", "circles", "checkerboard", "8gaussians", "spirals"]


def test_toys_are_known_datasets():
    assert set(TOYS) <= set(KNOWN_DATASETS)


@pytest.mark.parametrize("name", TOYS)
def test_toy_default_shapes_and_range(name):
    arrays = load_arrays(name)
    assert arrays.train.shape == (20_000, 2) and arrays.test.shape == (5_000, 2)
    assert arrays.train.dtype == np.float32 and arrays.kind == "tabular"
    assert arrays.train_labels is None and arrays.num_classes is None
    assert np.all(np.isfinite(arrays.train)) and np.all(np.isfinite(arrays.test))
    # Roughly standardised: (almost) every point within [-4, 4], none far outside.
    assert np.mean(np.abs(arrays.train) <= 4) > 0.999
    assert np.all(np.abs(arrays.train) < 6)


@pytest.mark.parametrize("name", TOYS)
def test_toy_is_reproducible_for_a_seed(name):
    first = load_arrays(name, num_examples=500, seed=3)
    second = load_arrays(name, num_examples=500, seed=3)
    other = load_arrays(name, num_examples=500, seed=4)
    np.testing.assert_array_equal(first.train, second.train)
    np.testing.assert_array_equal(first.test, second.test)
    assert not np.allclose(first.train, other.train)
    assert not np.allclose(first.train, first.test[:500])


@pytest.mark.parametrize("num_examples", [1, 7, 1000])
def test_toy_num_examples_sets_train_count_and_keeps_test(num_examples):
    arrays = load_arrays("spirals", num_examples=num_examples, seed=1)
    assert arrays.train.shape == (num_examples, 2)
    np.testing.assert_array_equal(arrays.test, load_arrays("spirals", seed=1).test)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_num_examples_must_be_positive_integer(bad):
    with pytest.raises(ValueError, match="`num_examples` must be a positive integer"):
        load_arrays("moons", num_examples=bad)


def test_n_bits_is_rejected_for_continuous_data():
    with pytest.raises(ValueError, match="`n_bits` applies to discrete"):
        load_arrays("moons", n_bits=5)
