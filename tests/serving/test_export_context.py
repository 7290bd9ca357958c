"""A context-conditional model exported for TF Serving: every signature takes `context`.

The exports are loaded in a process that imports only TensorFlow (never tfflow or TFP) and
called with contexts; the outputs must equal the Keras model's.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from tf_only import export_jobs, run_tf_only

import tfflow
from tfflow.serving import load_served, read_model_card
from tfflow.serving.warmup import serving_api_available

MODELS = {
    "realnvp_vector": lambda: tfflow.RealNVP(
        (4,), coupling_layers=3, hidden_units=8, context_shape=(3,)
    ),
    "glow_image": lambda: tfflow.Glow(
        (4, 4, 1), levels=2, steps_per_level=1, hidden_channels=4, context_shape=(2, 2, 1)
    ),
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("context_exports")
    out = {}
    for i, (name, build) in enumerate(MODELS.items()):
        model = build()
        rng = np.random.default_rng(i)
        for v in model.trainable_variables:
            v.assign(v.numpy() + 0.1 * rng.standard_normal(v.shape).astype(v.dtype))
        shape = (3,) + model.data_shape
        x = (rng.uniform(0, 256, shape) if model.pixels else rng.standard_normal(shape)).astype(
            np.float32
        )
        context = rng.standard_normal((3,) + model.context_shape).astype(np.float32)
        z = model.encode(x, context=context).numpy()
        ref = {
            "x": x,
            "context": context,
            "log_prob": model.log_prob(x, context=context).numpy(),
            "log_prob_swapped": model.log_prob(x, context=context[::-1]).numpy(),
            "z": z,
            "decoded": model.decode(z, context=context).numpy(),
            "samples": model.sample(3, 0.8, 7, context=context).numpy(),
            "samples_one_context": model.sample(3, 0.8, 7, context=context[1]).numpy(),
        }
        warmup = name == "glow_image" and serving_api_available()
        version_dir = tfflow.export(model, base / name, warmup=warmup)
        np.savez(base / f"{name}.npz", **ref)
        out[name] = (model, version_dir, ref)
    return out


# Runs in a process importing TensorFlow and NumPy only (`tf_only.run_tf_only`).
_CHECK = """
    for name, version_dir, npz in JOBS:
        ref = dict(np.load(npz))
        sig = tf.saved_model.load(version_dir).signatures
        c = tf.constant(ref["context"])
        r = {"inputs": {k: sorted(f.structured_input_signature[1]) for k, f in sig.items()}}
        r["log_prob"] = sig["log_prob"](x=tf.constant(ref["x"]), context=c)["log_prob"].numpy()
        r["log_prob_swapped"] = sig["log_prob"](
            x=tf.constant(ref["x"]), context=c[::-1])["log_prob"].numpy()
        r["z"] = sig["encode"](x=tf.constant(ref["x"]), context=c)["z"].numpy()
        r["decoded"] = sig["decode"](z=tf.constant(ref["z"]), context=c)["x"].numpy()
        args = dict(num_samples=tf.constant(3), temperature=tf.constant(0.8),
                    seed=tf.constant(7, tf.int64))
        r["samples"] = sig["sample"](**args, context=c)["samples"].numpy()
        r["samples_one_context"] = sig["sample"](**args, context=c[1:2])["samples"].numpy()
        try:
            sig["log_prob"](x=tf.constant(ref["x"]), context=c[:2])
            r["bad_count_error"] = None
        except tf.errors.InvalidArgumentError as error:
            r["bad_count_error"] = error.message
        report[name] = {k: v.tolist() if hasattr(v, "tolist") else v for k, v in r.items()}
"""


@pytest.fixture(scope="module")
def report(exported, tmp_path_factory) -> dict:
    return run_tf_only(_CHECK, export_jobs(exported), tmp_path_factory.mktemp("script"))


def test_loaded_without_tfflow_or_tfp(report):
    assert report["leaked_modules"] == []


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_signature_takes_context_and_matches_the_keras_model(name, exported, report):
    model, version_dir, ref = exported[name]
    got = report[name]
    for signature, inputs in got["inputs"].items():
        assert "context" in inputs, signature
    np.testing.assert_allclose(got["log_prob"], ref["log_prob"], rtol=1e-5)
    np.testing.assert_allclose(got["log_prob_swapped"], ref["log_prob_swapped"], rtol=1e-5)
    assert not np.allclose(ref["log_prob_swapped"], ref["log_prob"])
    np.testing.assert_allclose(got["z"], ref["z"], rtol=1e-5, atol=1e-5)
    scale = 256.0 if model.pixels else 1.0
    np.testing.assert_allclose(got["decoded"], ref["decoded"], atol=1e-4 * scale)
    np.testing.assert_allclose(got["samples"], ref["samples"], atol=1e-4 * scale)
    np.testing.assert_allclose(
        got["samples_one_context"], ref["samples_one_context"], atol=1e-4 * scale
    )
    assert "`context` must hold one context per example" in got["bad_count_error"]
    assert read_model_card(version_dir)["context_shape"] == list(model.context_shape)


def test_load_served_passes_context_and_rebuilds_the_model(exported):
    model, version_dir, ref = exported["glow_image"]
    served = load_served(version_dir)
    assert served.context_shape == (2, 2, 1)
    np.testing.assert_allclose(
        served.log_prob(ref["x"], context=ref["context"]).numpy(), ref["log_prob"], rtol=1e-5
    )
    np.testing.assert_allclose(
        served.sample(3, 0.8, 7, context=ref["context"][1]).numpy(),
        ref["samples_one_context"],
        atol=1e-2,
    )
    with pytest.raises(ValueError, match="pass `context` of shape"):
        served.log_prob(ref["x"])
    with pytest.raises(ValueError, match=r"received shape \(3, 4, 4, 1\)"):
        served.log_prob(ref["x"], context=np.zeros([3, 4, 4, 1]))
    rebuilt = served.to_model()
    np.testing.assert_allclose(
        rebuilt.log_prob(ref["x"], context=ref["context"]).numpy(), ref["log_prob"], rtol=1e-5
    )


def test_context_shape_is_checked_in_graph(exported):
    module = tfflow.serving.ServingModule(exported["realnvp_vector"][0])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"`context` must have shape"):
        module.log_prob_any_shape(tf.zeros([2, 4]), tf.zeros([2, 5]))


def test_warmup_requests_carry_a_context_and_run(exported):
    apis = pytest.importorskip("tensorflow_serving.apis.prediction_log_pb2")
    version_dir = exported["glow_image"][1]
    records = tf.data.TFRecordDataset(str(version_dir / "assets.extra/tf_serving_warmup_requests"))
    loaded = tf.saved_model.load(str(version_dir))
    seen = []
    for record in records:
        request = apis.PredictionLog.FromString(record.numpy()).predict_log.request
        inputs = {k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()}
        assert inputs["context"].shape[1:] == (2, 2, 1)
        outputs = loaded.signatures[request.model_spec.signature_name](**inputs)
        assert all(np.all(np.isfinite(v.numpy())) for v in outputs.values())
        seen.append(request.model_spec.signature_name)
    assert seen == ["log_prob", "sample"]
