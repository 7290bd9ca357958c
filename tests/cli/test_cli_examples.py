"""The console entry points and one example, run as separate processes."""

import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]


def _run(*argv: str, cwd: pathlib.Path, timeout: float = 240) -> subprocess.CompletedProcess:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run(
        [sys.executable, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_python_dash_m_tfflow(tmp_path):
    result = _run("-m", "tfflow", "train", "--dataset", "nope", cwd=tmp_path)
    assert result.returncode == 2
    assert "tfflow: error: unknown dataset 'nope'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()


def test_toy_2d_smoke_example_writes_pictures(tmp_path):
    result = _run(
        str(REPO / "examples" / "toy_2d.py"), "--smoke", "--densities", "moons",
        "--run-root", str(tmp_path / "toy"), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "toy" / "toy_2d.png").stat().st_size > 10_000
    assert (tmp_path / "toy" / "moons" / "samples" / "epoch_002.png").is_file()
    assert (tmp_path / "toy" / "moons" / "model.keras").is_file()
