"""Integer pixels: `fit` dequantizes them, `evaluate`/`log_prob` read bin centres, and
`evaluate` is the exact mean over the data for any batch size."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfflow


def _nice(dequantization: str = "uniform", n_bits: int = 8) -> tfflow.NICE:
    return tfflow.NICE(
        (16,),
        coupling_layers=2,
        hidden_layers=1,
        hidden_units=16,
        pixels=True,
        n_bits=n_bits,
        dequantization=dequantization,
    )


def test_dequantize_adds_fresh_bounded_noise_each_step():
    model = _nice()
    model.compile()
    x = np.array([[0] * 8 + [255] * 8], np.uint8).repeat(512, 0)
    first = model.dequantize(x).numpy()
    assert first.dtype == np.float32
    assert np.all(first >= x) and np.all(first < x + 1.0) and np.all(first < 256.0)
    np.testing.assert_array_equal(model.dequantize(x).numpy(), first)  # same step, same noise
    assert first.std() > 0
    model.optimizer.iterations.assign(1)
    second = model.dequantize(x).numpy()
    assert not np.allclose(second, first)
    floats = x.astype("float32") + 0.25
    np.testing.assert_array_equal(model.dequantize(floats).numpy(), floats)  # as given
    np.testing.assert_array_equal(_nice("none").dequantize(x).numpy(), x)  # lattice fit


def test_dequantize_stays_below_the_top_of_the_range_in_float32():
    model = _nice()
    model.compile()
    x = np.full((4096, 16), 255, np.uint8)
    for step in range(4):
        model.optimizer.iterations.assign(step)
        assert float(tf.reduce_max(model.dequantize(x))) < 256.0


def test_a_training_step_on_integer_pixels_uses_the_dequantized_batch():
    model = _nice(n_bits=2)  # 4 levels: the noise moves a pixel by up to a quarter of its range
    rng = np.random.RandomState(0)
    for v in model.trainable_variables:  # away from the near-uniform start
        v.assign(v + rng.normal(scale=0.3, size=v.shape).astype("float32"))
    model.compile(optimizer=keras.optimizers.SGD(0.0), jit_compile=False)
    x = rng.randint(0, 4, size=(64, 16)).astype(np.uint8)
    model.optimizer.iterations.assign(5)
    dequantized = model.dequantize(x)
    loss = model.train_on_batch(x, return_dict=True)["loss"]
    expected = -np.mean(model.log_prob(dequantized).numpy().astype(np.float64))
    at_centres = -np.mean(model.log_prob(x).numpy().astype(np.float64))
    assert loss == pytest.approx(expected, rel=1e-5)
    assert abs(loss - at_centres) > 1e-3
    lattice = _nice("none", n_bits=2)
    lattice.set_weights(model.get_weights())
    lattice.compile(optimizer=keras.optimizers.SGD(0.0), jit_compile=False)
    assert lattice.train_on_batch(x, return_dict=True)["loss"] == pytest.approx(
        at_centres, rel=1e-5
    )


def _glow():
    return tfflow.Glow((4, 4, 1), levels=1, steps_per_level=2, hidden_channels=8)


@pytest.mark.parametrize("batch_size", [32, 7, 64])
def test_evaluate_is_the_mean_over_examples_for_any_batch_size(batch_size):
    model = tfflow.RealNVP((4,), coupling_layers=2, hidden_units=8)
    model.compile()
    rng = np.random.RandomState(0)
    x = (rng.normal(size=(33, 4)) * np.r_[np.ones(32), [30.0]][:, None]).astype("float32")
    nll = -model.log_prob(x).numpy().astype(np.float64)
    result = model.evaluate(x, batch_size=batch_size, verbose=0, return_dict=True)
    assert result["loss"] == pytest.approx(nll.mean(), rel=1e-5)
    assert result["bits_per_dim"] == pytest.approx(nll.mean() / (4 * math.log(2)), rel=1e-5)


def test_evaluate_reads_integer_pixels_at_bin_centres_like_log_prob():
    model = _glow()
    model.compile()
    x = np.random.RandomState(0).randint(0, 256, size=(33, 4, 4, 1)).astype(np.uint8)
    centres = -model.log_prob(x.astype("float32") + 0.5).numpy().astype(np.float64)
    np.testing.assert_allclose(-model.log_prob(x).numpy(), centres, rtol=1e-6)
    result = model.evaluate(x, batch_size=32, verbose=0, return_dict=True)
    assert result["loss"] == pytest.approx(centres.mean(), rel=1e-5)
    bits = model.bits_per_dim(x).numpy().astype(np.float64)
    assert result["bits_per_dim"] == pytest.approx(bits.mean(), rel=1e-5)


def test_fit_validation_metrics_are_the_mean_over_validation_examples():
    model = tfflow.RealNVP((4,), coupling_layers=2, hidden_units=8)
    model.compile()
    rng = np.random.RandomState(1)
    train = rng.normal(size=(64, 4)).astype("float32")
    val = (rng.normal(size=(33, 4)) * np.r_[np.ones(32), [30.0]][:, None]).astype("float32")
    history = model.fit(
        train, batch_size=32, epochs=1, verbose=0, validation_data=(val,), shuffle=False
    )
    nll = -model.log_prob(val).numpy().astype(np.float64)
    assert history.history["val_loss"][-1] == pytest.approx(nll.mean(), rel=1e-5)
