"""Corrupted or truncated checkpoints, `model.keras` files and SavedModels.

The resume checkpoint keeps two generations: a damaged newest one is reported (the file
named) and training resumes from the previous one; with no readable generation the run
stops with one line saying how to start over. A damaged `model.keras` gives `tfflow
evaluate|sample|export` one line naming the file (exit 2); a damaged SavedModel gives
`load_served` an error naming its folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from checkpoint_faults import tiny_data, tiny_glow
from cli.cli_helpers import TINY_GLOW, assert_one_line_error, csv_epochs, run_cli

import tfflow
from tfflow.callbacks import AtomicBackupAndRestore
from tfflow.callbacks.atomic_backup import CorruptCheckpointError
from tfflow.cli.main import main
from tfflow.serving import CorruptSavedModelError


def _truncate(path: Path) -> None:
    with open(path, "r+b") as handle:
        handle.truncate(os.path.getsize(path) // 2)


def _zero_fill(path: Path) -> None:
    path.write_bytes(b"\0" * os.path.getsize(path))


def _scramble_head(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[:4096] = np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))


DAMAGE = {"truncated": _truncate, "zero-filled": _zero_fill, "scrambled header": _scramble_head}


def _weights(model) -> list[np.ndarray]:
    return [v.numpy().copy() for v in model.weights]


@pytest.fixture(scope="module")
def two_generations(tmp_path_factory):
    """A backup folder after epochs 1 and 2, and the model weights after epoch 1."""
    backup = tmp_path_factory.mktemp("backup") / "backup"
    model = tiny_glow()
    callback = AtomicBackupAndRestore(backup, delete_checkpoint=False)
    model.fit(tiny_data(), batch_size=32, epochs=1, verbose=0, callbacks=[callback])
    after_epoch_1 = _weights(model)
    model.fit(tiny_data(), batch_size=32, epochs=2, verbose=0, callbacks=[callback])
    return backup, after_epoch_1


def test_two_generations_are_kept(two_generations):
    backup, _ = two_generations
    names = sorted(p.name for p in backup.iterdir())
    assert names == ["latest.weights.h5", "previous.weights.h5", "training_metadata.json"]
    metadata = AtomicBackupAndRestore.read_metadata(backup)
    assert metadata["epoch"] == 2 and metadata["rejected"] == []


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_latest_checkpoint_resumes_from_the_previous_one(two_generations, tmp_path, damage):
    backup = tmp_path / "backup"
    shutil.copytree(two_generations[0], backup)
    DAMAGE[damage](backup / "latest.weights.h5")
    metadata = AtomicBackupAndRestore.read_metadata(backup)
    assert metadata["epoch"] == 1
    assert metadata["weights"] == backup / "previous.weights.h5"
    assert [path.name for path, _ in metadata["rejected"]] == ["latest.weights.h5"]

    resumed = tiny_glow()
    restore = AtomicBackupAndRestore(backup, delete_checkpoint=False)
    history = resumed.fit(tiny_data(), batch_size=32, epochs=1, verbose=0, callbacks=[restore])
    assert history.history == {}  # epoch 1 of 1 is done: restored, nothing trained
    for got, want in zip(_weights(resumed), two_generations[1], strict=True):
        np.testing.assert_array_equal(got, want)
    history = resumed.fit(tiny_data(), batch_size=32, epochs=3, verbose=0, callbacks=[restore])
    assert len(history.history["loss"]) == 2  # epochs 2 and 3
    assert AtomicBackupAndRestore.read_metadata(backup)["rejected"] == []  # replaced


def test_no_readable_generation_says_how_to_start_over(two_generations, tmp_path):
    backup = tmp_path / "backup"
    shutil.copytree(two_generations[0], backup)
    _truncate(backup / "latest.weights.h5")
    _zero_fill(backup / "previous.weights.h5")
    with pytest.raises(CorruptCheckpointError) as info:
        AtomicBackupAndRestore.read_metadata(backup)
    message = str(info.value)
    assert "\n" not in message
    for fragment in ("latest.weights.h5:", "previous.weights.h5:", "delete that folder"):
        assert fragment in message, message
    with pytest.raises(CorruptCheckpointError):
        tiny_glow().fit(
            tiny_data(), epochs=2, verbose=0, callbacks=[AtomicBackupAndRestore(backup)]
        )


# ----- through the command line ----------------------------------------------------------------


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("cli") / "run"
    argv = ["train", *TINY_GLOW, "--epochs", "2", "--no-export", "--run-dir", str(run_dir)]
    assert main(argv) == 0
    return run_dir


def _copy(run_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    return copy


def test_cli_resumes_from_the_previous_checkpoint(capsys, finished_run, tmp_path):
    run_dir = _copy(finished_run, tmp_path)
    latest = run_dir / "backup" / "latest.weights.h5"
    _truncate(latest)
    argv = ["train", *TINY_GLOW, "--epochs", "3", "--no-export", "--run-dir", run_dir]
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    assert f"checkpoint {latest} is corrupted" in out, out
    assert "after epoch 1 of 3" in out
    assert csv_epochs(run_dir / "metrics.csv") == [0, 1, 2]  # epochs 2 and 3 retrained


def test_cli_with_no_usable_checkpoint_is_one_line(capsys, finished_run, tmp_path):
    run_dir = _copy(finished_run, tmp_path)
    _truncate(run_dir / "backup" / "latest.weights.h5")
    _truncate(run_dir / "backup" / "previous.weights.h5")
    argv = ["train", *TINY_GLOW, "--epochs", "3", "--no-export", "--run-dir", run_dir]
    code, out, err = run_cli(capsys, *argv)
    assert_one_line_error(
        code, err, "no usable checkpoint", "latest.weights.h5", "previous.weights.h5",
        f"{str(run_dir / 'backup')!r}", "delete that folder", "--run-dir",
    )  # fmt: skip
    assert "epoch 1/3" not in out


@pytest.mark.parametrize("damage", ["truncated", "zero-filled"])
@pytest.mark.parametrize(
    "command",
    [["evaluate"], ["sample", "--num", "2", "--out", "s.npy"], ["export", "EXPORT"]],
    ids=["evaluate", "sample", "export"],
)
def test_damaged_model_keras_is_one_line_naming_the_file(
    capsys, finished_run, tmp_path, command, damage
):
    run_dir = _copy(finished_run, tmp_path)
    DAMAGE[damage](run_dir / "model.keras")
    argv = [command[0], run_dir] + [
        str(tmp_path / a) if a in ("s.npy", "EXPORT") else a for a in command[1:]
    ]
    code, _, err = run_cli(capsys, *argv)
    assert_one_line_error(
        code, err, f"cannot load {str(run_dir / 'model.keras')!r}", "corrupted or truncated",
        "rerun the same `tfflow train` command",
    )  # fmt: skip
    assert not (tmp_path / "EXPORT").exists() and not (tmp_path / "s.npy").exists()


@pytest.mark.parametrize(
    "name",
    ["saved_model.pb", "variables/variables.index", "variables/variables.data-00000-of-00001"],
)
def test_damaged_saved_model_names_its_folder(tmp_path, name):
    model = tfflow.RealNVP((2,), coupling_layers=2, hidden_units=4)
    version_dir = tfflow.export(model, tmp_path, warmup=False)
    _truncate(version_dir / name)
    with pytest.raises(CorruptSavedModelError, match=f"SavedModel '{version_dir}'.*corrupted"):
        tfflow.load_served(tmp_path)
