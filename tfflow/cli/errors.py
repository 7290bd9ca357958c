"""How the command line reports errors its user can fix: one line on stderr, no traceback."""

from __future__ import annotations

import contextlib
import errno
import gc
import re
import sys
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

import tensorflow as tf

from tfflow.callbacks.atomic_backup import CorruptCheckpointError
from tfflow.callbacks.atomic_files import AtomicWriteError
from tfflow.callbacks.divergence_guard import NonFiniteInputError, TrainingDivergedError
from tfflow.data import DatasetUnavailableError
from tfflow.training.disk_space import describe_disk
from tfflow.training.errors import RunConfigurationError

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "CommandLineError",
    "print_error",
    "run_reporting_errors",
]

# Exit status of every user-fixable error (argparse's convention for usage errors).
EXIT_USAGE = 2
# Exit status after Ctrl-C (128 + SIGINT, the shell's convention).
EXIT_INTERRUPTED = 130
# `OSError`s a user can fix: a full disk or an unwritable place.
_WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)
# The in-graph data checks of tfflow's streaming sources (`tf.debugging.Assert` messages).
_STREAMED_DATA_CHECKS = ("must share one size",)
# How TensorFlow's own file writers (SavedModel, summaries) word a full disk; TensorFlow
# reports it as RESOURCE_EXHAUSTED, like an out-of-memory error.
_DISK_FULL_MESSAGES = ("No space left on device", "Disk quota exceeded")


class CommandLineError(Exception):
    """A user-fixable problem found by the command line itself (bad option, missing file).

    Args:
        message: One line saying what is wrong and how to fix it.
        exit_code: The process exit status.
    """

    def __init__(self, message: str, exit_code: int = EXIT_USAGE):
        super().__init__(message)
        self.exit_code = exit_code


def _streamed_data_error(message: str) -> str | None:
    """The text of a failed in-graph data check of a streaming source, else None.

    `tf.debugging.Assert` reports `assertion failed: [part] [part] ...`; the parts are joined.
    """
    for line in message.splitlines():
        _, found, parts = line.partition("assertion failed:")
        if found and any(check in parts for check in _STREAMED_DATA_CHECKS):
            return " ".join(re.findall(r"\[([^\]]*)\]", parts))
    return None


def one_line(message: object) -> str:
    """`message` with all whitespace runs (newlines included) collapsed to single spaces."""
    return " ".join(str(message).split())


def print_error(message: object) -> None:
    """Prints `tfflow: error: <message>` as one line on stderr."""
    print(f"tfflow: error: {one_line(message)}", file=sys.stderr, flush=True)


def _disk_note(err: OSError) -> str:
    """` The full disk: <file system and its free space>.` for a full disk, else ``."""
    if err.errno not in (errno.ENOSPC, errno.EDQUOT) or not err.filename:
        return ""
    disk = describe_disk(err.filename)
    return f" The full disk: {disk}." if disk else ""


def _is_h5py_close_failure(error: BaseException | None) -> bool:
    """Whether `error` is HDF5 failing to write a file (its "file write failed" message)."""
    return isinstance(error, RuntimeError) and "file write failed" in str(error)


@contextlib.contextmanager
def _quiet_h5py_noise() -> Iterator[None]:
    """Drops h5py's tracebacks about a file it could not flush while freeing it.

    When a disk fills up while Keras writes an HDF5 file, the write fails (reported as one
    line), and h5py then fails again to flush each object it frees, printing a traceback per
    object from `ObjectID.__dealloc__` (through `sys.excepthook` and `sys.unraisablehook`):
    noise about the same full disk, with no effect on the outcome.
    """
    previous_unraisable, previous_except = sys.unraisablehook, sys.excepthook

    def unraisable_hook(unraisable: Any) -> None:
        if not _is_h5py_close_failure(unraisable.exc_value):
            previous_unraisable(unraisable)

    def except_hook(
        kind: type[BaseException], value: BaseException, traceback: TracebackType | None
    ) -> None:
        if not _is_h5py_close_failure(value):
            previous_except(kind, value, traceback)

    sys.unraisablehook, sys.excepthook = unraisable_hook, except_hook
    try:
        yield
    finally:
        gc.collect()  # free the failed writer's objects while the filter is in place
        sys.unraisablehook, sys.excepthook = previous_unraisable, previous_except


