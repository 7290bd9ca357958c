"""Tests for the 2-D toy densities."""

import hashlib

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


def test_moons_lie_on_two_unit_half_circles_half_each():
    # Undo the scaling: the moons are x = 2 m + (-1, -0.2) for m on the half circles
    # |m| = 1 (y >= 0) and |m - (1, 0.5)| = 1 (y <= 0.5), with N(0, 0.1**2) noise.
    m = (load_arrays("moons", num_examples=4000, seed=2).train - np.array([-1.0, -0.2])) / 2
    upper = np.abs(np.linalg.norm(m, axis=1) - 1)
    lower = np.abs(np.linalg.norm(m - np.array([1.0, 0.5]), axis=1) - 1)
    assert np.mean(np.minimum(upper, lower) < 0.3) > 0.99
    assert 0.45 < np.mean(upper < lower) < 0.55
    assert np.std(np.minimum(upper, lower)) < 0.1


def test_circles_have_radii_3_and_1_5_half_each():
    radius = np.linalg.norm(load_arrays("circles", num_examples=4000, seed=2).train, axis=1)
    outer = radius > 2.25
    assert 0.45 < np.mean(outer) < 0.55
    assert abs(np.median(radius[outer]) - 3) < 0.05
    assert abs(np.median(radius[~outer]) - 1.5) < 0.05


@pytest.mark.parametrize(
    ("name", "make", "kwargs", "scale", "shift"),
    [
        ("moons", "make_moons", {"noise": 0.1}, 2.0, (-1.0, -0.2)),
        ("circles", "make_circles", {"noise": 0.08, "factor": 0.5}, 3.0, (0.0, 0.0)),
    ],
)
@pytest.mark.parametrize("n", [1, 7, 1000])
def test_numpy_toys_match_scikit_learn_when_it_is_installed(name, make, kwargs, scale, shift, n):
    # The NumPy samplers make the same draws as scikit-learn's generators (checked with
    # scikit-learn 1.9.1); scikit-learn is not a dependency, so this only runs where it is.
    sk_datasets = pytest.importorskip("sklearn.datasets")
    from tfflow.data.toy import sample_toy

    expected = getattr(sk_datasets, make)(
        n_samples=n, random_state=np.random.RandomState(5), **kwargs
    )
    expected = (expected[0] * scale + np.array(shift)).astype(np.float32)
    np.testing.assert_array_equal(sample_toy(name, n, np.random.RandomState(5)), expected)


# sha256 of the float32 bytes of scikit-learn 1.9.1's `make_moons(n, noise=0.1)` and
# `make_circles(n, noise=0.08, factor=0.5)` with `random_state=np.random.RandomState(5)`,
# scaled and shifted as above: recorded with scikit-learn, so this equivalence is checked
# where scikit-learn is not installed (CI), not only by the test above.
_SCIKIT_LEARN_SHA256 = {
    ("moons", 1): "e55cc07191ddf8662a22e443fd737ae3c0e03a662eb69a6d1fabc894826a60fa",
    ("moons", 7): "0968992c29ffd479cb38621442f5d0761a04755cec7cc1977c33dc3f101847d4",
    ("moons", 1000): "e6a734c0a8aae35c4df53b2d00a395a3f3dafa6fcb4c7cb72564b0f35edb5319",
    ("circles", 1): "dd99e8680baeb25a57f114b55518d5424b8b020db2d7cbc72f5e8ef093b39325",
    ("circles", 7): "92b2d4de1b92f5bc6ecee0e22ca1dda33cd041fea3fc2915d93051a1f9c2cbda",
    ("circles", 1000): "94deb09e7d0bdea45ef5cca7dfb6bd65fe6820cedbf47279f67ec3e1b585b88f",
}


@pytest.mark.parametrize(("name", "n"), sorted(_SCIKIT_LEARN_SHA256))
def test_numpy_toys_make_the_draws_scikit_learn_made(name, n):
    from tfflow.data.toy import sample_toy

    draws = sample_toy(name, n, np.random.RandomState(5))
    assert draws.dtype == np.float32 and draws.shape == (n, 2)
    assert hashlib.sha256(draws.tobytes()).hexdigest() == _SCIKIT_LEARN_SHA256[(name, n)]
