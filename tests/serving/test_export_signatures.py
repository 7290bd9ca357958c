"""Exported SavedModels equal the Python models, in a process that never imports tfflow/TFP.

Each model type is exported once at toy size with randomised weights (module fixture); one
subprocess importing only TensorFlow loads all of them, calls every signature and compares
with values computed here. `glow_conditional` is class-conditional: its signatures also take
`labels`. `flow` is a `tfflow.Flow` of tfflow and TFP bijectors with a Student-t base: its
`sample` signature draws from the TFP base in the graph.
"""

from __future__ import annotations

import json
import pathlib
import shutil

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from tf_only import export_jobs, run_tf_only

import tfflow
from tfflow.serving import ServedModel, load_served, read_model_card, samples_to_uint8

TEMPERATURE, SEED, NUM_SAMPLES = 0.8, 7, 3
# The served draw is the Python draw (same stateless noise, decoded by the same ops), and for
# these models the served samples are bit-identical to eager `model.sample`. For RealNVP on
# pixels, TF's graph optimizer (constant folding and arithmetic rewrites of the logit and
# pixel-scaling constants) reassociates float32 products, so samples agree to a few ulp only.
BIT_EXACT_SAMPLES = ("nice_pixels", "realnvp_vector", "glow", "glow_conditional", "flow")
# Labels of the samples of a class-conditional model: one per sample, and a single label (a
# length-1 vector, broadcast) for the second seed.
SAMPLE_LABELS, SINGLE_SAMPLE_LABEL = [2, 0, 1], [1]

MODELS = {
    "nice_pixels": lambda: tfflow.NICE(
        (16,), coupling_layers=2, hidden_layers=1, hidden_units=16, pixels=True
    ),
    "realnvp_vector": lambda: tfflow.RealNVP((2,), coupling_layers=4, hidden_units=16),
    "realnvp_image": lambda: tfflow.RealNVP(
        (8, 8, 1), num_scales=2, residual_blocks=1, hidden_channels=8
    ),
    "glow": lambda: tfflow.Glow((8, 8, 1), levels=2, steps_per_level=2, hidden_channels=16),
    "glow_conditional": lambda: tfflow.Glow(
        (8, 8, 1), levels=2, steps_per_level=1, hidden_channels=8, num_classes=3
    ),
    "flow": lambda: _flow(),
}


def _flow() -> tfflow.Flow:
    """A Flow mixing tfflow and TFP bijectors (with variables), over a learned Student-t."""
    tfb, tfd = tfp.bijectors, tfp.distributions
    partition = tfflow.bijectors.Partition("half", (2,), parity=0)
    mlp = tfflow.layers.MLP(2, hidden_units=8, hidden_layers=1)
    return tfflow.Flow(
        (2,),
        [
            tfflow.bijectors.AffineCoupling(mlp, partition),
            tfb.Permute([1, 0]),
            tfb.Scale(tf.Variable([1.0, 1.0])),
            tfb.Shift(tf.Variable([0.0, 0.0])),
        ],
        base=tfd.Sample(tfd.StudentT(tf.Variable(5.0), 0.0, 1.0), [2]),
    )


def _data_scale(model: tfflow.FlowModel) -> float:
    return 2.0**model.n_bits if model.pixels else 1.0


def _assert_samples_match(name: str, model: tfflow.FlowModel, got, want) -> None:
    if name in BIT_EXACT_SAMPLES:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * _data_scale(model))


def _randomise(model: tfflow.FlowModel, seed: int) -> None:
    """Moves every trainable weight away from its (identity-making) initial value."""
    rng = np.random.default_rng(seed)
    for variable in model.trainable_variables:
        value = variable.numpy()  # Keras variables, and a Flow's TFP tf.Variables
        noise = 0.1 * rng.standard_normal(value.shape)
        variable.assign(value + noise.astype(value.dtype))


