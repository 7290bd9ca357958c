"""Atomic file writes: write a temporary file beside the target, fsync it, `os.replace` it.

A process killed (or a disk that fills up) in the middle of a write leaves the previous
version of the file whole: readers see either the old file or the new one, never a torn
mixture, because `os.replace` within one directory is atomic on POSIX and Windows.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pathlib
import tempfile
from collections.abc import Iterator

__all__ = [
    "AtomicWriteError",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "fsync_directory",
    "fsync_file",
    "fsync_tree",
    "temporary_files",
]

# Prefix and infix of the temporary files, so that leftovers of a killed process can be
# recognised (`temporary_files`) and removed.
_TMP_PREFIX = "."
_TMP_INFIX = ".tmp-"

_HINTS = {
    errno.ENOSPC: "free some disk space",
    errno.EDQUOT: "free some disk space (disk quota exceeded)",
    errno.EROFS: "the file system is read-only; write to another directory",
    errno.EACCES: "make the directory writable or write to another directory",
    errno.EPERM: "make the directory writable or write to another directory",
}


class AtomicWriteError(OSError):
    """A file could not be written; the previous version of it, if any, is unchanged.

    Raised by `atomic_path` when writing, syncing or renaming the temporary file fails with an
    `OSError` (for example `ENOSPC`, no space left on device). It is an `OSError` with the
    original `errno`, and its message is one line naming the file, the reason and a fix.

    Args:
        path: The file that was being written.
        cause: The original error.
        kept_previous: Whether an earlier version of `path` exists (and is intact).
        what: How the message names the file (default: its path).
        outcome: What the message says was kept (default: from `kept_previous`).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        cause: BaseException,
        kept_previous: bool,
        *,
        what: str | None = None,
        outcome: str | None = None,
    ):
        code = getattr(cause, "errno", None)
        reason = os.strerror(code) if code else " ".join(str(cause).split()) or type(cause).__name__
        detail = getattr(cause, "strerror", None)
        if code and isinstance(detail, str) and detail.startswith(reason):
            reason = detail  # e.g. "No space left on device: 0.1 MiB free, ..."
        hint = _HINTS.get(code, "check the directory")
        if outcome is None:
            outcome = "the previous version is intact" if kept_previous else "nothing was written"
        what = what or repr(str(path))
        self.message = f"cannot write {what} ({reason}); {outcome}; {hint}."
        self.cause = cause
        super().__init__(code, self.message, str(path))
        self.path = pathlib.Path(path)
        self.kept_previous = kept_previous

    def __str__(self) -> str:
        return self.message


def fsync_directory(directory: str | os.PathLike) -> None:
    """Flushes a directory entry (a rename or new file inside it) to disk where supported."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems do not support fsync on directories
        pass
    finally:
        os.close(fd)


def fsync_file(path: str | os.PathLike) -> None:
    """Flushes the contents of the file `path` to disk (`os.fsync`)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(directory: str | os.PathLike) -> None:
    """Flushes every file and folder below `directory`, and `directory` itself, to disk.

    Files first, then each folder after its contents (bottom-up), so that once this returns
    a power cut cannot lose any file or directory entry of the tree.
    """
    for root, _, files in os.walk(directory, topdown=False):
        for name in files:
            fsync_file(os.path.join(root, name))
        fsync_directory(root)


def temporary_files(directory: str | os.PathLike) -> list[pathlib.Path]:
    """Leftover temporary files of `atomic_path` in `directory` (e.g. after a kill)."""
    directory = pathlib.Path(directory)
    if not directory.is_dir():
        return []
    return sorted(
        p
        for p in directory.iterdir()
        if p.name.startswith(_TMP_PREFIX) and _TMP_INFIX in p.name and p.is_file()
    )


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[pathlib.Path]:
    """Yields a temporary path beside `path`; on success it atomically becomes `path`.

    Write the whole file to the yielded path (it ends with the same suffixes as `path`, so
    writers that check the extension, like `keras.Model.save`, accept it). When the block
    ends the temporary file is flushed to disk, renamed over `path` with `os.replace` and the
    directory entry is flushed. If the block raises, the temporary file is removed and
    `path` is untouched.

    Args:
        path: The file to write; its folder is created if needed.

    Yields:
        The temporary path to write to.

    Raises:
        AtomicWriteError: If the block, the fsync or the rename fails with an `OSError`.

    Example:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
        >>> with atomic_path(target) as tmp:
        ...     _ = tmp.write_text("hello")
        >>> target.read_text()
        'hello'
    """
    path = pathlib.Path(path)
    existed = path.exists()
    try:
        # mkstemp creates 0600 files; give the result the mode a plain `open` would have (or
        # the mode of the file it replaces), so run directories stay readable by others.
        mode = path.stat().st_mode & 0o7777 if existed else _default_file_mode()
        path.parent.mkdir(parents=True, exist_ok=True)
        suffix = "".join(path.suffixes[-2:])
        stem = path.name[: len(path.name) - len(suffix)] if suffix else path.name
        fd, name = tempfile.mkstemp(
            prefix=f"{_TMP_PREFIX}{stem}{_TMP_INFIX}", suffix=suffix, dir=path.parent
        )
        os.close(fd)
    except OSError as err:
        raise AtomicWriteError(path, err, existed) from err
    tmp = pathlib.Path(name)
    try:
        yield tmp
        fsync_file(tmp)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(err, OSError) and not isinstance(err, AtomicWriteError):
            raise AtomicWriteError(path, err, existed) from err
        raise
    fsync_directory(path.parent)


def _default_file_mode() -> int:
    """`0o666` less the process umask: the mode `open(path, "w")` gives a new file."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> pathlib.Path:
    """Writes `data` to `path` atomically (see `atomic_path`); returns `path`."""
    path = pathlib.Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(data)
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> pathlib.Path:
    """Writes `text` (UTF-8) to `path` atomically (see `atomic_path`); returns `path`."""
    return atomic_write_bytes(path, text.encode("utf-8"))
