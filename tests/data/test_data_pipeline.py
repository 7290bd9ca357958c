"""Tests for `make_dataset`: dequantization, seeding, flips, shuffling and validation."""

import numpy as np
import pytest

from tfflow.data import load_arrays, make_dataset, reduce_bits


@pytest.fixture(scope="module")
def digits():
    return load_arrays("digits")


def _collect(dataset) -> np.ndarray:
    return np.concatenate([np.asarray(batch) for batch in dataset])


def _collect_pairs(dataset) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = zip(*[(np.asarray(x), np.asarray(y)) for x, y in dataset], strict=True)
    return np.concatenate(xs), np.concatenate(ys)


@pytest.mark.parametrize("training", [True, False])
def test_dequantized_values_lie_in_range_and_are_not_integers(digits, training):
    values = _collect(make_dataset(digits.train, batch_size=100, training=training, seed=0))
    assert values.dtype == np.float32 and values.shape[1:] == (8, 8, 1)
    assert values.min() >= 0 and values.max() < 256
    assert np.mean(values == np.floor(values)) < 1e-3


def test_noise_stays_within_one_level(digits):
    x, index = _collect_pairs(
        make_dataset(
            digits.train,
            np.arange(1500),
            batch_size=128,
            training=True,
            seed=2,
            drop_remainder=False,
        )
    )
    assert sorted(index) == list(range(1500))  # Labels travel with their examples.
    np.testing.assert_array_equal(np.floor(x), digits.train[index].astype(np.float32))


def test_all_255_pixels_stay_below_256():
    x = np.full((2000, 4, 4, 1), 255, np.uint8)
    values = _collect(make_dataset(x, batch_size=500, training=True, seed=0))
    assert values.max() < 256 and values.min() >= 255


def test_training_is_reproducible_for_a_seed_and_fresh_each_epoch(digits):
    def first_epochs(seed):
        dataset = make_dataset(digits.train, batch_size=64, training=True, seed=seed)
        return [_collect(dataset) for _ in range(2)]

    first, second, other = first_epochs(7), first_epochs(7), first_epochs(8)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.array_equal(first[0], first[1])  # New order and noise per epoch.
    assert not np.array_equal(first[0], other[0])


def test_evaluation_noise_is_identical_across_iterations_and_calls(digits):
    dataset = make_dataset(digits.test, batch_size=50, training=False, seed=3)
    first, second = _collect(dataset), _collect(dataset)
    again = _collect(make_dataset(digits.test, batch_size=97, training=False, seed=3, cache=False))
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first, again)  # Keyed on the example, not the batch.
    np.testing.assert_array_equal(np.floor(first), digits.test.astype(np.float32))  # In order.
    other = _collect(make_dataset(digits.test, batch_size=50, training=False, seed=4))
    assert not np.array_equal(first, other)


def test_evaluation_without_seed_is_deterministic(digits):
    first = _collect(make_dataset(digits.test, batch_size=64, training=False))
    second = _collect(make_dataset(digits.test, batch_size=64, training=False))
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("training", [True, False])
def test_no_dequantize_gives_integer_levels(digits, training):
    values = _collect(
        make_dataset(
            digits.test,
            batch_size=32,
            training=training,
            dequantize=False,
            seed=0,
            drop_remainder=False,
        )
    )
    assert values.dtype == np.float32
    np.testing.assert_array_equal(np.sort(values.ravel()), np.sort(digits.test.ravel()))


def test_flips_only_in_training():
    rng = np.random.RandomState(0)
    x = rng.randint(0, 256, size=(256, 4, 6, 2), dtype=np.uint8)
    index = np.arange(256)
    train_x, train_index = _collect_pairs(
        make_dataset(x, index, batch_size=64, training=True, flip=True, seed=0, dequantize=False)
    )
    flipped = np.array(
        [
            np.array_equal(image, x[i, :, ::-1])
            for image, i in zip(train_x, train_index, strict=True)
        ]
    )
    same = np.array(
        [np.array_equal(image, x[i]) for image, i in zip(train_x, train_index, strict=True)]
    )
    assert np.all(flipped | same)
    assert 0.3 < flipped.mean() < 0.7
    eval_x = _collect(make_dataset(x, batch_size=64, training=False, flip=True, dequantize=False))
    np.testing.assert_array_equal(eval_x, x.astype(np.float32))


