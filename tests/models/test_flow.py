"""`tfflow.Flow`: a model from any list of tfflow and TFP bijectors and a base distribution."""

from __future__ import annotations

import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfflow
from tfflow.bijectors import (
    ActNorm,
    AdditiveCoupling,
    AffineCoupling,
    InvertibleConv1x1,
    Partition,
    Squeeze,
)
from tfflow.callbacks import NonFiniteInputError
from tfflow.data import load_arrays
from tfflow.layers.mlp import MLP

tfb = tfp.bijectors
tfd = tfp.distributions


def _coupling(i: int, size: int = 2, hidden: int = 16, affine: bool = True):
    partition = Partition("half", (size,), parity=i % 2)
    width = partition.transformed_shape[-1]
    if affine:
        mlp = MLP(2 * width, hidden_units=hidden, hidden_layers=1, name=f"mlp{i}")
        return AffineCoupling(mlp, partition, name=f"coupling{i}")
    mlp = MLP(width, hidden_units=hidden, hidden_layers=1, name=f"mlp{i}")
    return AdditiveCoupling(mlp, partition, name=f"coupling{i}")


def _mixed_bijectors(dtype=tf.float32) -> list:
    """tfflow (ActNorm, couplings) and TFP (Permute, Scale, Shift with variables) bijectors."""
    return [
        ActNorm((2,), name="actnorm"),
        _coupling(0),
        tfb.Permute([1, 0]),
        _coupling(1),
        tfb.Scale(tf.Variable([1.0, 1.0], dtype=dtype, name="scale")),
        tfb.Shift(tf.Variable([0.0, 0.0], dtype=dtype, name="shift")),
    ]


def _randomise(model, seed: int = 0, scale: float = 0.2) -> None:
    rng = np.random.default_rng(seed)
    for v in model.trainable_variables:
        value = v.numpy()
        v.assign(value + scale * rng.standard_normal(value.shape).astype(value.dtype))


# ----- registered builders, for the `.keras` round trip ---------------------------------------
@keras.saving.register_keras_serializable(package="tfflow_tests")
def two_d_flow() -> list:
    return _mixed_bijectors()


@keras.saving.register_keras_serializable(package="tfflow_tests")
def learned_gaussian() -> tfd.Distribution:
    return tfd.MultivariateNormalDiag(
        tf.Variable([0.0, 0.0], name="base_loc"), tf.Variable([1.0, 1.0], name="base_scale")
    )


# ----- training ---------------------------------------------------------------------------------
def test_fit_reduces_loss_and_trains_tfp_bijector_variables():
    keras.utils.set_random_seed(0)
    moons = load_arrays("moons", num_examples=2048).train.astype("float32")
    bijectors = _mixed_bijectors()
    shift = bijectors[-1].shift
    model = tfflow.Flow((2,), bijectors)
    assert any(v is shift for v in model.trainable_variables)
    model.compile(learning_rate=3e-3)
    before = model.evaluate(moons, batch_size=512, verbose=0, return_dict=True)["loss"]
    history = model.fit(moons, batch_size=128, epochs=3, verbose=0)
    after = model.evaluate(moons, batch_size=512, verbose=0, return_dict=True)["loss"]
    assert np.all(np.isfinite(history.history["loss"]))
    assert after < before - 0.3, (before, after)
    assert not model.needs_initialization()
    assert np.any(shift.numpy() != 0.0)


def test_guard_restores_tfp_bijector_variables_after_non_finite_data():
    x = np.random.default_rng(0).normal(size=(256, 2)).astype("float32")
    x[200, 1] = np.nan
    model = tfflow.Flow((2,), _mixed_bijectors())
    model.compile()
    with pytest.raises(NonFiniteInputError, match="batch 3"):
        model.fit(x, batch_size=64, epochs=1, shuffle=False, verbose=0, init_examples=128)
    # The NaN step made every variable NaN; the guard restored all of them.
    for v in model.variables:
        assert np.all(np.isfinite(v.numpy())), v.name


# ----- densities --------------------------------------------------------------------------------
def _float64_case(name: str):
    keras.config.set_floatx("float64")
    keras.mixed_precision.set_global_policy("float64")
    if name == "vector":
        base = tfd.MultivariateNormalDiag(
            tf.constant([0.3, -0.2], tf.float64), tf.constant([0.7, 1.4], tf.float64)
        )
        return tfflow.Flow((2,), _mixed_bijectors(tf.float64), base=base), base
    # Elementwise TFP bijectors only on a (2, 3) event: the flow still sums its log-det over
    # the whole example and ends in the flat (6,) latent.
    base = tfd.Sample(tfd.Logistic(tf.constant(0.0, tf.float64), 1.0), [6])
    bijectors = [tfb.Scale(tf.Variable(tf.ones([2, 3], tf.float64))), tfb.Tanh(), tfb.Softplus()]
    return tfflow.Flow((2, 3), bijectors, base=base), base


