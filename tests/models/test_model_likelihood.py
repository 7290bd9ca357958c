"""Exact likelihood of every model: autodiff Jacobian, round trips, TFP views, sampling."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from model_cases import MODELS, make_model, sample_data

tfb = tfp.bijectors
tfd = tfp.distributions

NAMES = sorted(MODELS)


def _base_log_prob(z: np.ndarray, prior: str) -> np.ndarray:
    """Closed-form log-density of the factorised standard normal or logistic prior."""
    if prior == "normal":
        return np.sum(-0.5 * z**2 - 0.5 * np.log(2.0 * np.pi), axis=-1)
    assert prior == "logistic", prior
    # log sigma'(z) = -softplus(z) - softplus(-z)
    return np.sum(-np.logaddexp(0.0, z) - np.logaddexp(0.0, -z), axis=-1)


def _independent_log_prob(model, x) -> np.ndarray:
    """Change of variables with the closed-form prior and the autodiff Jacobian of `encode`."""
    batch = int(x.shape[0])
    flat = tf.reshape(x, [batch, -1])
    with tf.GradientTape() as tape:
        tape.watch(flat)
        z = model.encode(tf.reshape(flat, (batch,) + model.data_shape))
    jacobian = tape.batch_jacobian(z, flat)
    return _base_log_prob(z.numpy(), model.prior) + tf.linalg.slogdet(jacobian)[1].numpy()


def _float64():
    keras.config.set_floatx("float64")
    keras.mixed_precision.set_global_policy("float64")


@pytest.mark.parametrize("name", NAMES)
def test_log_prob_equals_base_plus_autodiff_log_det(name):
    _float64()
    model = make_model(name)
    x = sample_data(model, 3)
    np.testing.assert_allclose(
        model.log_prob(x).numpy(), _independent_log_prob(model, x), rtol=1e-6
    )


@pytest.mark.parametrize("name", NAMES)
def test_decode_inverts_encode(name, floatx):
    model = make_model(name)
    x = sample_data(model, 5)
    x_back = model.decode(model.encode(x))
    tol = 1e-4 if floatx == "float32" else 1e-9
    scale = float(tf.reduce_max(tf.abs(x)))
    assert float(tf.reduce_max(tf.abs(x_back - x))) / scale < tol


@pytest.mark.parametrize("name", NAMES)
def test_log_prob_matches_tfp_distribution(name):
    model = make_model(name)
    x = sample_data(model, 4)
    np.testing.assert_allclose(
        model.log_prob(x).numpy(), model.distribution.log_prob(tf.identity(x)).numpy(), rtol=1e-5
    )


@pytest.mark.parametrize("name", NAMES)
def test_bits_per_dim_definition(name):
    _float64()
    model = make_model(name)
    x = sample_data(model, 4)
    dims = int(np.prod(model.data_shape))
    expected = -_independent_log_prob(model, x) / (dims * np.log(2.0))
    np.testing.assert_allclose(model.bits_per_dim(x).numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize(
    "name, bits",
    [
        ("nice", 2.0),  # logistic density at 0 is 1/4: -log2(1/4) = 2 bits per dimension
        ("realnvp_vector", 0.5 * np.log2(2.0 * np.pi)),  # N(0; 0, 1) = 1/sqrt(2 pi)
    ],
)
def test_bits_per_dim_of_the_initial_identity_flow_at_zero(name, bits):
    """Fresh vector models start at the identity (zero-initialised couplings)."""
    model = MODELS[name]()
    got = model.bits_per_dim(np.zeros((2,) + model.data_shape, np.float32)).numpy()
    np.testing.assert_allclose(got, [bits, bits], rtol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_samples_shape_finite_and_seeded(name):
    model = make_model(name)
    a = model.sample(4, temperature=0.7, seed=3)
    b = model.sample(4, temperature=0.7, seed=3)
    c = model.sample(4, temperature=0.7, seed=4)
    assert a.shape == (4,) + model.data_shape
    assert a.dtype == model.flow_dtype
    assert np.all(np.isfinite(a.numpy()))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), c.numpy())
    cold = model.sample(2, temperature=0.0, seed=1)
    np.testing.assert_allclose(cold.numpy(), model.decode(tf.zeros([2, model.event_size])).numpy())


def test_composition_with_tfp():
    model = make_model("realnvp_vector")
    x = sample_data(model, 3)
    shifted = tfd.TransformedDistribution(
        model.base_distribution, tfb.Chain([tfb.Shift(1.0), model.bijector])
    )
    np.testing.assert_allclose(
        shifted.log_prob(x + 1.0).numpy(), model.log_prob(x).numpy(), rtol=1e-5
    )
    other_base = tfd.MultivariateNormalDiag(tf.zeros(6), 2.0 * tf.ones(6))
    wide = tfd.TransformedDistribution(other_base, model.bijector)
    z = model.encode(x)
    flow_ldj = model.flow.forward_log_det_jacobian(tf.identity(x), event_ndims=1)
    np.testing.assert_allclose(
        wide.log_prob(tf.identity(x)).numpy(),
        (other_base.log_prob(z) + flow_ldj).numpy(),
        rtol=1e-5,
    )
    second = make_model("realnvp_vector", seed=1)
    mixture = tfd.Mixture(
        tfd.Categorical(probs=[0.3, 0.7]), [model.distribution, second.distribution]
    )
    expected = tf.reduce_logsumexp(
        tf.stack([np.log(0.3) + model.log_prob(x), np.log(0.7) + second.log_prob(x)]), axis=0
    )
    np.testing.assert_allclose(mixture.log_prob(x).numpy(), expected.numpy(), rtol=1e-5)


def test_pixel_models_out_of_support_is_minus_inf_not_nan():
    model = make_model("glow")
    x = sample_data(model, 3).numpy()
    x[0, 0, 0, 0] = 256.0
    x[1, 0, 0, 0] = -0.5
    log_prob = model.log_prob(x).numpy()
    assert log_prob[0] == -np.inf and log_prob[1] == -np.inf
    assert np.isfinite(log_prob[2])


def test_uint8_pixels_are_bin_centres():
    model = make_model("glow")
    x = np.random.RandomState(0).randint(0, 256, size=(2, 4, 4, 2)).astype(np.uint8)
    np.testing.assert_allclose(
        model.log_prob(x).numpy(), model.log_prob(x.astype(np.float32) + 0.5).numpy(), rtol=1e-6
    )


@pytest.mark.parametrize(
    "name, bad_shape",
    [("glow", (2, 4, 4)), ("glow", (2, 8, 8, 2)), ("realnvp_vector", (2, 5)), ("nice", (2, 4))],
)
def test_wrong_input_shape_is_a_clear_error(name, bad_shape):
    model = make_model(name)
    with pytest.raises(ValueError, match=r"`x` must have shape .* received shape"):
        model.log_prob(tf.zeros(bad_shape))


def test_float_model_rejects_integer_data():
    with pytest.raises(TypeError, match="floating point"):
        make_model("realnvp_vector").log_prob(np.zeros((2, 6), np.int32))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(num_samples=0), "`num_samples` must be a positive integer"),
        (dict(num_samples=2, temperature=-1.0), "`temperature` must be finite and >= 0"),
        (dict(num_samples=2, temperature=float("nan")), "`temperature` must be finite"),
    ],
)
def test_bad_sampling_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_model("nice").sample(**kwargs)


@pytest.mark.parametrize(
    "factory, message",
    [
        (lambda: __import__("tfflow").Glow((6, 6, 1), levels=2), "divisible by 2\\*\\*levels = 4"),
        (lambda: __import__("tfflow").NICE((7,)), "D even"),
        (lambda: __import__("tfflow").RealNVP((4, 4)), "must be \\(D,\\) or"),
        (lambda: __import__("tfflow").Glow((8, 8, 1), coupling="cubic"), "`coupling` must be"),
    ],
)
def test_bad_model_configuration(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()
