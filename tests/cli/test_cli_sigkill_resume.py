"""A training process killed with SIGKILL resumes from its last checkpoint, exactly.

Runs the real `tfflow train` in a subprocess, kills it (-9) once the first epoch's backup is
on disk, reruns the same command, and compares with an uninterrupted run of the same seed:

- the rerun must resume after the epoch stored in the checkpoint (its log line, and the
  epochs it trains), not restart from scratch;
- its final weights must match the uninterrupted run's. The resumed run sees the same
  batches (the data stream is advanced past the trained epochs) and restores the
  optimizer state, so the only possible difference is the nondeterminism of CPU float32
  reductions across processes (thread scheduling, oneDNN). The bound is a relative L2
  distance of 1e-4; the resumed weights have come out bit-identical, and a run that trained
  the remaining epochs from scratch ends ~3e-2 away (checked too, so the bound is known to
  discriminate).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from cli_helpers import TINY_GLOW, csv_epochs

from tfflow.callbacks import AtomicBackupAndRestore

ARGS = [a for a in TINY_GLOW if a not in ("--verbose", "0")]
ARGS[ARGS.index("--steps-per-epoch") + 1] = "20"
EPOCHS = 4
# Relative L2 tolerance of the final weights (see the module docstring).
WEIGHTS_RTOL = 1e-4


def _command(run_dir: Path, epochs: int = EPOCHS) -> list[str]:
    return [
        sys.executable, "-m", "tfflow", "train", *ARGS,
        "--epochs", str(epochs), "--seed", "3", "--no-export", "--run-dir", str(run_dir),
    ]  # fmt: skip


def _env() -> dict:
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")


def _final_weights(run_dir: Path) -> np.ndarray:
    model = keras.models.load_model(run_dir / "model.keras", compile=False)
    return np.concatenate([np.ravel(w) for w in model.get_weights()])


def _relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


@pytest.mark.slow
def test_sigkill_mid_training_then_rerun_resumes(tmp_path):
    killed_dir = tmp_path / "killed"
    process = subprocess.Popen(
        _command(killed_dir), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    backup = killed_dir / "backup" / "training_metadata.json"
    deadline = time.monotonic() + 300
    while not backup.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert backup.exists(), "no checkpoint was written before the deadline"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    saved_epoch = AtomicBackupAndRestore.read_metadata(killed_dir / "backup")["epoch"]
    assert 1 <= saved_epoch < EPOCHS

    resumed = subprocess.run(
        _command(killed_dir), env=_env(), check=True, capture_output=True, text=True, timeout=600
    )
    assert f"after epoch {saved_epoch} of {EPOCHS}" in resumed.stdout, resumed.stdout
    trained = [line for line in resumed.stdout.splitlines() if line.startswith("epoch ")]
    assert [line.split(":")[0] for line in trained] == [
        f"epoch {e}/{EPOCHS}" for e in range(saved_epoch + 1, EPOCHS + 1)
    ], resumed.stdout
    # The rows of the resumed epochs. (A kill between the checkpoint commit and the CSV row
    # of the same epoch, the callbacks' order, loses that one row: the killed run's rows
    # are not checked.)
    assert csv_epochs(killed_dir / "metrics.csv")[-(EPOCHS - saved_epoch) :] == list(
        range(saved_epoch, EPOCHS)
    )

    reference_dir = tmp_path / "reference"
    subprocess.run(
        _command(reference_dir), env=_env(), check=True, capture_output=True, timeout=600
    )
    reference = _final_weights(reference_dir)
    difference = _relative_difference(_final_weights(killed_dir), reference)
    assert difference < WEIGHTS_RTOL, difference
    print(f"relative difference of the final weights, resumed vs uninterrupted: {difference:.2e}")

    # The bound discriminates: a run that trained only the remaining epochs from scratch
    # (what a lost checkpoint gives) ends far from the uninterrupted run.
    scratch_dir = tmp_path / "scratch"
    subprocess.run(
        _command(scratch_dir, EPOCHS - saved_epoch),
        env=_env(), check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    scratch = _relative_difference(_final_weights(scratch_dir), reference)
    print(f"relative difference, {EPOCHS - saved_epoch} epochs from scratch: {scratch:.2e}")
    assert scratch > 10 * WEIGHTS_RTOL
