"""`RunDirLock`: one `tfflow train` at a time per run directory (an advisory file lock)."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import pathlib
import socket
import sys
from typing import Any

from tfflow.training.errors import RunConfigurationError

try:
    import fcntl
except ImportError:  # Windows has no flock; there the lock only records its holder
    fcntl = None

__all__ = ["RunDirLock", "RunDirLockedError"]


class RunDirLockedError(RunConfigurationError):
    """The run directory is locked by another running process (named in the message)."""


def _describe(holder: dict | None) -> str:
    if not holder:
        return "another process (its lock file names no holder)"
    command = holder.get("command")
    text = f"PID {holder.get('pid', '?')} on host {holder.get('host', '?')}"
    if holder.get("started"):
        text += f", started {holder['started']}"
    return text + (f" ({command})" if command else "")


class RunDirLock:
    """An exclusive advisory lock on a run directory, held while `tfflow train` writes it.

    The lock is `flock(LOCK_EX)` on `RUN_DIR/.tfflow.lock`, a small JSON file naming the
    holder (host, PID, command line, start time). A second process asking for the lock is
    refused at once with `RunDirLockedError` naming the holder. The kernel drops an
    `flock` when its process dies, however it dies (SIGKILL, OOM killer), so a lock file
    left by a killed process is free to lock: it is taken over, and `acquire` says whose it
    was. On release the file is deleted; a file that is still there therefore means a
    holder that did not finish. Locks on network file systems are as reliable as the file
    system's `flock` (NFS emulates it with POSIX record locks, shared by all clients).

    Args:
        directory: the run directory (it must exist).

    Example:
        >>> import tempfile
        >>> lock = RunDirLock(tempfile.mkdtemp())
        >>> lock.acquire() is None  # no earlier holder
        True
        >>> RunDirLock(lock.directory).acquire()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        tfflow.training.run_lock.RunDirLockedError: run directory '...' is in use by PID ...
        >>> lock.release()
    """

    FILENAME = ".tfflow.lock"

    def __init__(self, directory: str | os.PathLike):
        self.directory = pathlib.Path(directory)
        self.path = self.directory / self.FILENAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def holder(self) -> dict | None:
        """The holder recorded in the lock file (`None` if there is no readable record)."""
        try:
            return json.loads(self.path.read_text(encoding="utf-8") or "null")
        except (OSError, ValueError):
            return None

    def acquire(self) -> str | None:
        """Takes the lock without waiting.

        Returns:
            `None`, or one line describing the stale lock that was taken over (the holder of
            a lock file left behind by a process that died).

        Raises:
            RunDirLockedError: if another live process holds the lock, naming it.
            RunConfigurationError: if the lock file cannot be written.
        """
        if self._fd is not None:
            return None
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as err:
                raise RunConfigurationError(
                    f"cannot create the lock file {str(self.path)!r} ({err.strerror}); pass a "
                    "writable --run-dir."
                ) from err
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    raise RunDirLockedError(
                        f"run directory {str(self.directory)!r} is in use by "
                        f"{_describe(self.holder())}; wait for it to finish or stop it, or "
                        f"pass another --run-dir (lock file {str(self.path)!r})."
                    ) from None
            # The holder may have deleted the file (releasing) between our open and flock:
            # then we locked a file nobody else sees, and must start over.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        previous = self.holder()
        self._fd = fd
        record = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "command": " ".join(sys.argv) if sys.argv and sys.argv[0] else None,
            "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }
        data = (json.dumps(record) + "\n").encode("utf-8")
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, data, 0)
            os.fsync(fd)
        except OSError as err:
            self.release()
            raise RunConfigurationError(
                f"cannot write the lock file {str(self.path)!r} ({err.strerror}); free some disk "
                "space or pass another --run-dir."
            ) from err
        if previous is None:
            return None
        return (
            f"taking over the stale lock of {str(self.directory)!r} left by "
            f"{_describe(previous)}, which is no longer running"
        )

    def release(self) -> None:
        """Deletes the lock file and drops the lock (nothing if it is not held)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RunDirLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.release()
