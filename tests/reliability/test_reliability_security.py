"""Security: safe-mode loading of every model and layer, and no code execution from data.

- Every tfflow model and layer saves to `.keras` and loads with `safe_mode=True` (Keras refuses
  to deserialise code, e.g. `Lambda` layers, in safe mode), computing the same values.
  `ParameterSet` (no call of its own) is saved inside every model with ActNorm or a 1x1
  convolution.
- The package source never calls `eval`/`exec`, imports `pickle`/`marshal`, uses a `Lambda`
  layer or opts out of safe loading: an AST scan of tfflow/**/*.py.
The command line's "writes only inside its run directory" check is in
tests/cli/test_cli_writes_only_run_dir.py.
"""

import ast
import pathlib

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfflow
from tfflow import layers as tl

PACKAGE = pathlib.Path(tfflow.__file__).parent

MODELS = {
    "nice": lambda: tfflow.NICE((8,), coupling_layers=3, hidden_layers=1, hidden_units=8),
    "nice_pixels": lambda: tfflow.NICE(
        (16,), coupling_layers=2, hidden_layers=1, hidden_units=8, pixels=True
    ),
    "realnvp_vector": lambda: tfflow.RealNVP((6,), coupling_layers=2, hidden_units=8),
    "realnvp_image": lambda: tfflow.RealNVP(
        (4, 4, 1), num_scales=2, residual_blocks=1, hidden_channels=8
    ),
    "glow": lambda: tfflow.Glow((4, 4, 1), levels=2, steps_per_level=1, hidden_channels=8),
    "glow_conditional": lambda: tfflow.Glow(
        (4, 4, 1), levels=1, steps_per_level=1, hidden_channels=8, num_classes=3
    ),
}


def _data(model, batch: int = 4) -> tf.Tensor:
    rng = np.random.RandomState(1)
    shape = (batch,) + tuple(model.data_shape)
    if model.pixels:
        return tf.constant(rng.uniform(0, 2.0**model.n_bits, size=shape), tf.float32)
    return tf.constant(rng.normal(size=shape), tf.float32)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_loads_in_safe_mode_with_identical_log_prob(name, tmp_path):
    model = MODELS[name]()
    rng = np.random.RandomState(0)
    for v in model.trainable_variables:  # away from the identity initialisation
        v.assign(rng.normal(scale=0.05, size=v.shape))
    x = _data(model)
    labels = tf.constant([0, 2, 1, 2]) if model.num_classes else None
    if model.needs_initialization():
        model.initialize(x, labels)
    model.compile()  # the compile config is restored too
    model.optimizer.build(model.trainable_variables)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.log_prob(x, labels).numpy(), model.log_prob(x, labels))
    assert np.all(np.isfinite(model.log_prob(x, labels).numpy()))


LAYERS = {
    "MLP": (lambda: tl.MLP(4, hidden_units=8, hidden_layers=2), (6,)),
    "ResNet": (lambda: tl.ResNet(2, hidden_channels=8, residual_blocks=1), (4, 4, 2)),
    "GlowBlock": (lambda: tl.GlowBlock(2, hidden_channels=8), (4, 4, 2)),
    "ZeroConv2D": (lambda: tl.ZeroConv2D(2), (4, 4, 2)),
    "WeightNormConv2D": (lambda: tl.WeightNormConv2D(2), (4, 4, 2)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_loads_in_safe_mode_with_identical_outputs(name, tmp_path):
    build, shape = LAYERS[name]
    inputs = keras.Input(shape)
    model = keras.Model(inputs, build()(inputs))
    rng = np.random.RandomState(0)
    for v in model.trainable_variables:
        v.assign(rng.normal(scale=0.1, size=v.shape))
    x = rng.normal(size=(3, *shape)).astype("float32")
    model.save(tmp_path / "layer.keras")
    loaded = keras.models.load_model(tmp_path / "layer.keras", safe_mode=True)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_safe_mode_does_refuse_code(tmp_path):
    """The control: the check above would catch a model that needs code to load."""
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2.0)(inputs))
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(ValueError, match="safe_mode"):
        keras.models.load_model(tmp_path / "lambda.keras", safe_mode=True)


# ----- source scan --------------------------------------------------------------------------------

FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_MODULES = {"pickle", "cPickle", "_pickle", "marshal", "dill", "cloudpickle", "shelve"}
FORBIDDEN_NAMES = {"Lambda", "enable_unsafe_deserialization", "load_module"}
# Keyword arguments that would opt out of a safe default.
FORBIDDEN_KEYWORDS = {("allow_pickle", True), ("safe_mode", False)}


def scan(source: str, filename: str = "<source>") -> list[str]:
    """Unsafe constructs in Python `source`, as `file:line: what` strings."""
    problems = []
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in FORBIDDEN_CALLS:
                problems.append(f"{where}: call to {node.func.id}()")
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in FORBIDDEN_MODULES:
                    problems.append(f"{where}: import {alias.name}")
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in FORBIDDEN_MODULES:
                problems.append(f"{where}: from {node.module} import ...")
        if isinstance(node, ast.Name | ast.Attribute | ast.alias):
            name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
            name = name or getattr(node, "name", None)
            if name and name.split(".")[-1] in FORBIDDEN_NAMES | FORBIDDEN_MODULES:
                problems.append(f"{where}: uses {name}")
        if isinstance(node, ast.keyword) and isinstance(node.value, ast.Constant):
            if (node.arg, node.value.value) in FORBIDDEN_KEYWORDS:
                problems.append(f"{where}: {node.arg}={node.value.value}")
    return sorted(set(problems))


def test_scanner_finds_each_unsafe_construct():
    bad = """
import pickle
from marshal import loads
import numpy as np
x = eval("1")
exec("y = 1")
layer = keras.layers.Lambda(lambda t: t)
np.load("a.npy", allow_pickle=True)
keras.models.load_model("m.keras", safe_mode=False)
keras.config.enable_unsafe_deserialization()
"""
    found = "\n".join(scan(bad))
    for fragment in (
        "import pickle",
        "from marshal",
        "eval()",
        "exec()",
        "uses Lambda",
        "allow_pickle=True",
        "safe_mode=False",
        "enable_unsafe_deserialization",
    ):
        assert fragment in found, found
    safe = 'np.load("a.npy", allow_pickle=False)\nmodel.evaluate(x)\nkeras.models.load_model(p)\n'
    assert scan(safe) == []


def test_package_source_has_no_eval_exec_pickle_marshal_or_lambda_layers():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 30  # the scan really covers the package
    problems = [p for path in files for p in scan(path.read_text(), str(path.relative_to(PACKAGE)))]
    assert problems == []