def run_reporting_errors(
    command: Callable[[], int], *, interrupted_hint: str = "", batch_size: int | None = None
) -> int:
    """Runs `command()`, turning user-fixable failures into one error line and an exit code.

    See `_run_reporting_errors`; h5py's repeated complaints about a full disk while it frees
    a half-written file are dropped (the error line already says the disk is full).
    """
    with _quiet_h5py_noise():
        return _run_reporting_errors(
            command, interrupted_hint=interrupted_hint, batch_size=batch_size
        )


def _run_reporting_errors(
    command: Callable[[], int], *, interrupted_hint: str = "", batch_size: int | None = None
) -> int:
    """Runs `command()`, turning user-fixable failures into one error line and an exit code.

    Args:
        command: The subcommand's body; returns the exit status.
        interrupted_hint: Appended to the Ctrl-C message and to the message of a failed
            write (e.g. how to resume).
        batch_size: The batch size in use, quoted by the out-of-memory hint.

    Returns:
        The exit status: the command's, `EXIT_USAGE` (2) for user errors (a full disk or an
        unwritable directory included), or `EXIT_INTERRUPTED` (130) after Ctrl-C. Other
        exceptions (bugs) propagate with their traceback.
    """
    then = f" Then {interrupted_hint}" if interrupted_hint else ""
    try:
        return command()
    except CommandLineError as err:
        print_error(err)
        return err.exit_code
    except RunConfigurationError as err:
        print_error(err)
        return EXIT_USAGE
    except (NonFiniteInputError, TrainingDivergedError) as err:
        print_error(f"{err} Nothing was saved for the interrupted epoch.{then}")
        return EXIT_USAGE
    except CorruptCheckpointError as err:
        print_error(f"{err} Or pass another --run-dir.")
        return EXIT_USAGE
    except DatasetUnavailableError as err:
        print_error(f"{err} (the command-line option for a TFDS folder is --data-dir DIR)")
        return EXIT_USAGE
    except AtomicWriteError as err:
        print_error(f"{err}{_disk_note(err)}{then}")
        return EXIT_USAGE
    except OSError as err:
        if err.errno not in _WRITE_ERRNOS:
            raise
        # Permission errors may come from reading (e.g. a dataset file) as well as writing.
        verb = "cannot access" if err.errno in (errno.EACCES, errno.EPERM) else "cannot write"
        where = f" {str(err.filename)!r}" if err.filename else ""
        print_error(f"{verb}{where}: {err.strerror or err}.{_disk_note(err)}{then}")
        return EXIT_USAGE
    except tf.errors.InvalidArgumentError as err:
        # Data checks that can only run while streaming (e.g. an image of another size in a
        # folder or TFRecord set) fail in-graph with a message of tfflow's own.
        message = _streamed_data_error(err.message or "")
        if message is None:
            raise
        print_error(f"{message}; fix or remove that file.")
        return EXIT_USAGE
    except tf.errors.ResourceExhaustedError as err:
        first = one_line(err.message.splitlines()[0] if err.message else "")
        if any(text in (err.message or "") for text in _DISK_FULL_MESSAGES):
            print_error(f"disk full while writing ({first[:200]}); free some disk space.{then}")
            return EXIT_USAGE
        now = f" (now {batch_size})" if batch_size else ""
        print_error(
            f"out of memory ({first[:200]}); reduce --batch-size{now} or the model size "
            "(--hidden, --levels, --steps-per-level)."
        )
        return EXIT_USAGE
    except KeyboardInterrupt:
        print_error("interrupted" + (f"; {interrupted_hint}" if interrupted_hint else "."))
        return EXIT_INTERRUPTED
