"""Tests for the scikit-learn digits loaders ("digits" and "digits_flat")."""

import numpy as np
import pytest

from tfflow.data import load_arrays

# round(v * 255 / 16) for the 17 gray levels v = 0..16.
_LEVELS = np.round(np.arange(17) * 255 / 16).astype(np.uint8)


def test_digits_shapes_dtype_and_labels():
    arrays = load_arrays("digits")
    assert arrays.train.shape == (1500, 8, 8, 1)
    assert arrays.test.shape == (297, 8, 8, 1)
    assert arrays.train.dtype == np.uint8 and arrays.test.dtype == np.uint8
    assert arrays.kind == "image" and arrays.num_classes == 10 and arrays.n_bits == 8
    assert arrays.train_labels.dtype == np.int64
    assert set(np.unique(arrays.train_labels)) == set(range(10))
    assert arrays.event_shape == (8, 8, 1) and arrays.num_dims == 64


def test_digits_values_are_the_17_mapped_levels():
    arrays = load_arrays("digits")
    values = np.unique(np.concatenate([arrays.train.ravel(), arrays.test.ravel()]))
    np.testing.assert_array_equal(values, _LEVELS)
    assert values.min() == 0 and values.max() == 255


def test_digits_split_is_deterministic_and_disjoint():
    first, second = load_arrays("digits"), load_arrays("digits")
    np.testing.assert_array_equal(first.train, second.train)
    np.testing.assert_array_equal(first.test_labels, second.test_labels)
    # The split is a permutation of all 1,797 images: no image is lost or repeated.
    all_images = np.concatenate([first.train, first.test]).reshape(1797, -1)
    from sklearn.datasets import load_digits

    reference = np.round(load_digits().images * 255 / 16).astype(np.uint8).reshape(1797, -1)
    order = np.random.RandomState(0).permutation(1797)
    np.testing.assert_array_equal(all_images, reference[order])


def test_digits_seed_does_not_change_the_split():
    np.testing.assert_array_equal(
        load_arrays("digits", seed=0).test, load_arrays("digits", seed=5).test
    )


def test_digits_flat_is_tabular_float32_on_8bit_scale():
    images, flat = load_arrays("digits"), load_arrays("digits_flat")
    assert flat.kind == "tabular"
    assert flat.train.shape == (1500, 64) and flat.test.shape == (297, 64)
    assert flat.train.dtype == np.float32
    np.testing.assert_array_equal(flat.train, images.train.reshape(1500, 64).astype(np.float32))
    np.testing.assert_array_equal(flat.train_labels, images.train_labels)


@pytest.mark.parametrize("name", ["digits", "digits_flat"])
def test_digits_n_bits_reduces_levels(name):
    arrays = load_arrays(name, n_bits=5)
    assert arrays.n_bits == 5
    full = load_arrays(name)
    np.testing.assert_array_equal(arrays.train, full.train // 8)
    assert arrays.train.max() == 31 and arrays.train.dtype == full.train.dtype


def test_num_examples_caps_the_training_set_only():
    arrays = load_arrays("digits", num_examples=100)
    assert arrays.train.shape[0] == 100 and arrays.train_labels.shape == (100,)
    assert arrays.test.shape[0] == 297
