"""Free-space check of a run directory before training: fail early, not at the first save."""

from __future__ import annotations

import math
import os
import pathlib
import shutil
from collections.abc import Iterable

import keras
import numpy as np

from tfflow.training.errors import RunConfigurationError

__all__ = ["check_free_space", "checkpoint_bytes", "describe_disk", "required_free_bytes"]

# Room for everything besides the weights: metrics.csv, config.json, sample grids, the
# training curve, TensorBoard events and the HDF5/zip overheads of small files.
OTHER_FILES_BYTES = 8 * 2**20


def _variables_bytes(variables: Iterable[keras.Variable]) -> int:
    total = 0
    for v in variables:
        name = keras.backend.standardize_dtype(v.dtype)
        itemsize = 2 if name == "bfloat16" else np.dtype(name).itemsize
        total += math.prod(int(d) for d in v.shape) * itemsize
    return total


def checkpoint_bytes(model: keras.Model) -> int:
    """Estimated size of one training checkpoint of `model`: its weights and optimizer state.

    An optimizer that is not built yet (before the first step) is counted as two slots per
    trainable weight, as Adam and Adamax keep, plus one more with an EMA of the weights.
    """
    weights = _variables_bytes(model.weights)
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return weights
    if getattr(optimizer, "built", False):
        return weights + _variables_bytes(optimizer.variables)
    slots = 3 if getattr(optimizer, "use_ema", False) else 2
    return weights + slots * _variables_bytes(model.trainable_weights)


def required_free_bytes(model: keras.Model, export: bool = True) -> int:
    """Disk space a run of `model` needs at its peak.

    A checkpoint is written next to the two generations kept (the latest and the previous
    one, see `AtomicBackupAndRestore`) before the oldest is deleted, `model.keras` holds the
    weights and optimizer state once more, and a SavedModel export the weights again; plus
    `OTHER_FILES_BYTES` for the small files.
    """
    checkpoint = checkpoint_bytes(model)
    exported = _variables_bytes(model.weights) if export else 0
    return 3 * checkpoint + exported + OTHER_FILES_BYTES


def check_free_space(path: str | os.PathLike, required: int) -> int:
    """Raises if the file system of `path` has less than `required` bytes free.

    Returns:
        The free bytes (`shutil.disk_usage(path).free`).

    Raises:
        RunConfigurationError: With the numbers, if there is too little space.
    """
    free = shutil.disk_usage(path).free
    if free < required:
        raise RunConfigurationError(
            f"not enough disk space for the run directory {str(path)!r} on "
            f"{_mount_text(path)}: {_mib(free)} free, about {_mib(required)} needed "
            "(checkpoints, model.keras and the SavedModel); free some space or pass a "
            "--run-dir on another disk."
        )
    return free


def _mount_point(path: str | os.PathLike) -> pathlib.Path:
    """The mount point of the file system holding `path` (or its nearest existing parent)."""
    current = pathlib.Path(os.path.abspath(path))
    while not current.exists() and current != current.parent:
        current = current.parent
    while not os.path.ismount(current) and current != current.parent:
        current = current.parent
    return current


def _mount_text(path: str | os.PathLike) -> str:
    return f"the file system mounted at {str(_mount_point(path))!r}"


def describe_disk(path: str | os.PathLike) -> str:
    """`the file system mounted at '/mnt' (1.5 MiB free)`: where `path` is, for messages.

    Returns an empty string if the file system cannot be inspected.
    """
    try:
        free = shutil.disk_usage(_mount_point(path)).free
    except OSError:
        return ""
    return f"{_mount_text(path)} ({_mib(free)} free)"


def _mib(count: int) -> str:
    return f"{count / 2**20:.1f} MiB"
