"""A run directory has one `tfflow train` at a time: an advisory lock naming its holder.

The second command is refused at once (exit 2, one line naming host and PID); a lock left by
a SIGKILLed run is stale and taken over; under `--strategy multiworker` only the chief
takes it, so the other workers of the same run are not refused.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import tensorflow as tf
from cli_helpers import TINY_GLOW, assert_one_line_error, run_cli

from tfflow.training.run_lock import RunDirLock, RunDirLockedError


def _train_command(run_dir) -> list[str]:
    return [
        sys.executable, "-m", "tfflow", "train", *TINY_GLOW, "--epochs", "1000",
        "--no-export", "--run-dir", str(run_dir),
    ]  # fmt: skip


def _wait_for(path, process, timeout=300.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.exists(), process.stderr.read().decode() if process.poll() is not None else ""


def test_second_train_is_refused_then_a_killed_holder_is_taken_over(capsys, tmp_path):
    run_dir = tmp_path / "run"
    lock_file = run_dir / RunDirLock.FILENAME
    first = subprocess.Popen(
        _train_command(run_dir), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        _wait_for(lock_file, first)
        holder = json.loads(lock_file.read_text())
        assert holder["pid"] == first.pid and holder["host"] == socket.gethostname()

        argv = ["train", *TINY_GLOW, "--epochs", "1", "--no-export", "--run-dir", run_dir]
        code, out, err = run_cli(capsys, *argv)
        assert_one_line_error(
            code, err, f"{str(run_dir)!r} is in use by PID {first.pid} on host "
            f"{socket.gethostname()}", "--run-dir",
        )  # fmt: skip
        assert "loading dataset" not in out
        assert first.poll() is None  # the holder was not disturbed
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
    assert json.loads(lock_file.read_text())["pid"] == first.pid  # left behind by the kill

    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    assert f"taking over the stale lock of {str(run_dir)!r} left by PID {first.pid}" in out
    assert not lock_file.exists()  # released at the end of the run


def test_lock_is_released_after_a_failed_run(capsys, tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor")

    monkeypatch.setattr("tfflow.models.FlowModel.fit", fail)
    run_dir = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", *TINY_GLOW, "--no-export", "--run-dir", run_dir)
    assert_one_line_error(code, err, "out of memory")
    assert not (run_dir / RunDirLock.FILENAME).exists()
    with RunDirLock(run_dir) as lock:  # nobody holds it any more
        assert lock.held


def test_lock_file_names_this_process_and_refuses_a_second_holder(tmp_path):
    with RunDirLock(tmp_path) as lock:
        record = json.loads(lock.path.read_text())
        assert record["pid"] == os.getpid()
        try:
            RunDirLock(tmp_path).acquire()
        except RunDirLockedError as err:
            assert f"PID {os.getpid()}" in str(err)
        else:
            raise AssertionError("a second holder got the lock")
    assert not (tmp_path / RunDirLock.FILENAME).exists()


def _as_worker(monkeypatch, index: int) -> None:
    tf_config = {
        "cluster": {"worker": ["h0:1", "h1:1"]},
        "task": {"type": "worker", "index": index},
    }
    monkeypatch.setenv("TF_CONFIG", json.dumps(tf_config))
    monkeypatch.setattr(
        "tfflow.training.trainer.make_strategy", lambda name: tf.distribute.get_strategy()
    )


def test_only_the_multiworker_chief_takes_the_lock(capsys, tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    argv = ["train", *TINY_GLOW, "--strategy", "multiworker", "--epochs", "1", "--no-export",
            "--run-dir", run_dir]  # fmt: skip
    run_dir.mkdir()
    with RunDirLock(run_dir):  # the chief of this run, training
        _as_worker(monkeypatch, 1)
        code, _, err = run_cli(capsys, *argv)
        assert code == 0, err  # a non-chief worker does not contend for it

        _as_worker(monkeypatch, 0)  # a second chief (another run on the same folder)
        code, _, err = run_cli(capsys, *argv)
        assert_one_line_error(code, err, f"is in use by PID {os.getpid()}")