def test_drop_remainder_defaults_to_training(digits):
    train_batches = [b.shape[0] for b in make_dataset(digits.test, batch_size=100, training=True)]
    eval_batches = [b.shape[0] for b in make_dataset(digits.test, batch_size=100, training=False)]
    assert train_batches == [100, 100]
    assert eval_batches == [100, 100, 97]
    kept = make_dataset(digits.test, batch_size=100, training=True, drop_remainder=False)
    assert sum(b.shape[0] for b in kept) == 297


def test_n_bits_5_reduces_the_range():
    arrays = load_arrays("digits", n_bits=5)
    assert arrays.train.max() == 31
    values = _collect(make_dataset(arrays.train, batch_size=100, training=True, n_bits=5, seed=0))
    assert values.min() >= 0 and values.max() < 32 and values.max() > 31


def test_n_bits_mismatch_is_rejected(digits):
    with pytest.raises(ValueError, match=r"`x` must hold 5-bit values 0..31 .* maximum of 255"):
        make_dataset(digits.train, batch_size=8, training=True, n_bits=5)
    make_dataset(reduce_bits(digits.train, 5), batch_size=8, training=True, n_bits=5)


def test_tabular_data_is_shuffled_batched_and_not_dequantized():
    arrays = load_arrays("moons", num_examples=1000, seed=0)
    train = _collect(make_dataset(arrays.train, batch_size=100, training=True, seed=0))
    assert train.dtype == np.float32 and train.shape == (1000, 2)
    assert not np.array_equal(train, arrays.train)
    np.testing.assert_array_equal(np.sort(train, axis=0), np.sort(arrays.train, axis=0))
    evaluation = _collect(make_dataset(arrays.test, batch_size=128, training=False))
    np.testing.assert_array_equal(evaluation, arrays.test)


def test_tabular_float64_is_cast_and_labels_follow():
    x = np.arange(20, dtype=np.float64).reshape(10, 2)
    xs, ys = _collect_pairs(make_dataset(x, np.arange(10), batch_size=5, training=True, seed=1))
    assert xs.dtype == np.float32
    np.testing.assert_array_equal(xs, x[ys].astype(np.float32))


_IMAGES = np.zeros((4, 2, 2, 1), np.uint8)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"batch_size": 0}, "`batch_size` must be a positive integer; received 0"),
        ({"batch_size": -2}, "`batch_size` must be a positive integer; received -2"),
        ({"batch_size": 2.0}, "`batch_size` must be a positive integer; received 2.0"),
        ({"batch_size": True}, "`batch_size` must be a positive integer; received True"),
        ({"batch_size": 2, "n_bits": 9}, r"`n_bits` must be an integer in \[1, 8\]; received 9"),
        ({"batch_size": 2, "n_bits": 0}, r"`n_bits` must be an integer in \[1, 8\]; received 0"),
        ({"x": np.zeros((4, 2, 2), np.uint8)}, r"received uint8 array of shape \(4, 2, 2\)"),
        ({"x": np.zeros((4, 2, 2, 1), np.int32)}, r"received int32 array of shape"),
        ({"x": np.zeros((4, 3), np.int64)}, r"received int64 array of shape \(4, 3\)"),
        ({"x": [[1.0, 2.0]]}, "`x` must be a NumPy array; received list"),
        ({"x": np.zeros((0, 2, 2, 1), np.uint8)}, "at least one example"),
        (
            {"labels": np.arange(3)},
            r"`labels` must have 4 rows to match `x`; received shape \(3,\)",
        ),
        ({"x": np.zeros((4, 3), np.float32), "flip": True}, "`flip=True` needs images"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(kwargs, message):
    arguments = {"x": _IMAGES, "batch_size": 2, "training": True, **kwargs}
    with pytest.raises(ValueError, match=message):
        make_dataset(**arguments)
