"""`benchmarks/mnist_quality.py --long`: the plateau schedule survives a resume, and a run keeps
its best-validation weights (toy NICE on random pixels; the real runs need ../shared/data)."""

from __future__ import annotations

import csv
import os
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfflow

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "benchmarks")
if BENCHMARKS not in sys.path:
    sys.path.insert(0, BENCHMARKS)

import mnist_quality  # noqa: E402


@pytest.fixture
def toy_run(monkeypatch):
    rng = np.random.default_rng(0)

    def pixels(n: int, seed: int) -> tf.data.Dataset:
        values = np.random.default_rng(seed).integers(0, 256, size=(n, 784)).astype("float32")
        return tf.data.Dataset.from_tensor_slices(values + rng.uniform(size=values.shape)).batch(
            50, drop_remainder=True
        )

    data = (pixels(200, 0), pixels(100, 1), pixels(100, 2))
    monkeypatch.setattr(mnist_quality, "load", lambda *args: data)
    built = []

    def build(name):
        built.append(
            tfflow.NICE((784,), coupling_layers=2, hidden_layers=1, hidden_units=8, pixels=True)
        )
        return built[-1]

    monkeypatch.setattr(mnist_quality, "build", build)
    return built


def _rate_scale(model) -> float:
    """The factor a run applied to the recipe's rate: the model's current learning rate over
    that of a freshly compiled twin at the same step (public `learning_rate`/`iterations`)."""
    twin = tfflow.NICE((784,), coupling_layers=2, hidden_layers=1, hidden_units=8, pixels=True)
    twin.compile()
    twin.optimizer.iterations.assign(model.optimizer.iterations)
    return float(model.optimizer.learning_rate) / float(twin.optimizer.learning_rate)


def test_long_run_resumes_its_schedule_and_keeps_the_best_weights(toy_run, tmp_path):
    run_dir = tmp_path / "run"
    # hours=0: each call trains one epoch, then stops; the second call resumes the first.
    mnist_quality.run_long("nice", run_dir, hours=0.0, batch=50, patience=1, max_drops=3)
    rows = list(csv.DictReader((run_dir / "curve.csv").open()))
    assert [r["epoch"] for r in rows] == ["1"]
    assert set(rows[0]) == {
        "epoch",
        "wall_s",
        "val_bpd",
        "test_bpd",
        "test_nats_unit_scale",
        "lr_scale",
    }
    assert (run_dir / "best.weights.h5").is_file() and (run_dir / "model.keras").is_file()
    # Pretend the first epoch already dropped the rate once: the resumed run must train on at
    # that scale, not restart at the recipe's rate.
    rows[0]["lr_scale"] = "0.3"
    with (run_dir / "curve.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    mnist_quality.run_long("nice", run_dir, hours=0.0, batch=50, patience=1, max_drops=3)
    rows = list(csv.DictReader((run_dir / "curve.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert float(rows[1]["lr_scale"]) <= 0.3 + 1e-9  # 0.3, or 0.09 after another drop
    assert _rate_scale(toy_run[-1]) == pytest.approx(float(rows[1]["lr_scale"]))
    assert np.isfinite(float(rows[1]["val_bpd"]))


def test_plateau_schedule_and_best_weights_over_resumed_epochs(
    toy_run, tmp_path, monkeypatch, capsys
):
    """Scripted validation scores, one epoch per call (each call resumes from the curve).

    patience=2, max_drops=2: epochs 1-2 improve (best 4.0 at epoch 2; a run that forgot the
    best would count epoch 3 as one), 3-4 stall -> rate x0.3, 5-6 stall again -> x0.09 (only
    if the resumed run recovered `wait` from the curve), 7-8 stall after two drops -> the run
    stops at x0.09 (only if it recovered the drops). The weights kept (best.weights.h5 and
    model.keras) are those of epoch 2, not of the last epoch.
    """
    scores = iter([5.0, 4.0, 4.1, 4.2, 4.05, 4.06, 4.3, 4.4])
    val = mnist_quality.load("nice", None, 50, 0)[1]
    real_bits_per_dim = mnist_quality.bits_per_dim
    at_validation = []

    def bits_per_dim(model, dataset):
        if dataset is val:
            at_validation.append(model.get_weights())
            return next(scores)
        return real_bits_per_dim(model, dataset)

    monkeypatch.setattr(mnist_quality, "bits_per_dim", bits_per_dim)
    run_dir = tmp_path / "run"
    for _ in range(8):
        mnist_quality.run_long("nice", run_dir, hours=0.0, batch=50, patience=2, max_drops=2)
    rows = list(csv.DictReader((run_dir / "curve.csv").open()))
    assert [r["epoch"] for r in rows] == [str(e) for e in range(1, 9)]
    assert [float(r["lr_scale"]) for r in rows] == [1, 1, 1, 0.3, 0.3, 0.09, 0.09, 0.09]
    assert capsys.readouterr().out.count("validation flat after 2 rate drops; stopping") == 1
    assert len(at_validation) == 8
    # The weights differ from epoch to epoch, so equality below singles out epoch 2.
    assert not all(
        np.array_equal(a, b) for a, b in zip(at_validation[1], at_validation[7], strict=True)
    )
    kept = keras.models.load_model(run_dir / "model.keras", compile=False).get_weights()
    best = toy_run[-1]
    best.load_weights(run_dir / "best.weights.h5")
    for name, weights in (("model.keras", kept), ("best.weights.h5", best.get_weights())):
        assert len(weights) == len(at_validation[1]), name
        for got, want in zip(weights, at_validation[1], strict=True):
            np.testing.assert_array_equal(got, want, err_msg=name)


def test_a_curve_without_validation_starts_a_fresh_schedule(toy_run, tmp_path):
    """Rows of a run recorded before validation existed carry no best score or rate drop."""
    (tmp_path / "curve.csv").write_text("epoch,wall_s,test_bpd,lr_scale\n1,1.0,5.0,0.3\n")
    mnist_quality.run_long("nice", tmp_path, hours=0.0, batch=50, patience=1)
    assert (tmp_path / "best.weights.h5").is_file()  # the first validated epoch is a best
    assert _rate_scale(toy_run[-1]) == pytest.approx(1.0)


def test_long_run_refuses_to_resume_with_other_settings(toy_run, tmp_path):
    mnist_quality.run_long("nice", tmp_path, hours=0.0, batch=50)
    with pytest.raises(SystemExit, match="was started with"):
        mnist_quality.run_long("nice", tmp_path, hours=0.0, batch=25)
    with pytest.raises(SystemExit, match="was started with"):
        mnist_quality.run_long("nice", tmp_path, hours=0.0, batch=50, seed=1)


def test_a_run_recorded_before_seeds_resumes_as_seed_0(toy_run, tmp_path):
    (tmp_path / "run.json").write_text('{"model": "nice", "batch_size": 50}\n')
    mnist_quality.run_long("nice", tmp_path, hours=0.0, batch=50)
    with pytest.raises(SystemExit, match="was started with"):
        mnist_quality.run_long("nice", tmp_path, hours=0.0, batch=50, seed=2)
