"""File-system faults for tests, made for real and working as root (as CI runs).

Root ignores permission bits, so a `chmod` cannot make a folder unwritable for it: as root
`read_only_dir` bind-mounts the folder onto itself read-only, and `small_tmpfs` mounts a
small tmpfs to fill up. Both need root (CAP_SYS_ADMIN); without it `read_only_dir` falls back
to `chmod` (which then works, for a normal user) and `small_tmpfs` skips, saying why.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["fill_disk", "is_root", "read_only_dir", "small_tmpfs"]


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"`{' '.join(command)}` failed as root: {done.stderr.strip()}")


def _unmount(path: Path) -> None:
    if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


@contextlib.contextmanager
def read_only_dir(path: Path) -> Iterator[int]:
    """Makes the existing folder `path` unwritable for this process; yields the errno seen.

    Root: a read-only bind mount (`EROFS`). Others: mode 0500 (`EACCES`).
    """
    if not is_root():
        path.chmod(0o500)
        try:
            yield errno.EACCES
        finally:
            path.chmod(0o700)
        return
    _run("mount", "--bind", str(path), str(path))
    try:
        _run("mount", "-o", "remount,bind,ro", str(path))
        yield errno.EROFS
    finally:
        _unmount(path)


@contextlib.contextmanager
def small_tmpfs(path: Path, size_bytes: int) -> Iterator[Path]:
    """Mounts a tmpfs of `size_bytes` on the new folder `path`; skips unless root."""
    if not is_root():
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    path.mkdir(parents=True)
    _run("mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(path))
    try:
        yield path
    finally:
        _unmount(path)


def fill_disk(path: Path, leave_bytes: int = 0) -> Path:
    """Writes `path` (a ballast file) until its file system is full, then frees
    `leave_bytes` of it again; returns `path`."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for size in (2**20, 2**16, 2**12, 2**9):
            chunk = b"\0" * size
            try:
                while True:
                    os.write(fd, chunk)
            except OSError as err:
                if err.errno != errno.ENOSPC:
                    raise
        if leave_bytes:
            os.ftruncate(fd, max(0, os.fstat(fd).st_size - leave_bytes))
    finally:
        os.close(fd)
    return path
