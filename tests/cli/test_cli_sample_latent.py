"""`tfflow sample --temperatures ...` and `--interpolate A B`: latent pictures of a run."""

import numpy as np
import pytest
import tensorflow as tf
from cli_helpers import TINY_GLOW, assert_one_line_error, run_cli

from tfflow.cli.main import main
from tfflow.data import load_arrays


@pytest.fixture(scope="module")
def glow_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("latent") / "glow"
    argv = ["train", *TINY_GLOW, "--epochs", "1", "--no-export", "--run-dir", str(run_dir)]
    assert main(argv) == 0
    return run_dir


def test_temperature_sweep_rows_share_the_noise(capsys, tmp_path, glow_run):
    out = tmp_path / "sweep.npy"
    code, stdout, err = run_cli(
        capsys, "sample", glow_run, "--temperatures", "0", "0.5", "1", "--num", "3",
        "--seed", "4", "--out", out,
    )  # fmt: skip
    assert code == 0, err
    assert f"wrote 3 x 3 samples at temperatures 0, 0.5, 1 to {out}" in stdout
    sweep = np.load(out)
    assert sweep.shape == (3, 3, 8, 8, 1)
    # Temperature 0 decodes z = 0 in every column; temperature 1 is plain sampling.
    np.testing.assert_allclose(sweep[0], np.broadcast_to(sweep[0, :1], sweep[0].shape))
    assert not np.allclose(sweep[2, 0], sweep[2, 1])
    code, _, err = run_cli(capsys, "sample", glow_run, "--temperatures", "0", "1", "--out",
                           tmp_path / "sweep.png")  # fmt: skip
    assert code == 0, err
    picture = tf.io.decode_png((tmp_path / "sweep.png").read_bytes()).numpy()
    # 2 rows of 8 tiles of 8x8 pixels (1 pixel padding), enlarged 4x.
    assert picture.shape == ((2 * 9 + 1) * 4, (8 * 9 + 1) * 4, 1)


def test_interpolation_starts_and_ends_at_the_test_examples(capsys, tmp_path, glow_run):
    out = tmp_path / "path.npy"
    code, stdout, err = run_cli(
        capsys, "sample", glow_run, "--interpolate", "3", "11", "--steps", "5", "--out", out
    )
    assert code == 0, err
    assert "linear interpolation between test examples 3 and 11 in 5 steps" in stdout
    path = np.load(out)
    test = load_arrays("digits").test.astype(np.float32) + 0.5  # pixels as bin centres
    assert path.shape == (5, 8, 8, 1)
    np.testing.assert_allclose(path[0], test[3], atol=1e-2)
    np.testing.assert_allclose(path[-1], test[11], atol=1e-2)
    assert np.abs(path[2] - test[3]).max() > 1 and np.abs(path[2] - test[11]).max() > 1
    spherical = ["--interpolation", "spherical", "--out", tmp_path / "p.png"]
    code, stdout, err = run_cli(capsys, "sample", glow_run, "--interpolate", 3, 11, *spherical)
    assert code == 0 and "spherical interpolation" in stdout and "in 8 steps" in stdout, err


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (
            ["--interpolate", "0", "100000"],
            ["--interpolate 100000 is out of range", "has 297 examples (0..296)"],
        ),
        (["--steps", "4"], ["--steps needs --interpolate"]),
        (["--interpolate", "0", "1", "--steps", "1"], ["--steps must be at least 2"]),
        (["--temperatures", "0", "1", "--temperature", "1"], ["cannot be used together"]),
        (["--interpolate", "0", "1", "--temperature", "1"], ["does not apply"]),
    ],
)
def test_latent_option_mistakes_are_one_line_errors(capsys, glow_run, argv, fragments):
    code, _, err = run_cli(capsys, "sample", glow_run, *argv)
    assert_one_line_error(code, err, *fragments)


def test_temperatures_and_interpolate_are_exclusive(capsys, glow_run):
    code, _, err = run_cli(capsys, "sample", glow_run, "--temperatures", "1", "--interpolate", 0, 1)
    assert_one_line_error(code, err, "not allowed with argument")
