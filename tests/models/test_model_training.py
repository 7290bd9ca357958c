"""Short real training runs: the loss must go down on real data, with `compile()` + `fit()`."""

import numpy as np
import tensorflow as tf

import tfflow
from tfflow.data import load_arrays, make_dataset


def _digits(flat: bool = False):
    arrays = load_arrays("digits")
    train = make_dataset(arrays.train, batch_size=64, training=True, seed=0)
    test = make_dataset(arrays.test, batch_size=128, training=False, seed=0)
    if flat:
        train = train.map(lambda x: tf.reshape(x, [-1, 64]))
        test = test.map(lambda x: tf.reshape(x, [-1, 64]))
    return train, test


def _fit_and_check(model, train, test, epochs: int, min_gain: float = 0.3):
    model.compile()
    before = model.evaluate(test, verbose=0, return_dict=True)
    history = model.fit(train, epochs=epochs, verbose=0)
    after = model.evaluate(test, verbose=0, return_dict=True)
    assert np.all(np.isfinite(history.history["loss"]))
    assert set(history.history) >= {"loss", "bits_per_dim"}
    assert after["bits_per_dim"] < before["bits_per_dim"] - min_gain, (before, after)
    return before, after


def test_realnvp_learns_two_moons():
    arrays = load_arrays("moons", num_examples=4096)
    train = make_dataset(arrays.train, batch_size=256, training=True, seed=0)
    test = make_dataset(arrays.test, batch_size=1024, training=False)
    model = tfflow.RealNVP((2,), coupling_layers=6, hidden_units=64)
    model.compile()
    before = model.evaluate(test, verbose=0, return_dict=True)["loss"]
    model.fit(train, epochs=4, verbose=0)
    after = model.evaluate(test, verbose=0, return_dict=True)["loss"]
    assert after < before - 0.5, (before, after)


def test_glow_learns_digits():
    train, test = _digits()
    model = tfflow.Glow((8, 8, 1), levels=2, steps_per_level=3, hidden_channels=32)
    _fit_and_check(model, train, test, epochs=3)
    assert not model.needs_initialization()


def test_realnvp_image_learns_digits():
    train, test = _digits()
    model = tfflow.RealNVP((8, 8, 1), num_scales=2, residual_blocks=1, hidden_channels=16)
    _fit_and_check(model, train, test, epochs=2)


def test_nice_learns_flattened_digits():
    train, test = _digits(flat=True)
    model = tfflow.NICE((64,), hidden_layers=2, hidden_units=128, pixels=True)
    # NICE is volume preserving but for its diagonal scaling, which Adam moves by ~lr per step:
    # it improves steadily but slowly at first.
    _fit_and_check(model, train, test, epochs=4, min_gain=0.1)


def test_fit_on_numpy_arrays_with_batch_size():
    x = np.random.RandomState(0).normal(size=(512, 4)).astype("float32") * [1.0, 2.0, 0.5, 3.0]
    model = tfflow.RealNVP((4,), coupling_layers=2, hidden_units=16)
    model.compile()
    history = model.fit(x, batch_size=64, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_actnorm_is_initialised_from_first_batch_before_fit():
    train, _ = _digits()
    model = tfflow.Glow((8, 8, 1), levels=1, steps_per_level=1, hidden_channels=8)
    assert model.needs_initialization()
    model.compile()
    model.fit(train.take(1), epochs=1, verbose=0)
    assert not model.needs_initialization()
    z = model.encode(next(iter(train)))
    assert abs(float(tf.reduce_mean(z))) < 0.5
