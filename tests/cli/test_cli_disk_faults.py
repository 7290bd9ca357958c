"""A full disk or an unwritable run directory: one `tfflow: error:` line, and no lost run.

Detected before training where possible (the run directory is probed for writing, and its
free space compared with an estimate of the checkpoint sizes); otherwise a failed write
during training is reported in one line and leaves the previous checkpoint intact, so that
rerunning the same command resumes.
"""

import collections
import errno
import os
import shutil
import stat

import keras
import pytest
import tensorflow as tf
from cli_helpers import TINY_GLOW, assert_one_line_error, csv_epochs, run_cli

from tfflow.callbacks import AtomicBackupAndRestore
from tfflow.models import FlowModel
from tfflow.training import run_dir as run_dir_module

_Usage = collections.namedtuple("_Usage", "total used free")


def test_too_little_free_space_is_found_before_training(capsys, tmp_path, monkeypatch):
    seen = []

    def nearly_full(path):
        seen.append(str(path))
        return _Usage(total=10 * 2**30, used=10 * 2**30 - 2**20, free=2**20)

    monkeypatch.setattr(shutil, "disk_usage", nearly_full)
    run_dir = tmp_path / "run"
    code, out, err = run_cli(capsys, "train", *TINY_GLOW, "--run-dir", run_dir)
    assert_one_line_error(
        code, err, "not enough disk space", "1.0 MiB free", "MiB needed", "--run-dir"
    )
    assert seen == [str(run_dir)]
    assert "epoch 1" not in out
    assert not run_dir.exists()  # created for the checks, empty, removed again


def test_enough_free_space_passes_the_check(capsys, tmp_path, monkeypatch):
    real = shutil.disk_usage

    def checked(path):
        checked.calls += 1
        return real(path)

    checked.calls = 0
    monkeypatch.setattr(shutil, "disk_usage", checked)
    code, _, err = run_cli(
        capsys, "train", *TINY_GLOW, "--epochs", "1", "--no-export", "--run-dir", tmp_path / "r"
    )
    assert code == 0, err
    assert checked.calls == 1


def test_read_only_file_system_is_found_before_training(capsys, tmp_path, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(run_dir_module.tempfile, "mkstemp", read_only)
    code, out, err = run_cli(capsys, "train", *TINY_GLOW, "--run-dir", tmp_path / "run")
    assert_one_line_error(code, err, "not writable", "Read-only file system", "--run-dir")
    assert "loading dataset" not in out


def test_read_only_directory_is_found_before_training(capsys, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        probe = locked / "probe"
        try:
            probe.write_text("x")
        except PermissionError:
            pass
        else:
            probe.unlink()
            pytest.skip("permissions are not enforced for this user (root)")
        code, out, err = run_cli(capsys, "train", *TINY_GLOW, "--run-dir", locked / "run")
        assert_one_line_error(code, err, "not writable", "Permission denied", "--run-dir")
        assert "loading dataset" not in out
    finally:
        locked.chmod(stat.S_IRWXU)


def _fail_on_second_checkpoint(monkeypatch):
    """From the second `save_weights` call on, the disk is full half-way through the file."""
    real = keras.Model.save_weights
    calls = []

    def save_weights(self, filepath, *args, **kwargs):
        calls.append(str(filepath))
        real(self, filepath, *args, **kwargs)
        if len(calls) >= 2:
            size = os.path.getsize(filepath)
            with open(filepath, "r+b") as handle:
                handle.truncate(size // 2)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(filepath))

    monkeypatch.setattr(keras.Model, "save_weights", save_weights)
    return calls


def test_disk_full_during_a_checkpoint_then_rerun_resumes(capsys, tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    argv = ["train", *TINY_GLOW, "--epochs", "3", "--no-export", "--run-dir", run_dir]
    calls = _fail_on_second_checkpoint(monkeypatch)
    code, _, err = run_cli(capsys, *argv)
    assert_one_line_error(
        code,
        err,
        "cannot write the checkpoint of epoch 2",
        "No space left on device",
        "the last checkpoint (epoch 1) is intact",
        "free some disk space",
        "rerun the same command to resume",
    )
    assert len(calls) == 2
    backup = run_dir / "backup"
    assert AtomicBackupAndRestore.read_metadata(backup)["epoch"] == 1
    assert sorted(p.name for p in backup.iterdir()) == [
        "latest.weights.h5",
        "training_metadata.json",
    ]
    assert csv_epochs(run_dir / "metrics.csv") == [0]

    monkeypatch.undo()  # space freed
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    assert "resuming" in out and "after epoch 1 of 3" in out
    assert csv_epochs(run_dir / "metrics.csv") == [0, 1, 2]
    assert (run_dir / "model.keras").is_file() and (run_dir / "evaluation.json").is_file()


def test_disk_full_in_a_tensorflow_writer_is_not_called_out_of_memory(
    capsys, tmp_path, monkeypatch
):
    def full(self, *args, **kwargs):
        raise tf.errors.ResourceExhaustedError(
            None, None, "/x/export/.tmp-1/variables/variables.data; No space left on device"
        )

    monkeypatch.setattr(FlowModel, "fit", full)
    code, _, err = run_cli(capsys, "train", *TINY_GLOW, "--run-dir", tmp_path / "run")
    assert_one_line_error(code, err, "disk full", "No space left on device", "free some disk")
    assert "out of memory" not in err


def test_unwritable_file_during_training_is_one_line(capsys, tmp_path, monkeypatch):
    """A plain `OSError` (EACCES) from a writer that tfflow does not wrap."""

    def denied(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/x/tensorboard/events")

    monkeypatch.setattr(FlowModel, "fit", denied)
    code, _, err = run_cli(capsys, "train", *TINY_GLOW, "--run-dir", tmp_path / "run")
    assert_one_line_error(
        code, err, "cannot access '/x/tensorboard/events'", "Permission denied", "rerun the same"
    )


def test_read_only_file_system_during_training_is_one_line(capsys, tmp_path, monkeypatch):
    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), "/x/samples/epoch_002.png")

    monkeypatch.setattr(FlowModel, "fit", read_only)
    code, _, err = run_cli(capsys, "train", *TINY_GLOW, "--run-dir", tmp_path / "run")
    assert_one_line_error(code, err, "cannot write '/x/samples/epoch_002.png'", "Read-only")