def _reference(model: tfflow.FlowModel, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    shape = (5,) + model.data_shape
    if model.pixels:
        x = rng.uniform(0, 2**model.n_bits, shape).astype(np.float32)
    else:
        x = rng.standard_normal(shape).astype(np.float32)
    labels = sample_labels = single_label = None
    if model.num_classes is not None:
        labels = rng.integers(0, model.num_classes, shape[0]).astype(np.int32)
        sample_labels = np.array(SAMPLE_LABELS, np.int32)
        single_label = np.array(SINGLE_SAMPLE_LABEL, np.int32)
    z = model.encode(x, labels).numpy()
    samples = model.sample(NUM_SAMPLES, TEMPERATURE, SEED, labels=sample_labels).numpy()
    ref = {
        "x": x,
        "log_prob": model.log_prob(x, labels).numpy(),
        "bits_per_dim": model.bits_per_dim(x, labels).numpy(),
        "z": z,
        "decoded": model.decode(z, labels).numpy(),
        "samples": samples,
        "samples_seed_plus_1": model.sample(
            NUM_SAMPLES, TEMPERATURE, SEED + 1, labels=single_label
        ).numpy(),
    }
    if labels is not None:
        ref.update(labels=labels, sample_labels=sample_labels, single_label=single_label)
    if model.pixels:
        x_uint8 = rng.integers(0, 256, shape).astype(np.uint8)
        ref["x_uint8"] = x_uint8
        ref["log_prob_uint8"] = model.log_prob(tf.constant(x_uint8), labels).numpy()
        ref["samples_uint8"] = samples_to_uint8(tf.constant(samples), model.n_bits).numpy()
    return ref


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, tuple[tfflow.FlowModel, pathlib.Path, dict]]:
    base = tmp_path_factory.mktemp("exports")
    out = {}
    for i, (name, build) in enumerate(MODELS.items()):
        model = build()
        _randomise(model, seed=i)
        ref = _reference(model, seed=100 + i)
        assert np.all(np.isfinite(ref["log_prob"])), name
        version_dir = tfflow.export(model, base / name, metadata={"dataset": "toy"})
        np.savez(base / f"{name}.npz", **ref)
        out[name] = (model, version_dir, ref)
    return out


# Runs in a process importing TensorFlow and NumPy only (`tf_only.run_tf_only`).
_CHECK = """
    def rel_err(a, b):
        return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-30)))

    for name, version_dir, npz in JOBS:
        ref = dict(np.load(npz))
        loaded = tf.saved_model.load(version_dir)
        sig = loaded.signatures
        pixels = "x_uint8" in ref
        conditional = "labels" in ref
        lab = {"labels": tf.constant(ref["labels"])} if conditional else {}
        r = {"signatures": sorted(sig)}
        r["inputs"] = {
            k: sorted(f.structured_input_signature[1]) for k, f in sig.items()
        }
        for key in ("serving_default", "log_prob"):
            out = sig[key](x=tf.constant(ref["x"]), **lab)
            r[key + "_outputs"] = sorted(out)
            r[key + "_rel_err"] = rel_err(out["log_prob"].numpy(), ref["log_prob"])
            r[key + "_bpd_rel_err"] = rel_err(out["bits_per_dim"].numpy(), ref["bits_per_dim"])
        if pixels:
            out = sig["log_prob_uint8"](x=tf.constant(ref["x_uint8"]), **lab)
            r["log_prob_uint8_rel_err"] = rel_err(out["log_prob"].numpy(), ref["log_prob_uint8"])
        args = dict(
            num_samples=tf.constant(3, tf.int32),
            temperature=tf.constant(0.8, tf.float32),
            seed=tf.constant(7, tf.int64),
        )
        other_args = dict(args, seed=tf.constant(8, tf.int64))
        if conditional:
            args["labels"] = tf.constant(ref["sample_labels"])
            other_args["labels"] = tf.constant(ref["single_label"])
        out = sig["sample"](**args)
        again = sig["sample"](**args)
        other = sig["sample"](**other_args)
        r["sample_outputs"] = sorted(out)
        r["sample_dtypes"] = {k: v.dtype.name for k, v in out.items()}
        r["samples_equal"] = bool(np.array_equal(out["samples"].numpy(), ref["samples"]))
        r["samples_max_err"] = float(np.max(np.abs(out["samples"].numpy() - ref["samples"])))
        r["samples_repeat_equal"] = bool(
            np.array_equal(out["samples"].numpy(), again["samples"].numpy())
        )
        r["samples_seed_plus_1_max_err"] = float(
            np.max(np.abs(other["samples"].numpy() - ref["samples_seed_plus_1"]))
        )
        if pixels:
            r["samples_uint8_mismatches"] = int(
                np.sum(out["samples_uint8"].numpy() != ref["samples_uint8"])
            )
        z = sig["encode"](x=tf.constant(ref["x"]), **lab)["z"].numpy()
        r["encode_max_err"] = float(np.max(np.abs(z - ref["z"])))
        x = sig["decode"](z=tf.constant(ref["z"]), **lab)["x"].numpy()
        r["decode_max_err"] = float(np.max(np.abs(x - ref["decoded"])))
        r["decode_shape"] = list(x.shape)
        lab1 = {"labels": tf.constant(ref["labels"][:1])} if conditional else {}
        batch1 = sig["log_prob"](x=tf.constant(ref["x"][:1]), **lab1)["log_prob"].numpy()
        r["batch1_rel_err"] = rel_err(batch1, ref["log_prob"][:1])
        report[name] = r
"""


