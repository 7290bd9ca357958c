"""Each user-fixable failure of `tfflow` prints one `tfflow: error:` line and exits non-zero."""

import pytest
import tensorflow as tf
from cli_helpers import TINY_GLOW, assert_one_line_error, run_cli

from tfflow.data import DatasetUnavailableError
from tfflow.models import FlowModel


def test_unknown_dataset(capsys, tmp_path):
    code, _, err = run_cli(capsys, "train", "--dataset", "nope", "--run-dir", tmp_path / "run")
    assert_one_line_error(code, err, "unknown dataset 'nope'", "digits", "moons")
    assert not (tmp_path / "run").exists()


def test_unknown_model(capsys):
    code, _, err = run_cli(capsys, "train", "--model", "maf")
    assert_one_line_error(code, err, "--model", "'maf'")


def test_unavailable_tfds_dataset_says_how_to_get_it(capsys, tmp_path, monkeypatch):
    def unavailable(name, **kwargs):
        raise DatasetUnavailableError(f"TFDS dataset {name!r} is not prepared; tfds.load it.")

    monkeypatch.setattr("tfflow.training.datasets.load_arrays", unavailable)
    code, _, err = run_cli(capsys, "train", "--dataset", "mnist", "--run-dir", tmp_path / "run")
    assert_one_line_error(code, err, "'mnist' is not prepared", "--data-dir")
    # The run directory created for the probe is removed again: nothing was written.
    assert not (tmp_path / "run").exists()


def test_image_size_not_divisible_by_levels(capsys, tmp_path):
    code, _, err = run_cli(
        capsys, "train", "--levels", "4", "--run-dir", tmp_path / "run", "--verbose", "0"
    )
    assert_one_line_error(code, err, "divisible by 2**levels = 16", "--levels")


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--model", "glow", "--dataset", "moons"], "needs image data"),
        (["--model", "nice", "--levels", "2"], "--levels does not apply to --model nice"),
        (["--model", "realnvp", "--dataset", "moons", "--flip"], "--flip needs image data"),
        (["--model", "realnvp", "--dataset", "moons", "--n-bits", "5"], "n_bits"),
    ],
)
def test_options_that_do_not_fit_the_model_or_data(capsys, tmp_path, argv, fragment):
    code, _, err = run_cli(capsys, "train", *argv, "--run-dir", tmp_path / "run")
    assert_one_line_error(code, err, fragment)


def test_unwritable_run_dir_is_found_before_training(capsys, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    code, out, err = run_cli(capsys, "train", "--run-dir", blocker / "run")
    assert_one_line_error(code, err, "not writable", "--run-dir")
    assert "loading dataset" not in out


def test_out_of_memory_suggests_a_smaller_batch(capsys, tmp_path, monkeypatch):
    def exhausted(self, *args, **kwargs):
        raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor\nmore")

    monkeypatch.setattr(FlowModel, "fit", exhausted)
    code, _, err = run_cli(capsys, "train", *TINY_GLOW, "--run-dir", tmp_path / "run")
    assert_one_line_error(code, err, "out of memory", "--batch-size (now 32)")


def test_ctrl_c_says_how_to_resume(capsys, tmp_path, monkeypatch):
    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(FlowModel, "fit", interrupted)
    run_dir = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", *TINY_GLOW, "--run-dir", run_dir)
    assert_one_line_error(code, err, "interrupted", "rerun the same command", expected_code=130)
    assert f"{run_dir}/backup" in err


def test_run_dir_of_another_run_is_refused(capsys, tmp_path):
    run_dir = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", *TINY_GLOW, "--epochs", "1", "--no-export",
                           "--run-dir", run_dir)  # fmt: skip
    assert code == 0, err
    code, _, err = run_cli(capsys, "train", *TINY_GLOW, "--hidden", "16", "--run-dir", run_dir)
    assert_one_line_error(code, err, "holds a different run", "hidden: 16 vs 8")


def test_missing_run_dir_for_evaluate_sample_and_export(capsys, tmp_path):
    for argv in (
        ["evaluate", tmp_path],
        ["sample", tmp_path],
        ["export", tmp_path, tmp_path / "export"],
    ):
        code, _, err = run_cli(capsys, *argv)
        assert_one_line_error(code, err, "not a finished run directory", "tfflow train")
