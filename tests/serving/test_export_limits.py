"""Hostile requests: the `sample` signature refuses a `num_samples` above the export's limit.

Every other signature's work is bounded by the tensors its request carries (`x`, `z`,
`labels`); `sample` alone turns a scalar into `num_samples` decoded examples, so it is the
one with an explicit cap, checked before anything is allocated.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf
from cli.cli_helpers import TINY_GLOW, run_cli

import tfflow
from tfflow.serving import DEFAULT_MAX_SAMPLES


@pytest.fixture(scope="module")
def glow() -> tfflow.Glow:
    return tfflow.Glow((8, 8, 1), levels=1, steps_per_level=1, hidden_channels=8)


def _sample(version_dir, num_samples: int) -> dict:
    loaded = tf.saved_model.load(str(version_dir))
    return loaded.signatures["sample"](
        num_samples=tf.constant(num_samples, tf.int32),
        temperature=tf.constant(1.0),
        seed=tf.constant(0, tf.int64),
    )


def test_sample_above_the_limit_fails_naming_num_samples_and_the_limit(glow, tmp_path):
    version_dir = tfflow.export(glow, tmp_path, max_samples=8, warmup=False)
    assert _sample(version_dir, 8)["samples"].shape == (8, 8, 8, 1)
    for hostile in (9, 2**31 - 1):
        # 2**31 - 1 samples of 64 pixels would be 512 GiB of noise alone: allocating before
        # checking would fail with RESOURCE_EXHAUSTED (or worse), not INVALID_ARGUMENT.
        with pytest.raises(tf.errors.InvalidArgumentError, match="`num_samples` must be at most 8"):
            _sample(version_dir, hostile)
    card = json.loads((version_dir / "assets.extra/tfflow_model.json").read_text())
    assert card["serving_limits"] == {"max_samples": 8}
    assert tfflow.load_served(version_dir).max_samples == 8


def test_default_limit_is_recorded_and_enforced(glow, tmp_path):
    version_dir = tfflow.export(glow, tmp_path, warmup=False)
    served = tfflow.load_served(version_dir)
    assert served.max_samples == DEFAULT_MAX_SAMPLES
    assert served.card["serving_limits"]["max_samples"] == DEFAULT_MAX_SAMPLES
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"at most {DEFAULT_MAX_SAMPLES}"):
        served.sample(DEFAULT_MAX_SAMPLES + 1)


def test_conditional_sample_checks_the_limit_before_the_labels(tmp_path):
    model = tfflow.RealNVP((2,), coupling_layers=2, hidden_units=4, num_classes=3)
    served = tfflow.load_served(tfflow.export(model, tmp_path, max_samples=4, warmup=False))
    assert served.sample(4, labels=[1]).shape == (4, 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="`num_samples` must be at most 4"):
        served.sample(5, labels=[1])


@pytest.mark.parametrize("bad", [0, -1, 2**31, 1.5, True, "8"])
def test_invalid_max_samples(glow, tmp_path, bad):
    with pytest.raises(ValueError, match="`max_samples` must be a positive integer"):
        tfflow.export(glow, tmp_path, max_samples=bad, warmup=False)
    assert list(tmp_path.iterdir()) == []


def test_cli_export_max_samples(capsys, tmp_path):
    run_dir = tmp_path / "run"
    code, _, err = run_cli(
        capsys, "train", *TINY_GLOW, "--epochs", "1", "--no-export", "--run-dir", run_dir
    )
    assert code == 0, err
    code, out, err = run_cli(capsys, "export", run_dir, tmp_path / "served", "--max-samples", "3")
    assert code == 0, err
    served = tfflow.load_served(tmp_path / "served")
    assert served.max_samples == 3
    assert np.asarray(served.sample(3)).shape[0] == 3
    with pytest.raises(tf.errors.InvalidArgumentError, match="at most 3"):
        served.sample(4)
    code, _, err = run_cli(capsys, "export", run_dir, tmp_path / "x", "--max-samples", "0")
    assert code == 2 and "--max-samples" in err


def test_warmup_requests_respect_a_limit_of_one(glow, tmp_path):
    apis = pytest.importorskip("tensorflow_serving.apis.prediction_log_pb2")
    version_dir = tfflow.export(glow, tmp_path, max_samples=1, warmup=True)
    loaded = tf.saved_model.load(str(version_dir))
    records = tf.data.TFRecordDataset(str(version_dir / "assets.extra/tf_serving_warmup_requests"))
    replayed = []
    for record in records:
        request = apis.PredictionLog.FromString(record.numpy()).predict_log.request
        inputs = {k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()}
        loaded.signatures[request.model_spec.signature_name](**inputs)  # TF Serving replays it
        replayed.append(request.model_spec.signature_name)
    assert replayed == ["log_prob", "sample"]
