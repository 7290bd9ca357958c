"""Every public layer in `tfflow.layers`: config round trip, `.keras` saving, output shapes.

Modelled on keras-hub's `run_layer_test`/`run_serialization_test`: build the layer, give it
random weights (several layers start at zero, where a copy that lost its weights would still
agree), then check that `from_config(get_config())` with the weights copied over and a
`.keras` file reloaded with `keras.models.load_model` compute the same outputs. Only public
behaviour is used (config, weights through `get_weights`/`set_weights`, outputs, shapes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import pytest

import tfflow.layers as tl


@dataclass(frozen=True)
class LayerCase:
    """A small instance of one layer and the input shape it is called on."""

    make: Callable[[], keras.layers.Layer]
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]


CASES = {
    "MLP": LayerCase(
        lambda: tl.MLP(3, hidden_units=8, hidden_layers=2, activation="tanh", name="mlp"),
        (4, 5),
        (4, 3),
    ),
    "ResNet": LayerCase(
        lambda: tl.ResNet(4, hidden_channels=6, residual_blocks=2, l2_scale=1e-4, name="resnet"),
        (2, 4, 4, 3),
        (2, 4, 4, 4),
    ),
    "ResNet_no_batch_norm": LayerCase(
        lambda: tl.ResNet(4, hidden_channels=6, residual_blocks=1, batch_norm=False, name="rn"),
        (2, 4, 4, 3),
        (2, 4, 4, 4),
    ),
    "GlowBlock": LayerCase(
        lambda: tl.GlowBlock(6, hidden_channels=8, name="glow_block"), (2, 4, 4, 3), (2, 4, 4, 6)
    ),
    "ContextEncoder": LayerCase(
        lambda: tl.ContextEncoder((5,), features=6, name="context_encoder"), (4, 5), (4, 6)
    ),
    "ContextEncoder_image": LayerCase(
        lambda: tl.ContextEncoder((4, 4, 3), features=6, name="context_cnn"),
        (2, 4, 4, 3),
        (2, 4, 4, 6),
    ),
    "ZeroConv2D": LayerCase(
        lambda: tl.ZeroConv2D(5, kernel_size=3, logscale_factor=2.0, name="zero_conv"),
        (2, 4, 4, 3),
        (2, 4, 4, 5),
    ),
    "WeightNormConv2D": LayerCase(
        lambda: tl.WeightNormConv2D(4, kernel_size=3, l2_scale=1e-3, name="wn_conv"),
        (2, 4, 4, 3),
        (2, 4, 4, 4),
    ),
}
NAMES = sorted(CASES)


def test_every_public_layer_has_a_case():
    covered = {name.split("_")[0] for name in CASES} | {"ParameterSet"}
    assert covered == set(tl.__all__)


def _input(case: LayerCase) -> np.ndarray:
    return np.random.default_rng(0).normal(size=case.input_shape).astype("float32")


def _randomize(layer: keras.layers.Layer, seed: int = 1) -> None:
    """Sets every weight (trainable or not) to random non-initial values."""
    rng = np.random.default_rng(seed)
    values = []
    for weight in layer.weights:
        shape = tuple(weight.shape)
        if "variance" in weight.name:  # batch-norm moving variance must stay positive
            values.append(rng.uniform(0.5, 1.5, shape))
        else:
            values.append(rng.normal(0.0, 0.5, shape))
    layer.set_weights([v.astype(w.dtype) for v, w in zip(values, layer.weights, strict=True)])


def _built(case: LayerCase) -> tuple[keras.layers.Layer, np.ndarray]:
    layer = case.make()
    x = _input(case)
    layer(x)
    _randomize(layer)
    return layer, x


@pytest.mark.parametrize("name", NAMES)
def test_random_weights_change_the_output(name):
    """Guards the tests below: a fresh layer and a randomised one must disagree."""
    case = CASES[name]
    fresh = case.make()
    layer, x = _built(case)
    out = np.asarray(layer(x))
    assert np.std(out) > 1e-3
    assert not np.allclose(out, np.asarray(fresh(x)), atol=1e-4)


@pytest.mark.parametrize("name", NAMES)
def test_output_shapes(name):
    case = CASES[name]
    layer, x = _built(case)
    assert tuple(layer(x).shape) == case.output_shape
    assert tuple(layer.compute_output_shape(case.input_shape)) == case.output_shape
    symbolic = case.make()(keras.Input(case.input_shape[1:], batch_size=case.input_shape[0]))
    assert tuple(symbolic.shape) == case.output_shape


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trip(name):
    case = CASES[name]
    layer, x = _built(case)
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    clone(x)
    assert [w.name for w in clone.weights] == [w.name for w in layer.weights]
    assert [w.trainable for w in clone.weights] == [w.trainable for w in layer.weights]
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(np.asarray(clone(x)), np.asarray(layer(x)), rtol=1e-6, atol=1e-6)
    # Serialized through Keras' generic registry too (registered under package "tfflow").
    generic = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(generic) is type(layer) and generic.get_config() == config


@pytest.mark.parametrize("name", NAMES)
def test_saved_and_loaded_with_keras(name, tmp_path):
    case = CASES[name]
    layer = case.make()
    inputs = keras.Input(case.input_shape[1:])
    model = keras.Model(inputs, layer(inputs))
    _randomize(layer)
    x = _input(case)
    expected = np.asarray(model(x))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    restored = loaded.get_layer(layer.name)
    assert type(restored) is type(layer)
    assert restored.get_config() == layer.get_config()
    np.testing.assert_allclose(np.asarray(loaded(x)), expected, rtol=1e-6, atol=1e-6)
    for got, want in zip(restored.get_weights(), layer.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)


def test_regularizer_survives_round_trip():
    """WeightNormConv2D's L2 penalty on `g` is part of its public behaviour (`losses`)."""
    layer, x = _built(CASES["WeightNormConv2D"])
    clone = type(layer).from_config(layer.get_config())
    clone(x)
    clone.set_weights(layer.get_weights())
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(clone.losses[0]), float(layer.losses[0]), rtol=1e-6)


