"""A training process killed with SIGKILL resumes from its last checkpoint.

Runs the real `tfflow train` in a subprocess, kills it (-9) once the first epoch's backup is
on disk, reruns the same command, and compares with an uninterrupted run of the same seed.
CPU thread scheduling makes separate processes differ in the last float32 bits, so the final
test bits/dim must agree closely rather than bit for bit (the documented nondeterminism).
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_helpers import TINY_GLOW, csv_epochs

ARGS = [a for a in TINY_GLOW if a not in ("--verbose", "0")]
ARGS[ARGS.index("--steps-per-epoch") + 1] = "20"


def _command(run_dir: Path) -> list[str]:
    return [
        sys.executable, "-m", "tfflow", "train", *ARGS,
        "--epochs", "4", "--seed", "3", "--no-export", "--run-dir", str(run_dir),
    ]  # fmt: skip


def _env() -> dict:
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")


def _final_bits_per_dim(run_dir: Path) -> float:
    return json.loads((run_dir / "evaluation.json").read_text())["bits_per_dim"]


@pytest.mark.slow
def test_sigkill_mid_training_then_rerun_resumes(tmp_path):
    killed_dir = tmp_path / "killed"
    process = subprocess.Popen(
        _command(killed_dir), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    backup = killed_dir / "backup" / "training_metadata.json"
    deadline = time.time() + 300
    while not backup.exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert backup.exists(), "no checkpoint was written before the deadline"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    epochs_done = csv_epochs(killed_dir / "metrics.csv")
    assert 1 <= len(epochs_done) < 4

    subprocess.run(_command(killed_dir), env=_env(), check=True, capture_output=True, timeout=600)
    epochs = csv_epochs(killed_dir / "metrics.csv")
    assert epochs[-1] == 3 and len(set(epochs)) == 4, epochs

    reference_dir = tmp_path / "reference"
    subprocess.run(
        _command(reference_dir), env=_env(), check=True, capture_output=True, timeout=600
    )
    resumed, reference = _final_bits_per_dim(killed_dir), _final_bits_per_dim(reference_dir)
    assert abs(resumed - reference) < 0.05, (resumed, reference)
