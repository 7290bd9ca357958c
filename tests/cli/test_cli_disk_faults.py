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
import subprocess
import sys

import keras
import tensorflow as tf
from cli_helpers import TINY_GLOW, assert_one_line_error, csv_epochs, run_cli
from fs_faults import fill_disk, read_only_dir, small_tmpfs

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
    with read_only_dir(locked) as refused:
        code, out, err = run_cli(capsys, "train", *TINY_GLOW, "--run-dir", locked / "run")
        assert_one_line_error(code, err, "not writable", os.strerror(refused), "--run-dir")
        assert "loading dataset" not in out


def test_run_dir_below_a_regular_file_is_found_before_training(capsys, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    code, out, err = run_cli(capsys, "train", *TINY_GLOW, "--run-dir", tmp_path / "file" / "run")
    assert_one_line_error(code, err, "not writable", "Not a directory", "--run-dir")
    assert "loading dataset" not in out


# ----- a real full disk: a small tmpfs (needs root, as CI runs) ---------------------------------


def _first_epoch_on_a_small_disk(capsys, tmp_path):
    disk = tmp_path / "disk"
    run_dir = disk / "run"
    argv = ["train", *TINY_GLOW, "--no-export", "--run-dir", run_dir]
    code, _, err = run_cli(capsys, *argv, "--epochs", "1")
    assert code == 0, err
    return disk, run_dir, argv


def _assert_epoch_1_checkpoint_loads(run_dir) -> None:
    checkpoint = AtomicBackupAndRestore.read_metadata(run_dir / "backup")
    assert checkpoint["epoch"] == 1 and checkpoint["rejected"] == []
    model = keras.models.load_model(run_dir / "model.keras", compile=False)
    model.load_weights(checkpoint["weights"])  # whole, and the model's own


def test_full_disk_is_found_before_training_and_loses_nothing(capsys, tmp_path):
    with small_tmpfs(tmp_path / "disk", 16 * 2**20):
        disk, run_dir, argv = _first_epoch_on_a_small_disk(capsys, tmp_path)
        fill_disk(disk / "ballast", leave_bytes=64 * 2**10)  # nearly full
        code, out, err = run_cli(capsys, *argv, "--epochs", "3")
        assert_one_line_error(
            code, err, "not enough disk space", f"file system mounted at {str(disk)!r}",
            "MiB free", "MiB needed",
        )  # fmt: skip
        assert "epoch 2/3" not in out
        _assert_epoch_1_checkpoint_loads(run_dir)

        fill_disk(disk / "ballast")  # completely full: not even the probe can be written
        code, out, err = run_cli(capsys, *argv, "--epochs", "3")
        assert_one_line_error(
            code, err, "No space left on device", f"file system mounted at {str(disk)!r}",
            "0.0 MiB free", "another disk",
        )  # fmt: skip
        _assert_epoch_1_checkpoint_loads(run_dir)

        (disk / "ballast").unlink()  # space freed: the same command resumes
        code, out, err = run_cli(capsys, *argv, "--epochs", "2")
        assert code == 0, err
        assert "after epoch 1 of 2" in out


# The disk fills after the free-space check passed (another process wrote to it): the
# check is switched off, and a real `tfflow train` process writes its next checkpoint into
# the few KiB left. Its real stderr must be the one line (h5py, failing to flush the file it
# frees, would print a traceback per object).
_TRAIN_WITHOUT_SPACE_CHECK = """
import sys
import tfflow.training.trainer as trainer
from tfflow.cli.main import main
trainer.check_free_space = lambda *args: 0
sys.exit(main(sys.argv[1:]))
"""


def _without_tensorflow_logs(stderr: str) -> str:
    """stderr less the lines TensorFlow's C++ runtime logs before it reads its log level."""
    noise = ("WARNING: All log messages before absl", "I0000 ", "W0000 ", "E0000 ")
    return "\n".join(line for line in stderr.splitlines() if not line.startswith(noise))


def test_disk_filling_up_during_training_stops_cleanly(capsys, tmp_path):
    with small_tmpfs(tmp_path / "disk", 16 * 2**20):
        disk, run_dir, argv = _first_epoch_on_a_small_disk(capsys, tmp_path)
        before = (run_dir / "backup" / "latest.weights.h5").read_bytes()
        fill_disk(disk / "ballast", leave_bytes=32 * 2**10)
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
        process = subprocess.run(
            [sys.executable, "-c", _TRAIN_WITHOUT_SPACE_CHECK, *map(str, argv), "--epochs", "3"],
            env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert_one_line_error(
            process.returncode, _without_tensorflow_logs(process.stderr),
            "cannot write the checkpoint of epoch 2", "No space left on device: 0.0 MiB free, "
            "about 0.1 MiB needed", "the last checkpoint (epoch 1) is intact",
            f"file system mounted at {str(disk)!r}", "rerun the same command to resume",
        )  # fmt: skip
        assert (run_dir / "backup" / "latest.weights.h5").read_bytes() == before
        _assert_epoch_1_checkpoint_loads(run_dir)
        assert not [p for p in run_dir.rglob("*") if ".tmp-" in p.name]

        (disk / "ballast").unlink()
        code, out, err = run_cli(capsys, *argv, "--epochs", "2")
        assert code == 0, err
        assert "after epoch 1 of 2" in out


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
