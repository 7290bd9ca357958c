"""`benchmarks/mnist_quality.py --long`: the plateau schedule survives a resume, and a run keeps
its best-validation weights (toy NICE on random pixels; the real runs need ../shared/data)."""

from __future__ import annotations

import csv
import os
import sys

import numpy as np
import pytest
import tensorflow as tf

import tfflow

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "benchmarks")
if BENCHMARKS not in sys.path:
    sys.path.insert(0, BENCHMARKS)

import mnist_quality  # noqa: E402


def _row(epoch: int, val: float, scale: float) -> dict:
    return {"epoch": str(epoch), "val_bpd": f"{val}", "lr_scale": f"{scale}"}


def test_plateau_state_counts_stalled_epochs_since_the_best_or_the_last_drop():
    rows = [_row(1, 5.0, 1), _row(2, 4.0, 1), _row(3, 4.1, 1), _row(4, 4.2, 0.3)]
    state = mnist_quality._plateau_state(rows)
    assert state == {"best": 4.0, "wait": 0, "drops": 1, "scale": 0.3}
    rows.append(_row(5, 4.05, 0.3))
    assert mnist_quality._plateau_state(rows)["wait"] == 1
    rows.append(_row(6, 3.9, 0.3))
    assert mnist_quality._plateau_state(rows) == {"best": 3.9, "wait": 0, "drops": 1, "scale": 0.3}


def test_plateau_state_ignores_rows_of_runs_without_validation():
    rows = [{"epoch": "1", "wall_s": "1.0", "test_bpd": "5.0"}]
    assert mnist_quality._plateau_state(rows) == {
        "best": float("inf"),
        "wait": 0,
        "drops": 0,
        "scale": 1.0,
    }


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
    schedule = mnist_quality._learning_rate_schedule(toy_run[-1])
    assert float(schedule.scale.numpy()) == pytest.approx(float(rows[1]["lr_scale"]))
    assert np.isfinite(float(rows[1]["val_bpd"]))


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