@pytest.fixture(scope="module")
def subprocess_report(exported, tmp_path_factory) -> dict:
    return run_tf_only(_CHECK, export_jobs(exported), tmp_path_factory.mktemp("script"))


def test_loading_needs_neither_tfflow_nor_tfp(subprocess_report):
    assert subprocess_report["leaked_modules"] == []


@pytest.mark.parametrize("name", list(MODELS))
def test_signatures_listed(name, exported, subprocess_report):
    model = exported[name][0]
    expected = {"serving_default", "log_prob", "sample", "encode", "decode"}
    if model.pixels:
        expected.add("log_prob_uint8")
    report = subprocess_report[name]
    assert set(report["signatures"]) == expected
    assert report["log_prob_outputs"] == ["bits_per_dim", "log_prob"]
    assert report["serving_default_outputs"] == ["bits_per_dim", "log_prob"]
    sample_outputs = ["samples", "samples_uint8"] if model.pixels else ["samples"]
    assert report["sample_outputs"] == sample_outputs
    assert report["sample_dtypes"]["samples"] == "float32"
    if model.pixels:
        assert report["sample_dtypes"]["samples_uint8"] == "uint8"
    # Only class-conditional models take `labels`; the others keep their exact inputs.
    labels = ["labels"] if model.num_classes is not None else []
    data_inputs = {"decode": ["z"], "sample": ["num_samples", "seed", "temperature"]}
    for signature, inputs in report["inputs"].items():
        assert inputs == sorted(data_inputs.get(signature, ["x"]) + labels), signature


@pytest.mark.parametrize("name", list(MODELS))
def test_log_prob_matches_python_model(name, subprocess_report):
    report = subprocess_report[name]
    for key in ("serving_default_rel_err", "log_prob_rel_err", "log_prob_bpd_rel_err"):
        assert report[key] <= 1e-5, key
    assert report["batch1_rel_err"] <= 1e-5
    if "log_prob_uint8_rel_err" in report:
        assert report["log_prob_uint8_rel_err"] <= 1e-5


@pytest.mark.parametrize("name", list(MODELS))
def test_samples_identical_for_same_seed(name, exported, subprocess_report):
    report = subprocess_report[name]
    assert report["samples_repeat_equal"]
    if name in BIT_EXACT_SAMPLES:
        assert report["samples_equal"]
        assert report["samples_max_err"] == 0.0
        assert report["samples_seed_plus_1_max_err"] == 0.0
        if "samples_uint8_mismatches" in report:
            assert report["samples_uint8_mismatches"] == 0
    else:
        scale = _data_scale(exported[name][0])
        assert report["samples_max_err"] <= 1e-5 * scale
        assert report["samples_seed_plus_1_max_err"] <= 1e-5 * scale


@pytest.mark.parametrize("name", list(MODELS))
def test_encode_decode_match_python_model(name, exported, subprocess_report):
    report = subprocess_report[name]
    scale = _data_scale(exported[name][0])
    assert report["encode_max_err"] <= 1e-4
    # Graph-mode constant folding reorders float32 arithmetic (logit + rescaling): allow
    # 1e-4 of the data scale, a few float32 ulps after the steep inverse logit.
    assert report["decode_max_err"] <= 1e-4 * scale
    assert report["decode_shape"] == [5, *exported[name][0].data_shape]


def test_samples_differ_across_seeds(exported):
    ref = exported["glow"][2]
    assert not np.array_equal(ref["samples"], ref["samples_seed_plus_1"])