# ParameterSet only owns named weights (its call is the identity), so its outputs are its
# weights: the round trips compare names, shapes, trainability and values.


def _parameter_set() -> tl.ParameterSet:
    rng = np.random.default_rng(2)
    return tl.ParameterSet(
        {"loc": (3,), "log_scale": (1, 1, 3), "initialized": ()},
        trainable_names=("loc", "log_scale"),
        initial_values={"loc": rng.normal(size=3), "log_scale": rng.normal(size=(1, 1, 3))},
        name="params",
    )


def _weights_by_name(layer: keras.layers.Layer) -> dict[str, tuple[bool, np.ndarray]]:
    return {w.name: (w.trainable, np.asarray(w)) for w in layer.weights}


def test_parameter_set_initial_values_and_trainability():
    params = _parameter_set()
    weights = _weights_by_name(params)
    assert set(weights) == {"loc", "log_scale", "initialized"}
    assert {n for n, (t, _) in weights.items() if t} == {"loc", "log_scale"}
    assert weights["log_scale"][1].shape == (1, 1, 3)
    np.testing.assert_array_equal(weights["initialized"][1], 0.0)
    assert np.all(weights["loc"][1] != 0.0)


def test_parameter_set_config_round_trip():
    params = _parameter_set()
    params.set_weights([np.full(w.shape, 0.5 + i, "float32") for i, w in enumerate(params.weights)])
    config = params.get_config()
    clone = tl.ParameterSet.from_config(config)
    assert clone.get_config() == config
    want = _weights_by_name(params)
    got = _weights_by_name(clone)
    assert {n: (t, v.shape) for n, (t, v) in got.items()} == {
        n: (t, v.shape) for n, (t, v) in want.items()
    }
    clone.set_weights(params.get_weights())
    for name, (_, value) in _weights_by_name(clone).items():
        np.testing.assert_array_equal(value, want[name][1])


def test_parameter_set_saved_and_loaded_with_keras(tmp_path):
    params = _parameter_set()
    inputs = keras.Input((3,))
    model = keras.Model(inputs, params(inputs))
    params.set_weights([np.full(w.shape, 1.5 + i, "float32") for i, w in enumerate(params.weights)])
    path = tmp_path / "params.keras"
    model.save(path)
    restored = keras.models.load_model(path).get_layer("params")
    assert type(restored) is tl.ParameterSet
    assert restored.get_config() == params.get_config()
    want = _weights_by_name(params)
    got = _weights_by_name(restored)
    assert set(got) == set(want)
    for name, (trainable, value) in got.items():
        assert trainable == want[name][0], name
        np.testing.assert_array_equal(value, want[name][1])
