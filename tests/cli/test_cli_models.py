"""`tfflow train` for each model and kind of data: toy 2-D RealNVP, NICE and RealNVP images."""

import json

import numpy as np
import pytest
import tensorflow as tf
from cli_helpers import run_cli

FAST = ["--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "32", "--verbose", "0"]


def _png(path) -> np.ndarray:
    return tf.io.decode_png(path.read_bytes()).numpy()


def test_realnvp_on_a_2d_toy_density(capsys, tmp_path):
    run_dir = tmp_path / "realnvp-moons"
    code, out, err = run_cli(
        capsys, "train", "--model", "realnvp", "--dataset", "moons", "--num-examples", "256",
        "--coupling-layers", "2", "--hidden", "8", "--no-export", "--run-dir", run_dir, *FAST,
    )  # fmt: skip
    assert code == 0, err
    assert "epoch 1/1: train" in out and "test bits/dim:" in out
    record = json.loads((run_dir / "config.json").read_text())
    assert record["model"]["input_shape"] == [2] and record["dataset"]["kind"] == "tabular"
    assert record["args"]["hidden_layers"] == 2  # filled in from MODEL_DEFAULTS
    panels = _png(run_dir / "samples" / "epoch_001.png")
    assert panels.ndim == 3 and panels.shape[-1] == 3 and panels.shape[1] > panels.shape[0]
    code, out, err = run_cli(capsys, "sample", run_dir, "--out", tmp_path / "toy.png")
    assert code == 0, err
    assert _png(tmp_path / "toy.png").shape == panels.shape
    assert f"loading run {run_dir}: done in " in out and "RealNVP with " in out
    code, out, err = run_cli(capsys, "evaluate", run_dir)
    assert code == 0 and "test bits/dim:" in out, err
    # Progress lines of the longer steps: the run, the data and the evaluation.
    lines = out.splitlines()
    assert lines[1].startswith(f"loading run {run_dir}: done in ")
    assert lines[1].endswith("parameters trained on moons")
    assert lines[3].startswith("loading dataset 'moons': done in ")
    assert lines[3].endswith(", 5,000 test examples")
    assert lines[5].startswith("computing test bits/dim: done in ")


@pytest.mark.parametrize(
    ("argv", "input_shape"),
    [
        (["--model", "nice", "--hidden", "16", "--hidden-layers", "1"], [64]),
        (
            ["--model", "realnvp", "--levels", "1", "--hidden", "4", "--residual-blocks", "1"],
            [8, 8, 1],
        ),
    ],  # fmt: skip
    ids=["nice-flattens-images", "realnvp-images"],
)
def test_image_models_on_digits(capsys, tmp_path, argv, input_shape):
    run_dir = tmp_path / "run"
    code, out, err = run_cli(
        capsys, "train", *argv, "--dataset", "digits", "--num-samples", "4", "--no-export",
        "--run-dir", run_dir, *FAST,
    )  # fmt: skip
    assert code == 0, err
    record = json.loads((run_dir / "config.json").read_text())
    assert record["model"]["input_shape"] == input_shape
    assert record["model"]["config"]["pixels"] is True
    grid = _png(run_dir / "samples" / "epoch_001.png")
    # 2 x 2 tiles of 8x8 pixels, enlarged 4x for viewing: (2 * (8 + 1) + 1) * 4 pixels.
    assert grid.shape == (76, 76, 1)
    code, out, err = run_cli(capsys, "sample", run_dir, "--num", "2", "--out", tmp_path / "s.npy")
    assert code == 0, err
    assert np.load(tmp_path / "s.npy").shape == (2, 8, 8, 1)
