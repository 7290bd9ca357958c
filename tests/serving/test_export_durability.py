"""Exports survive kills and power cuts: fsync before and after the rename, stale folders.

A version folder appears by one rename of a temporary folder whose files and folders were
all fsynced first, and the base path is fsynced after the rename. A `tfflow export` killed
with SIGKILL leaves only its hidden `.tmp-*` folder, which version listing ignores and the
next export deletes; no numeric version folder is ever partial.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli.cli_helpers import TINY_GLOW, run_cli

import tfflow
from tfflow.cli.main import main
from tfflow.serving import existing_versions, remove_stale_exports


@pytest.fixture(scope="module")
def model() -> tfflow.RealNVP:
    return tfflow.RealNVP((2,), coupling_layers=2, hidden_units=4)


def test_every_file_is_fsynced_before_the_rename_and_the_base_path_after(
    model, tmp_path, monkeypatch
):
    events: list[tuple[str, str]] = []
    real_fsync, real_rename = os.fsync, os.rename

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def rename(src, dst):
        events.append(("rename", str(dst)))
        return real_rename(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "rename", rename)
    base = tmp_path / "base"
    version_dir = tfflow.export(model, base, warmup=False)
    monkeypatch.undo()

    renames = [i for i, (kind, _) in enumerate(events) if kind == "rename"]
    assert len(renames) == 1 and events[renames[0]][1] == str(version_dir)
    before = {path for kind, path in events[: renames[0]] if kind == "fsync"}
    after = {path for kind, path in events[renames[0] :] if kind == "fsync"}
    (tmp,) = {Path(p).parent for p in before if Path(p).name == "saved_model.pb"}
    assert tmp.parent == base and tmp.name.startswith(".tmp-1-")
    written = [p.relative_to(version_dir) for p in version_dir.rglob("*")] + [Path(".")]
    assert written and {str(tmp / p) if str(p) != "." else str(tmp) for p in written} <= before
    assert str(base) in before  # the temporary folder's entry, before the rename
    assert after == {str(base)}  # the rename itself


def test_stale_temporary_folders_are_ignored_then_removed(model, tmp_path):
    stale = tmp_path / ".tmp-1-deadbeef"
    (stale / "variables").mkdir(parents=True)
    (stale / "saved_model.pb").write_bytes(b"half")
    assert existing_versions(tmp_path) == []
    with pytest.raises(FileNotFoundError):
        tfflow.load_served(tmp_path)
    assert tfflow.export(model, tmp_path, warmup=False).name == "1"
    assert sorted(os.listdir(tmp_path)) == ["1"]


def test_a_temporary_folder_of_a_running_export_is_left_alone(model, tmp_path):
    running = tmp_path / ".tmp-7-0123abcd"
    running.mkdir()
    fd = os.open(running, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as the export that owns it holds it
        assert remove_stale_exports(tmp_path) == []
        assert tfflow.export(model, tmp_path, warmup=False).name == "1"
        assert running.is_dir()
    finally:
        os.close(fd)
    assert remove_stale_exports(tmp_path) == [running]
    assert sorted(os.listdir(tmp_path)) == ["1"]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("run") / "run"
    argv = ["train", *TINY_GLOW, "--epochs", "1", "--no-export", "--run-dir", str(run_dir)]
    assert main(argv) == 0
    return run_dir


def test_sigkilled_cli_export_leaves_no_partial_version(capsys, trained_run, tmp_path):
    base = tmp_path / "served"
    code, _, err = run_cli(capsys, "export", trained_run, base)
    assert code == 0, err
    first = tfflow.load_served(base).sample(2, seed=1).numpy()

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    process = subprocess.Popen(
        [sys.executable, "-m", "tfflow", "export", str(trained_run), str(base)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 300
    tmp = None
    while process.poll() is None and time.monotonic() < deadline:
        tmp = next((p for p in base.glob(".tmp-2-*") if any(p.iterdir())), None)
        if tmp is not None:
            break
        time.sleep(0.001)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, process.stderr.read().decode()[-2000:]
    assert tmp is not None, "the export was not caught writing"

    # Only the complete version 1 is visible; the killed export's folder is hidden.
    assert existing_versions(base) == [1]
    assert sorted(p.name for p in base.iterdir()) == sorted(["1", tmp.name])
    assert (tfflow.load_served(base).sample(2, seed=1).numpy() == first).all()

    code, out, err = run_cli(capsys, "export", trained_run, base)
    assert code == 0, err
    assert sorted(p.name for p in base.iterdir()) == ["1", "2"]  # the leftover is removed
    assert (tfflow.load_served(base).sample(2, seed=1).numpy() == first).all()
