"""Keras callbacks specific to flow training, and the atomic file writes they rely on."""

from tfflow.callbacks.atomic_backup import AtomicBackupAndRestore
from tfflow.callbacks.atomic_csv_logger import AtomicCSVLogger
from tfflow.callbacks.atomic_files import (
    AtomicWriteError,
    atomic_path,
    atomic_write_bytes,
    atomic_write_text,
)
from tfflow.callbacks.divergence_guard import (
    DivergenceGuard,
    NonFiniteInputError,
    TrainingDivergedError,
)
from tfflow.callbacks.guard_state import GuardState

__all__ = [
    "AtomicBackupAndRestore",
    "AtomicCSVLogger",
    "AtomicWriteError",
    "DivergenceGuard",
    "GuardState",
    "NonFiniteInputError",
    "TrainingDivergedError",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
]
