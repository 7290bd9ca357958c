"""`tfflow train` for each model and kind of data: toy 2-D RealNVP, NICE and RealNVP images,
class-conditional Glow on labelled digits and on a CelebA attribute."""

import json

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from cli_helpers import TINY_GLOW, assert_one_line_error, run_cli

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


def test_conditional_glow_on_digits(capsys, tmp_path):
    run_dir = tmp_path / "cond"
    code, out, err = run_cli(capsys, "train", *TINY_GLOW, "--conditional", "--run-dir", run_dir,
                             "--epochs", "1")  # fmt: skip
    assert code == 0, err
    record = json.loads((run_dir / "config.json").read_text())
    assert record["args"]["conditional"] is True and record["dataset"]["num_classes"] == 10
    assert record["model"]["config"]["num_classes"] == 10
    # 4 samples asked, 10 classes: one sample of each class, in a 4-column grid.
    assert _png(run_dir / "samples" / "epoch_001.png").shape == (3 * 36 + 4, 4 * 36 + 4, 1)
    code, out, err = run_cli(capsys, "sample", run_dir, "--num", "5", "--label", "3",
                             "--out", tmp_path / "s.npy")  # fmt: skip
    assert code == 0 and "wrote 5 samples of class 3" in out, err
    assert np.load(tmp_path / "s.npy").shape == (5, 8, 8, 1)
    np.testing.assert_array_equal(np.load(tmp_path / "s_labels.npy"), [3] * 5)
    code, out, err = run_cli(capsys, "sample", run_dir, "--num", "20", "--out", tmp_path / "g.png")
    assert code == 0 and "wrote 20 samples of every class" in out, err
    # Two samples of each class, a class per row of 2.
    assert _png(tmp_path / "g.png").shape == (10 * 36 + 4, 2 * 36 + 4, 1)
    code, out, err = run_cli(capsys, "evaluate", run_dir)
    assert code == 0 and "test bits/dim:" in out, err
    code, _, err = run_cli(capsys, "sample", run_dir, "--label", "10")
    assert_one_line_error(code, err, "--label 10 is out of range", "10 classes (0..9)")


def test_conditional_glow_on_celeba_attribute(capsys, tmp_path):
    run_dir = tmp_path / "celeba"
    argv = ["train", "--dataset", "celeb_a", "--data-dir", tmp_path / "tfds", "--conditional",
            "--label-attribute", "Smiling", "--levels", "1", "--steps-per-level", "1",
            "--hidden", "4", "--batch-size", "4", "--steps-per-epoch", "1", "--epochs", "1",
            "--num-samples", "4", "--no-export", "--verbose", "0",
            "--run-dir", run_dir]  # fmt: skip
    with tfds.testing.mock_data(num_examples=8):
        code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    record = json.loads((run_dir / "config.json").read_text())
    assert record["args"]["label_attribute"] == "Smiling"
    assert record["model"]["config"]["num_classes"] == 2
    assert record["model"]["input_shape"] == [64, 64, 3]
    assert "labels: Smiling (0 = no, 1 = yes)" in record["dataset"]["description"]
    # Two samples of each class, one row per class.
    assert _png(run_dir / "samples" / "epoch_001.png").shape == (2 * 65 + 1, 2 * 65 + 1, 3)


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["--model", "realnvp", "--dataset", "moons", "--conditional"],
         ["--conditional needs class labels", "'moons' has none"]),
        (["--dataset", "digits", "--label-attribute", "Smiling"],
         ["--label-attribute Smiling chooses the labels", "add --conditional"]),
        (["--dataset", "digits", "--conditional", "--label-attribute", "Smiling"],
         ["cannot load dataset 'digits'", "applies to celeb_a only"]),
    ],
    ids=["no-labels", "attribute-without-conditional", "attribute-of-another-dataset"],
)  # fmt: skip
def test_conditional_usage_errors(capsys, tmp_path, argv, fragments):
    code, _, err = run_cli(capsys, "train", *argv, "--run-dir", tmp_path / "run")
    assert_one_line_error(code, err, *fragments)
    assert not (tmp_path / "run").exists()


def test_label_of_an_unconditional_run_is_an_error(capsys, tmp_path):
    run_dir = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", *TINY_GLOW, "--epochs", "1", "--no-export",
                           "--run-dir", run_dir)  # fmt: skip
    assert code == 0, err
    code, _, err = run_cli(capsys, "sample", run_dir, "--label", "1")
    assert_one_line_error(code, err, "--label needs a class-conditional run")