@pytest.mark.parametrize("name", list(MODELS))
def test_load_served_wrapper_matches_model(name, exported):
    model, version_dir, ref = exported[name]
    served = load_served(version_dir.parent)  # model dir: picks the latest version
    assert isinstance(served, ServedModel)
    assert served.path == version_dir and served.version == 1
    assert served.data_shape == model.data_shape
    assert served.conditional == (model.num_classes is not None)
    assert served.num_classes == model.num_classes
    labels, sample_labels = ref.get("labels"), ref.get("sample_labels")
    np.testing.assert_allclose(served.log_prob(ref["x"], labels), ref["log_prob"], rtol=1e-5)
    np.testing.assert_allclose(
        served.bits_per_dim(ref["x"], labels), ref["bits_per_dim"], rtol=1e-5
    )
    _assert_samples_match(
        name, model, served.sample(NUM_SAMPLES, TEMPERATURE, SEED, sample_labels), ref["samples"]
    )
    np.testing.assert_allclose(served.encode(ref["x"], labels), ref["z"], rtol=1e-5, atol=1e-4)
    if model.pixels:
        np.testing.assert_allclose(
            served.log_prob(ref["x_uint8"], labels), ref["log_prob_uint8"], rtol=1e-5
        )
        uint8 = served.sample(NUM_SAMPLES, TEMPERATURE, SEED, sample_labels, as_uint8=True).numpy()
        # Off by at most one level where a sample sits on a bin edge (RealNVP's few ulp).
        assert np.max(np.abs(uint8.astype(int) - ref["samples_uint8"].astype(int))) <= (
            0 if name in BIT_EXACT_SAMPLES else 1
        )
    else:
        with pytest.raises(ValueError, match="as_uint8"):
            served.sample(1, as_uint8=True)


def test_load_served_labels(exported):
    model, version_dir, ref = exported["glow_conditional"]
    served = load_served(version_dir)
    # A scalar label stands for the whole batch (or every sample), as in `FlowModel`.
    np.testing.assert_allclose(served.log_prob(ref["x"], 2), model.log_prob(ref["x"], 2), rtol=1e-5)
    # The same seed gives the same samples; through `load_served` they agree to float32
    # rounding (a CI run saw one element of 192 differ by one ulp), while the bit-exact
    # equality of the raw signatures is checked in the TensorFlow-only process.
    np.testing.assert_allclose(
        served.sample(NUM_SAMPLES, TEMPERATURE, SEED + 1, labels=1),
        ref["samples_seed_plus_1"],
        rtol=1e-6,
        atol=0,
    )
    np.testing.assert_allclose(
        served.decode(ref["z"], ref["labels"]), ref["decoded"], rtol=1e-5, atol=1e-3
    )
    for method, args in [
        (served.log_prob, (ref["x"],)),
        (served.encode, (ref["x"],)),
        (served.decode, (ref["z"],)),
        (served.sample, (2,)),
    ]:
        with pytest.raises(ValueError, match=r"class-conditional: pass `labels` .*\[0, 3\)"):
            method(*args)
    with pytest.raises(TypeError, match="`labels` must be integers"):
        served.log_prob(ref["x"], np.zeros(5, np.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"`labels` must lie in \[0, 3\)"):
        served.log_prob(ref["x"], [0, 1, 2, 3, 0])
    unconditional = load_served(exported["glow"][1])
    with pytest.raises(ValueError, match="without classes"):
        unconditional.log_prob(exported["glow"][2]["x"], [0] * 5)


def test_load_served_accepts_version_dir_and_rejects_others(exported, tmp_path):
    version_dir = exported["realnvp_vector"][1]
    assert load_served(version_dir).path == version_dir
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        load_served(tmp_path)


@pytest.mark.parametrize("name", ["glow", "glow_conditional"])
def test_to_model_rebuilds_python_model(name, exported):
    model, version_dir, ref = exported[name]
    rebuilt = load_served(version_dir).to_model()
    assert type(rebuilt) is type(model) and rebuilt.num_classes == model.num_classes
    labels = ref.get("labels")
    np.testing.assert_allclose(rebuilt.log_prob(ref["x"], labels), ref["log_prob"], rtol=1e-5)
    np.testing.assert_array_equal(
        rebuilt.sample(NUM_SAMPLES, TEMPERATURE, SEED, labels=ref.get("sample_labels")),
        ref["samples"],
    )


def test_model_card_contents(exported):
    model, version_dir, _ = exported["glow"]
    card = read_model_card(version_dir)
    assert card == load_served(version_dir).card
    assert card["model_class"] == "Glow"
    assert card["config"] == json.loads(json.dumps(model.get_config()))
    assert card["data_shape"] == [8, 8, 1]
    assert card["num_classes"] is None
    assert card["training_dataset"] == "toy"
    assert card["version"] == 1 and card["model_name"] == "glow"
    assert card["versions"]["tensorflow"] == tf.__version__
    assert card["versions"]["tfflow"] == tfflow.__version__
    assert "tensorflow_probability" in card["versions"] and card["created"]
    assert card["signatures"]["sample"]["inputs"] == {
        "num_samples": {"dtype": "int32", "shape": []},
        "seed": {"dtype": "int64", "shape": []},
        "temperature": {"dtype": "float32", "shape": []},
    }
    assert card["signatures"]["log_prob"]["inputs"]["x"]["shape"] == [None, 8, 8, 1]


def test_model_card_of_conditional_model(exported):
    card = read_model_card(exported["glow_conditional"][1])
    assert card["num_classes"] == 3 and card["config"]["num_classes"] == 3
    labels = {"dtype": "int32", "shape": [None]}
    for signature in card["signatures"].values():
        assert signature["inputs"]["labels"] == labels


@pytest.mark.parametrize("name", ["nice_pixels", "glow", "glow_conditional"])
def test_warmup_requests_parse_and_run(name, exported):
    apis = pytest.importorskip("tensorflow_serving.apis.prediction_log_pb2")
    version_dir = exported[name][1]
    records = tf.data.TFRecordDataset(str(version_dir / "assets.extra/tf_serving_warmup_requests"))
    loaded = tf.saved_model.load(str(version_dir))
    seen = []
    for record in records:
        log = apis.PredictionLog.FromString(record.numpy())
        request = log.predict_log.request
        assert request.model_spec.name == name
        inputs = {k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()}
        assert ("labels" in inputs) == (name == "glow_conditional")
        outputs = loaded.signatures[request.model_spec.signature_name](**inputs)
        assert all(np.all(np.isfinite(v.numpy())) for v in outputs.values())
        seen.append(request.model_spec.signature_name)
    assert seen == ["log_prob", "sample"]


def test_graphs_use_no_python_ops(exported):
    from tensorflow.core.protobuf import saved_model_pb2

    for _, version_dir, _ in exported.values():
        proto = saved_model_pb2.SavedModel.FromString((version_dir / "saved_model.pb").read_bytes())
        graph = proto.meta_graphs[0].graph_def
        ops = {node.op for node in graph.node}
        for function in graph.library.function:
            ops |= {node.op for node in function.node_def}
        assert not ops & {"PyFunc", "PyFuncStateless", "EagerPyFunc"}


@pytest.fixture(scope="module")
def loaded_glow(exported):
    return tf.saved_model.load(str(exported["glow"][1]))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_samples": 0}, "num_samples"),
        ({"num_samples": -3}, "num_samples"),
        ({"temperature": float("nan")}, "temperature"),
        ({"temperature": float("inf")}, "temperature"),
        ({"temperature": -0.5}, "temperature"),
    ],
)
def test_bad_sample_requests_raise(kwargs, match, loaded_glow):
    args = {"num_samples": 2, "temperature": 1.0, "seed": 0} | kwargs
    with pytest.raises(tf.errors.InvalidArgumentError, match=match):
        loaded_glow.signatures["sample"](
            num_samples=tf.constant(args["num_samples"], tf.int32),
            temperature=tf.constant(args["temperature"], tf.float32),
            seed=tf.constant(args["seed"], tf.int64),
        )


