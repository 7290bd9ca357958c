"""Tests for the shipped 8x8 digits loaders ("digits" and "digits_flat")."""

import hashlib
from importlib import resources

import numpy as np
import pytest

from tfflow.data import load_arrays

# Printed by `tools/make_digits_npz.py` when it wrote `tfflow/data/digits.npz` from
# scikit-learn 1.9.1's `load_digits()`: sha256 of the uint8 images' bytes then the labels'.
_DIGITS_SHA256 = "87ff0c9e40dc7e2c0e34e7257799c2e3f3aec1a016363bb11cad869ec428a826"
# `load_digits().images[0]` (a zero), gray levels 0..16.
_FIRST_IMAGE = [
    [0, 0, 5, 13, 9, 1, 0, 0],
    [0, 0, 13, 15, 10, 15, 5, 0],
    [0, 3, 15, 2, 0, 11, 8, 0],
    [0, 4, 12, 0, 0, 8, 8, 0],
    [0, 5, 8, 0, 0, 9, 8, 0],
    [0, 4, 11, 0, 1, 12, 7, 0],
    [0, 2, 14, 5, 10, 12, 0, 0],
    [0, 0, 6, 13, 10, 0, 0, 0],
]

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
    # The split is the fixed permutation of all 1,797 images: no image is lost or repeated.
    all_images = np.concatenate([first.train, first.test]).reshape(1797, 8, 8)
    all_labels = np.concatenate([first.train_labels, first.test_labels])
    order = np.random.RandomState(0).permutation(1797)
    np.testing.assert_array_equal(all_images[np.argsort(order)][0], _LEVELS[_FIRST_IMAGE])
    assert sorted(np.bincount(all_labels).tolist()) == [
        174,
        177,
        178,
        179,
        180,
        181,
        181,
        182,
        182,
        183,
    ]


def _shipped_arrays() -> tuple[np.ndarray, np.ndarray]:
    with resources.files("tfflow.data").joinpath("digits.npz").open("rb") as file:
        with np.load(file) as data:
            return data["images"], data["labels"]


def test_shipped_digits_file_is_the_one_generated_from_scikit_learn():
    images, labels = _shipped_arrays()
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8
    assert labels.shape == (1797,) and labels.dtype == np.uint8
    assert int(images.sum()) == 561718 and images.max() == 16
    assert images[0].tolist() == _FIRST_IMAGE and labels[:10].tolist() == list(range(10))
    digest = hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()
    assert digest == _DIGITS_SHA256


def test_digits_equal_scikit_learns_when_it_is_installed():
    sk_datasets = pytest.importorskip("sklearn.datasets")
    reference = sk_datasets.load_digits()
    arrays = load_arrays("digits")
    order = np.random.RandomState(0).permutation(1797)
    expected = np.round(reference.images * 255 / 16).astype(np.uint8)[order, ..., np.newaxis]
    np.testing.assert_array_equal(np.concatenate([arrays.train, arrays.test]), expected)
    np.testing.assert_array_equal(
        np.concatenate([arrays.train_labels, arrays.test_labels]), reference.target[order]
    )


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
