"""tfflow.latent: interpolation, temperature sweeps and attribute directions."""

import numpy as np
import pytest
import tensorflow as tf
from flow_asserts import randomize_weights

import tfflow
from tfflow.latent import apply_direction, attribute_direction, interpolate, temperature_sweep


class IdentityFlow:
    """The identity as a flow: its latent is its input, so expected latents are known by hand."""

    data_shape = (2,)
    num_classes = None

    def encode(self, x, labels=None):
        return tf.cast(x, tf.float32)

    def decode(self, z, labels=None):
        return tf.cast(z, tf.float32)


@pytest.fixture(scope="module")
def model():
    model = tfflow.RealNVP((2,), coupling_layers=4, hidden_units=16)
    randomize_weights(model.flow_layers, seed=3, scale=0.5)
    return model


def points(seed, n=2):
    return np.random.default_rng(seed).normal(size=(n, 2)).astype(np.float32)


def test_linear_interpolation_starts_and_ends_at_the_inputs_and_is_straight_in_latent(model):
    a, b = points(0)
    path = interpolate(model, a, b, num_steps=5)
    assert path.shape == (5, 2)
    np.testing.assert_allclose(path[0], a, atol=1e-5)
    np.testing.assert_allclose(path[-1], b, atol=1e-5)
    z = model.encode(path).numpy()
    # The path is not straight in data space (the flow is non-linear) ...
    assert not np.allclose(path[2], (a + b) / 2, atol=1e-3)
    # ... but its latents are evenly spaced on the segment from z_a to z_b.
    np.testing.assert_allclose(np.diff(z, axis=0), np.tile((z[-1] - z[0]) / 4, (4, 1)), atol=1e-4)


def test_spherical_interpolation_follows_the_great_circle():
    path = interpolate(IdentityFlow(), [1.0, 0.0], [0.0, 1.0], num_steps=3, method="spherical")
    np.testing.assert_allclose(path[1], [np.sqrt(0.5), np.sqrt(0.5)], atol=1e-6)
    linear = interpolate(IdentityFlow(), [1.0, 0.0], [0.0, 1.0], num_steps=3)
    np.testing.assert_allclose(linear[1], [0.5, 0.5], atol=1e-6)


def test_spherical_interpolation_of_parallel_latents_is_the_line():
    path = interpolate(IdentityFlow(), [1.0, 1.0], [2.0, 2.0], num_steps=3, method="spherical")
    np.testing.assert_allclose(path[1], [1.5, 1.5], atol=1e-6)


def test_interpolation_of_a_class_conditional_model_uses_the_class():
    model = tfflow.RealNVP((2,), coupling_layers=2, hidden_units=8, num_classes=3)
    randomize_weights(model.flow_layers, seed=1, scale=0.5)
    a, b = points(1)
    path = interpolate(model, a, b, num_steps=4, labels=2)
    np.testing.assert_allclose(np.asarray(path)[[0, -1]], [a, b], atol=1e-5)
    with pytest.raises(ValueError, match="class-conditional"):
        interpolate(model, a, b)


def test_temperature_sweep_shares_the_noise_between_rows(model):
    temperatures = [0.0, 0.5, 1.0]
    sweep = temperature_sweep(model, temperatures, num_samples=6, seed=7)
    assert sweep.shape == (3, 6, 2)
    z = model.encode(tf.reshape(sweep, (-1, 2))).numpy().reshape(3, 6, 2)
    np.testing.assert_allclose(z[0], 0.0, atol=1e-5)  # temperature 0: the prior's mode
    np.testing.assert_allclose(z[1] / 0.5, z[2], atol=1e-4)  # same eps, scaled
    np.testing.assert_allclose(sweep[2], model.sample(6, temperature=1.0, seed=7), atol=1e-6)


def test_attribute_direction_is_the_mean_latent_difference():
    x = np.array([[0, 0], [0, 2], [2, 0], [2, 2], [9, 9]], np.float32)
    labels = np.array([0, 0, 1, 1, 2])
    flow = IdentityFlow()
    np.testing.assert_allclose(attribute_direction(flow, x, labels, 1, 0), [2.0, 0.0])
    # negative=None: every other example, here means (2, 1) and (3, 11/3).
    np.testing.assert_allclose(
        attribute_direction(flow, x, labels, 1, batch_size=2), [-1.0, 1 - 11 / 3], rtol=1e-6
    )


def test_applying_a_direction_moves_the_latent_by_that_direction(model):
    x = points(2, n=3)
    direction = np.array([0.5, -1.0], np.float32)
    edits = apply_direction(model, x, direction, scales=[0.0, 2.0])
    assert edits.shape == (3, 2, 2)
    np.testing.assert_allclose(edits[:, 0], x, atol=1e-5)
    moved = model.encode(edits[:, 1]) - model.encode(x)
    np.testing.assert_allclose(moved, np.tile(2 * direction, (3, 1)), atol=1e-4)


def test_attribute_direction_of_real_model_matches_group_means(model):
    x = points(4, n=8)
    labels = np.array([0, 1] * 4)
    z = model.encode(x).numpy()
    expected = z[labels == 1].mean(0) - z[labels == 0].mean(0)
    np.testing.assert_allclose(attribute_direction(model, x, labels), expected, atol=1e-5)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: interpolate(m, [0.0, 0.0], [1.0, 1.0], num_steps=1), "`num_steps`"),
        (lambda m: interpolate(m, [0.0, 0.0], [1.0, 1.0], method="cubic"), "`method`"),
        (lambda m: interpolate(m, [0.0, 0.0, 0.0], [1.0, 1.0]), "`a` must be one example"),
        (lambda m: temperature_sweep(m, []), "`temperatures`"),
        (lambda m: temperature_sweep(m, [0.5, -1.0]), "`temperatures`"),
        (lambda m: temperature_sweep(m, [1.0], num_samples=0), "`num_samples`"),
        (lambda m: attribute_direction(m, np.zeros((3, 2)), [0, 1]), "`attributes`"),
        (lambda m: attribute_direction(m, np.zeros((2, 2)), [0, 0]), "`positive` selects"),
        (lambda m: attribute_direction(m, np.zeros((2, 3)), [0, 1]), "`x` must have shape"),
        (lambda m: apply_direction(m, np.zeros(2), [1.0, 0.0, 0.0]), "`direction`"),
        (lambda m: apply_direction(m, np.zeros(2), [1.0, 0.0], scales=[np.nan]), "`scales`"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call(IdentityFlow())


def test_attribute_direction_rejects_class_conditional_models():
    model = tfflow.RealNVP((2,), coupling_layers=2, hidden_units=8, num_classes=2)
    with pytest.raises(ValueError, match="unconditional"):
        attribute_direction(model, np.zeros((2, 2), np.float32), [0, 1])