@pytest.mark.parametrize("case", ["vector", "elementwise_matrix"])
def test_log_prob_is_the_change_of_variables_formula(case):
    model, base = _float64_case(case)
    _randomise(model)
    shape = model.data_shape
    x = tf.constant(np.random.default_rng(1).normal(size=(5, *shape)) * 0.5, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        z = tf.identity(model.encode(x))
    jacobian = tape.batch_jacobian(z, x)
    jacobian = tf.reshape(jacobian, (5, model.event_size, model.event_size))
    _, log_abs_det = tf.linalg.slogdet(jacobian)
    if case == "vector":  # the diagonal Gaussian's density, written out
        loc, scale = base.loc.numpy(), base.stddev().numpy()
        u = (z.numpy() - loc) / scale
        log_base = -0.5 * np.sum(u**2, -1) - np.sum(np.log(scale)) - math.log(2 * math.pi)
    else:  # the standard logistic's density, written out
        zn = z.numpy()
        log_base = np.sum(-zn - 2.0 * np.log1p(np.exp(-zn)), -1)
    expected = log_base + log_abs_det.numpy()
    np.testing.assert_allclose(model.log_prob(x).numpy(), expected, rtol=1e-10, atol=1e-10)
    assert z.shape == (5, model.event_size)


def test_distribution_agrees_with_log_prob_and_round_trips():
    model = tfflow.Flow((2,), _mixed_bijectors(), base=tfd.Sample(tfd.StudentT(4.0, 0.0, 1.0), [2]))
    _randomise(model)
    x = tf.constant(np.random.default_rng(2).normal(size=(6, 2)), tf.float32)
    np.testing.assert_allclose(
        model.distribution.log_prob(x).numpy(), model.log_prob(x).numpy(), rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(model.decode(model.encode(x)).numpy(), x.numpy(), atol=1e-5)
    samples = model.sample(4, seed=3)
    np.testing.assert_array_equal(samples.numpy(), model.sample(4, seed=3).numpy())
    assert not np.array_equal(samples.numpy(), model.sample(4, seed=4).numpy())
    # The samples decode the base's own stateless draw.
    z = model.base_distribution.sample(4, seed=tf.bitcast(tf.constant(3, tf.int64), tf.int32))
    np.testing.assert_allclose(samples.numpy(), model.decode(z).numpy(), rtol=1e-6)
    np.testing.assert_allclose(model.encode(samples).numpy(), z.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(
        model.bits_per_dim(x).numpy(), -model.log_prob(x).numpy() / (2 * math.log(2)), rtol=1e-6
    )


def test_image_flow_ends_in_the_flat_latent():
    model = tfflow.Flow(
        (4, 4, 1), [Squeeze(), ActNorm((2, 2, 4)), InvertibleConv1x1((2, 2, 4))], base="logistic"
    )
    _randomise(model)
    x = tf.random.stateless_normal([3, 4, 4, 1], [0, 1])
    z = model.encode(x)
    assert z.shape == (3, 16)
    np.testing.assert_allclose(model.decode(z).numpy(), x.numpy(), atol=1e-5)
    assert model.sample(2, seed=0).shape == (2, 4, 4, 1)
    np.testing.assert_allclose(
        model.distribution.log_prob(x).numpy(), model.log_prob(x).numpy(), rtol=1e-5
    )


def test_pixel_flow_is_zero_outside_the_pixel_range():
    from tfflow.bijectors.logit import logit_preprocessing

    model = tfflow.Flow(
        (4,), [*logit_preprocessing((4,), 8, 0.05), _coupling(0, size=4, affine=False)], pixels=True
    )
    x = np.array([[3, 100, 200, 255], [0, 0, 0, 256]], np.float32)
    log_prob = model.log_prob(x).numpy()
    assert np.isfinite(log_prob[0]) and log_prob[1] == -np.inf
    # Integer pixels are read at their bin centres.
    np.testing.assert_allclose(
        model.log_prob(x[:1].astype(np.int32)).numpy(), model.log_prob(x[:1] + 0.5).numpy()
    )


# ----- saving -----------------------------------------------------------------------------------
def test_keras_file_round_trip_with_registered_builders(tmp_path):
    model = tfflow.Flow((2,), two_d_flow, base=learned_gaussian)
    _randomise(model, seed=5)
    assert len(model.trainable_variables) == 2 + 2 * 5 + 2 + 2  # Keras, TFP bijectors, base
    x = np.random.default_rng(3).normal(size=(4, 2)).astype("float32")
    config = model.get_config()
    json.dumps(config)
    model.save(tmp_path / "flow.keras")
    loaded = keras.models.load_model(tmp_path / "flow.keras")
    assert type(loaded) is tfflow.Flow
    np.testing.assert_allclose(loaded.log_prob(x).numpy(), model.log_prob(x).numpy(), rtol=1e-6)
    np.testing.assert_allclose(
        loaded.sample(3, seed=1).numpy(), model.sample(3, seed=1).numpy(), rtol=1e-5
    )
    for a, b in zip(loaded.variables, model.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_saving_a_flow_of_bijector_objects_explains_how(tmp_path):
    model = tfflow.Flow((2,), _mixed_bijectors())
    with pytest.raises(NotImplementedError, match="register_keras_serializable"):
        model.save(tmp_path / "flow.keras")
    assert not (tmp_path / "flow.keras").exists()
    # The documented alternative: weights only, TFP bijector variables included.
    _randomise(model, seed=9)
    model.save_weights(tmp_path / "flow.weights.h5")
    fresh = tfflow.Flow((2,), _mixed_bijectors())
    fresh.load_weights(tmp_path / "flow.weights.h5")
    for a, b in zip(fresh.variables, model.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(NotImplementedError, match="`base`"):
        tfflow.Flow((2,), two_d_flow, base=tfd.Sample(tfd.Normal(0.0, 1.0), [2])).get_config()


# ----- export -----------------------------------------------------------------------------------
# tests/serving/test_export_signatures.py checks a Flow's every signature in a TensorFlow-only
# process; here: the served model against the Python one, and its rebuild from the card.
def test_export_serves_and_rebuilds_a_flow_of_registered_builders(tmp_path):
    model = tfflow.Flow((2,), two_d_flow, base=learned_gaussian)
    _randomise(model, seed=7)
    x = np.random.default_rng(4).normal(size=(5, 2)).astype("float32")
    version = tfflow.export(model, tmp_path / "flow", warmup=False)
    served = tfflow.load_served(tmp_path / "flow")
    np.testing.assert_allclose(served.log_prob(x), model.log_prob(x), rtol=1e-5)
    np.testing.assert_array_equal(served.sample(3, 0.8, seed=7), model.sample(3, 0.8, seed=7))
    card = tfflow.serving.read_model_card(version)
    assert card["prior"] is None and card["config"]["bijectors"]["config"] == (
        "tfflow_tests>two_d_flow"
    )
    rebuilt = served.to_model()
    assert type(rebuilt) is tfflow.Flow
    np.testing.assert_allclose(rebuilt.log_prob(x), model.log_prob(x), rtol=1e-6)


# ----- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("bijectors", "base", "error", "match"),
    [
        (tfb.Shift([1.0, 0.0]), "normal", TypeError, r"`bijectors` must be a list.*Shift"),
        ([tfb.Identity(), "scale"], "normal", TypeError, r"`bijectors\[1\]`.*str"),
        ([], "cauchy", ValueError, r"`base` must be one of \('normal', 'logistic'\).*'cauchy'"),
        ([], tfd.Normal(0.0, 1.0), ValueError, r"event shape \(2,\).*received event shape \(\)"),
        (
            [],
            tfd.MultivariateNormalDiag(tf.zeros(3)),
            ValueError,
            r"event shape \(2,\).*received event shape \(3,\)",
        ),
        (
            [],
            tfd.MultivariateNormalDiag(tf.zeros([4, 2])),
            ValueError,
            r"empty batch shape.*received batch shape \(4,\)",
        ),
        (
            [],
            tfd.MultivariateNormalDiag(tf.zeros(2, tf.float64)),
            ValueError,
            r"dtype float32; received float64",
        ),
        ([], 3.0, TypeError, r"`base` must be .*received an object of type float"),
        ([tfb.Reshape([3], [2])], "normal", ValueError, r"2 latent values.*\(3,\)"),
    ],
)
def test_bad_arguments_are_named(bijectors, base, error, match):
    with pytest.raises(error, match=match):
        tfflow.Flow((2,), bijectors, base=base)


# ----- the example ------------------------------------------------------------------------------
def test_flow_moons_example_smoke_run(tmp_path, capsys):
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[2] / "examples" / "flow_moons.py"
    spec = importlib.util.spec_from_file_location("example_flow_moons", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--smoke", "--epochs", "1", "--out", str(tmp_path)]) == 0
    assert "saved and reloaded" in capsys.readouterr().out
    assert (tmp_path / "flow_moons.png").stat().st_size > 10_000
