"""End-to-end `tfflow train` (tiny Glow on digits), resume, then evaluate, sample and export."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from cli_helpers import TINY_GLOW, csv_epochs, run_cli

from tfflow.cli.main import main
from tfflow.serving import load_served


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A run trained for 1 epoch, then resumed by the same command with `--epochs 2`."""
    run_dir = tmp_path_factory.mktemp("cli") / "glow-digits"
    # Module-scoped fixtures cannot use capsys; the outputs are checked in the tests below.
    first = main(["train", *TINY_GLOW, "--epochs", "1", "--run-dir", str(run_dir)])
    after_first = {
        "epochs": csv_epochs(run_dir / "metrics.csv"),
        "metadata": json.loads((run_dir / "backup" / "training_metadata.json").read_text()),
        "exports": sorted(p.name for p in (run_dir / "export").iterdir()),
    }
    second = main(["train", *TINY_GLOW, "--epochs", "2", "--run-dir", str(run_dir)])
    return {"run_dir": run_dir, "codes": (first, second), "after_first": after_first}


def test_train_writes_every_artefact(trained):
    run_dir = trained["run_dir"]
    assert trained["codes"] == (0, 0)
    for name in (
        "config.json",
        "metrics.csv",
        "model.keras",
        "evaluation.json",
        "training_curve.png",
        "backup/latest.weights.h5",
        "samples/epoch_001.png",
        "samples/epoch_002.png",
    ):
        assert (run_dir / name).is_file(), name
    assert (run_dir / "export" / "1" / "saved_model.pb").is_file()
    events = {path.parent.name for path in (run_dir / "tensorboard").rglob("events.out.*")}
    assert {"train", "validation", "samples"} <= events


def test_config_json_records_args_model_and_dataset(trained):
    record = json.loads((trained["run_dir"] / "config.json").read_text())
    assert record["args"]["model"] == "glow" and record["args"]["epochs"] == 2
    assert record["args"]["levels"] == 1 and record["args"]["hidden"] == 8
    assert record["dataset"]["name"] == "digits" and record["dataset"]["shape"] == [8, 8, 1]
    assert record["model"]["class_name"] == "Glow"
    assert record["model"]["config"]["steps_per_level"] == 1
    assert record["runtime"]["jit_compile"] is False  # CPU default


def test_rerun_resumes_from_the_backup(trained):
    assert trained["after_first"]["epochs"] == [0]
    assert trained["after_first"]["metadata"]["epoch"] == 1
    assert csv_epochs(trained["run_dir"] / "metrics.csv") == [0, 1]
    metadata = json.loads((trained["run_dir"] / "backup" / "training_metadata.json").read_text())
    assert metadata["epoch"] == 2
    # Each invocation that trained exported a new version.
    assert trained["after_first"]["exports"] == ["1"]
    assert sorted(p.name for p in (trained["run_dir"] / "export").iterdir()) == ["1", "2"]


def test_finished_run_is_not_trained_again(trained, capsys):
    run_dir = trained["run_dir"]
    code, out, err = run_cli(capsys, "train", *TINY_GLOW, "--epochs", "2", "--run-dir", run_dir)
    assert code == 0, err
    assert "has finished 2 epochs" in out and "keeping the SavedModel" in out
    assert csv_epochs(run_dir / "metrics.csv") == [0, 1]
    assert sorted(p.name for p in (run_dir / "export").iterdir()) == ["1", "2"]


def test_model_keras_round_trips(trained):
    model = keras.models.load_model(trained["run_dir"] / "model.keras", compile=False)
    x = tf.random.uniform((3, 8, 8, 1), 0, 256, seed=1)
    assert model.log_prob(x).shape == (3,)
    assert np.all(np.isfinite(model.log_prob(x)))


def test_evaluate_prints_and_writes_bits_per_dim(trained, capsys):
    run_dir = trained["run_dir"]
    code, out, err = run_cli(capsys, "evaluate", run_dir)
    assert code == 0, err
    result = json.loads((run_dir / "evaluation.json").read_text())
    assert result["num_examples"] == 297 and result["dataset"] == "digits"
    assert f"test bits/dim: {result['bits_per_dim']:.4f}" in out
    assert 0 < result["bits_per_dim"] < 9


def test_sample_writes_a_grid_and_is_seeded(trained, capsys, tmp_path):
    run_dir = trained["run_dir"]
    grids = []
    for name in ("a.png", "b.png"):
        code, out, err = run_cli(
            capsys, "sample", run_dir, "--num", "9", "--temperature", "0.7",
            "--out", tmp_path / name, "--seed", "5",
        )  # fmt: skip
        assert code == 0, err
        grids.append(tf.io.decode_png((tmp_path / name).read_bytes()).numpy())
    assert grids[0].shape[-1] == 1 and grids[0].shape[0] > 24
    np.testing.assert_array_equal(grids[0], grids[1])
    code, _, err = run_cli(capsys, "sample", run_dir, "--num", "3", "--out", tmp_path / "s.npy")
    assert code == 0, err
    samples = np.load(tmp_path / "s.npy")
    assert samples.shape == (3, 8, 8, 1) and np.all(np.isfinite(samples))


def test_export_writes_a_loadable_saved_model(trained, capsys, tmp_path):
    code, out, err = run_cli(capsys, "export", trained["run_dir"], tmp_path / "served")
    assert code == 0, err
    version_dir = tmp_path / "served" / "1"
    assert out.strip().splitlines()[-1] == str(version_dir)
    served = load_served(version_dir)
    model = keras.models.load_model(trained["run_dir"] / "model.keras", compile=False)
    x = np.random.RandomState(0).uniform(0, 256, (2, 8, 8, 1)).astype(np.float32)
    np.testing.assert_allclose(served.log_prob(x), model.log_prob(x), rtol=1e-4, atol=1e-3)
    code, _, err = run_cli(
        capsys, "export", trained["run_dir"], tmp_path / "served", "--version", "1"
    )
    assert code == 2 and "already exists" in err and "--version" in err
