"""Property-based checks (hypothesis) over batch sizes, dtypes and extreme values."""

import functools

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tfflow
from tfflow import bijectors as tb

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def _models():
    rng = np.random.RandomState(0)
    models = {
        "glow": tfflow.Glow((4, 4, 1), levels=2, steps_per_level=2, hidden_channels=8),
        "realnvp": tfflow.RealNVP((4, 4, 1), num_scales=2, residual_blocks=1, hidden_channels=8),
        "realnvp_mnist_alpha": tfflow.RealNVP(
            (4, 4, 1), num_scales=1, residual_blocks=1, hidden_channels=8, alpha=1e-6
        ),
    }
    for model in models.values():
        for v in model.trainable_variables:
            v.assign(rng.normal(scale=0.05, size=v.shape))
    return models


pixel_values = st.one_of(
    st.just(0.0),
    st.just(255.0),
    st.just(np.nextafter(np.float32(256.0), np.float32(0.0))),
    st.floats(0.0, 255.99000549316406, width=32),
)


@SETTINGS
@given(
    name=st.sampled_from(["glow", "realnvp", "realnvp_mnist_alpha"]),
    batch=st.integers(1, 5),
    fill=st.sampled_from(["constant", "random"]),
    value=pixel_values,
    dtype=st.sampled_from([np.float32, np.float64, np.uint8]),
)
def test_log_prob_finite_and_round_trip_on_extreme_images(name, batch, fill, value, dtype):
    model = _models()[name]
    if fill == "constant":
        x = np.full((batch, 4, 4, 1), value)
    else:
        x = np.random.RandomState(batch).uniform(0, 256, size=(batch, 4, 4, 1))
        x = np.minimum(x, 255.99)
    x = x.astype(dtype) if dtype is not np.uint8 else np.floor(x).astype(np.uint8)
    log_prob = model.log_prob(x).numpy()
    assert log_prob.shape == (batch,)
    assert np.all(np.isfinite(log_prob)), (x.ravel()[:4], log_prob)
    # The data the model sees: uint8 pixels are the centres of their bins (x + 1/2).
    data = x.astype(np.float64) + (0.5 if dtype is np.uint8 else 0.0)
    back = model.decode(model.encode(x))
    np.testing.assert_allclose(back.numpy(), data, atol=2e-3 * 256)


@SETTINGS
@given(
    name=st.sampled_from(["glow", "realnvp"]),
    temperature=st.one_of(st.just(0.0), st.floats(1e-6, 5.0), st.just(50.0)),
    n=st.integers(1, 4),
    seed=st.integers(0, 2**31 - 1),
)
def test_sampling_is_finite_at_any_temperature(name, temperature, n, seed):
    samples = _models()[name].sample(n, temperature=temperature, seed=seed).numpy()
    assert samples.shape == (n, 4, 4, 1)
    assert np.all(np.isfinite(samples))


@SETTINGS
@given(
    distance=st.sampled_from([1e-6, 1e-4, 1e-2]),
    side=st.sampled_from(["low", "high"]),
    dtype=st.sampled_from([tf.float32, tf.float64]),
)
def test_logit_near_its_boundaries(distance, side, dtype):
    bijector = tb.Logit((3,), alpha=1e-6)
    value = distance if side == "low" else 1.0 - distance
    x = tf.fill([2, 3], tf.constant(value, dtype))
    y, ldj = tb.forward_and_log_det(bijector, x)
    assert np.all(np.isfinite(y.numpy())) and np.all(np.isfinite(ldj.numpy()))
    back = bijector.inverse(tf.identity(y))
    np.testing.assert_allclose(back.numpy(), x.numpy(), atol=1e-6 if dtype == tf.float32 else 1e-12)


@pytest.mark.parametrize("bad", [-1.0, 256.0, 1e9, -np.inf])
def test_out_of_support_pixels_give_minus_inf_never_nan(bad):
    model = _models()["realnvp"]
    x = np.full((2, 4, 4, 1), 100.0, np.float32)
    x[0, 1, 1, 0] = bad
    log_prob = model.log_prob(x).numpy()
    assert log_prob[0] == -np.inf
    assert np.isfinite(log_prob[1])


def test_nan_pixels_give_nan_only_for_that_example():
    model = _models()["glow"]
    x = np.full((2, 4, 4, 1), 100.0, np.float32)
    x[0, 0, 0, 0] = np.nan
    log_prob = model.log_prob(x).numpy()
    assert not np.isfinite(log_prob[0])
    assert np.isfinite(log_prob[1])