@pytest.mark.parametrize(
    ("signature", "inputs"),
    [
        ("log_prob", {"x": tf.zeros((2, 8, 8))}),
        ("log_prob", {"x": tf.zeros((2, 8, 8, 3))}),
        ("log_prob", {"x": tf.zeros((2, 8, 8, 1, 1))}),
        ("serving_default", {"x": tf.zeros((64,))}),
        ("log_prob_uint8", {"x": tf.zeros((2, 16, 16, 1), tf.uint8)}),
        ("encode", {"x": tf.zeros((2, 4, 4, 4))}),
        ("decode", {"z": tf.zeros((2, 63))}),
    ],
)
def test_wrong_shapes_rejected_by_signatures(signature, inputs, loaded_glow):
    # Loaded signatures do not match shapes in Python; the in-graph checks (what TF Serving
    # runs) reject the request, naming the input. Where grappler folds the rank test from the
    # signature's static shape, `EnsureShape` rejects it instead (also naming the shapes).
    name = next(iter(inputs))
    pattern = f"`{name}` must have shape|is not compatible with expected shape"
    with pytest.raises(tf.errors.InvalidArgumentError, match=pattern):
        loaded_glow.signatures[signature](**inputs)


def test_wrong_dtype_rejected_by_signature(loaded_glow):
    with pytest.raises((tf.errors.InvalidArgumentError, ValueError, TypeError), match="float"):
        loaded_glow.signatures["log_prob"](x=tf.zeros((2, 8, 8, 1), tf.int32))


@pytest.mark.parametrize(
    ("function", "value", "match"),
    [
        ("log_prob_any_shape", tf.zeros((2, 8, 8)), "`x` must have shape"),
        ("log_prob_any_shape", tf.zeros((2, 8, 8, 3)), "`x` must have shape"),
        ("log_prob_any_shape", tf.zeros((2, 64)), "`x` must have shape"),
        ("encode_any_shape", tf.zeros((8, 8, 1)), "`x` must have shape"),
        ("decode_any_shape", tf.zeros((2, 63)), "`z` must have shape"),
        ("log_prob_uint8_any_shape", tf.zeros((2, 4, 4, 4), tf.uint8), "`x` must have shape"),
    ],
)
def test_in_graph_shape_checks(function, value, match, loaded_glow):
    # What TF Serving runs: the validating graph, fed without Python-side shape matching.
    with pytest.raises(tf.errors.InvalidArgumentError, match=match):
        getattr(loaded_glow, function)(value)


def test_in_graph_scalar_checks(loaded_glow):
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_samples"):
        loaded_glow.sample_any_shape(
            tf.constant([2, 3]), tf.constant(1.0), tf.constant(0, tf.int64)
        )


@pytest.fixture(scope="module")
def loaded_conditional(exported):
    return tf.saved_model.load(str(exported["glow_conditional"][1]))


def _conditional_request(signature: str, labels: list[int]) -> dict[str, tf.Tensor]:
    if signature == "sample":
        inputs = {
            "num_samples": tf.constant(3, tf.int32),
            "temperature": tf.constant(1.0, tf.float32),
            "seed": tf.constant(0, tf.int64),
        }
    elif signature == "decode":
        inputs = {"z": tf.zeros((3, 64))}
    elif signature == "log_prob_uint8":
        inputs = {"x": tf.fill((3, 8, 8, 1), tf.constant(128, tf.uint8))}
    else:
        inputs = {"x": tf.fill((3, 8, 8, 1), 128.0)}
    return inputs | {"labels": tf.constant(labels, tf.int32)}


@pytest.mark.parametrize(
    "signature",
    ["serving_default", "log_prob", "log_prob_uint8", "encode", "decode", "sample"],
)
@pytest.mark.parametrize("labels", [[0, 3, 1], [-1, 0, 2]])
def test_out_of_range_labels_rejected(signature, labels, loaded_conditional):
    request = _conditional_request(signature, labels)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"`labels` must lie in \[0, 3\)"):
        loaded_conditional.signatures[signature](**request)


@pytest.mark.parametrize(
    ("signature", "labels"), [("log_prob", [0]), ("decode", [0, 1]), ("sample", [0, 1])]
)
def test_labels_of_wrong_length_rejected(signature, labels, loaded_conditional):
    # Batched signatures need one label per example; `sample` also takes a single label.
    request = _conditional_request(signature, labels)
    with pytest.raises(tf.errors.InvalidArgumentError, match="`labels` must be an int32 vector"):
        loaded_conditional.signatures[signature](**request)


def test_single_label_broadcast_in_sample(exported, loaded_conditional):
    model = exported["glow_conditional"][0]
    request = _conditional_request("sample", [2])
    samples = loaded_conditional.signatures["sample"](**request)["samples"]
    np.testing.assert_array_equal(samples, model.sample(3, 1.0, 0, labels=[2, 2, 2]))


def test_load_served_decode_and_integer_inputs(exported):
    model, version_dir, ref = exported["realnvp_vector"]
    served = load_served(version_dir)
    np.testing.assert_allclose(served.decode(ref["z"]), ref["decoded"], rtol=1e-5, atol=1e-5)
    with pytest.raises(TypeError, match="floating point"):
        served.log_prob(np.zeros((2, 2), np.int32))
    assert "RealNVP" in repr(served)


def test_to_model_detects_a_different_program(exported, tmp_path):
    version_dir = tmp_path / "1"
    shutil.copytree(exported["glow"][1], version_dir)
    card_path = version_dir / "assets.extra" / "tfflow_model.json"
    card = json.loads(card_path.read_text())
    card["config"]["scale_fn"] = "softclamp"  # as if tfflow's math had changed since
    card_path.write_text(json.dumps(card))
    with pytest.raises(ValueError, match="does not reproduce the exported log_prob"):
        load_served(version_dir).to_model()
    assert type(load_served(version_dir).to_model(check=False)) is tfflow.Glow
