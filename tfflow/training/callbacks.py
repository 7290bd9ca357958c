"""`make_callbacks`: the standard callback list of a `tfflow train` run."""

from __future__ import annotations

import os
from collections.abc import Callable

import keras
import numpy as np

from tfflow.callbacks.atomic_backup import AtomicBackupAndRestore
from tfflow.callbacks.atomic_csv_logger import AtomicCSVLogger
from tfflow.training.curve_callback import TrainingCurveCallback
from tfflow.training.run_dir import RunDir
from tfflow.training.sample_callback import SampleGridCallback
from tfflow.training.summary_callback import EpochSummaryCallback

__all__ = ["make_callbacks"]


def make_callbacks(
    run_dir: RunDir,
    render: Callable[[keras.Model], np.ndarray],
    *,
    resume: bool,
    verbose: int = 1,
    title: str = "",
    restore_dir: str | os.PathLike | None = None,
) -> list[keras.callbacks.Callback]:
    """The callbacks of a run, in the order they must run at the end of an epoch.

    `AtomicBackupAndRestore(RUN_DIR/backup)` (first: the epoch is saved before anything can
    fail; kept after training so that rerunning a finished command is a no-op; written
    atomically, so a kill mid-write leaves the previous checkpoint whole), `AtomicCSVLogger`
    (`metrics.csv`, rows kept on resume), `TensorBoard(RUN_DIR/tensorboard)`, the Keras
    progress bar, a sample picture per epoch, the training curve and the one-line summary.

    Args:
        run_dir: The directory this process writes (a non-chief worker's scratch folder).
        render: Draws the sample picture of a model (see `SampleGridCallback`).
        resume: Whether the run continues an earlier one (append to `metrics.csv`).
        verbose: Keras progress mode (0 none, 1 bar, 2 one line per epoch).
        title: Title of the training-curve plot.
        restore_dir: Checkpoint folder to resume from, if not `run_dir.backup_dir` (the
            chief's, for a non-chief worker).
    """
    callbacks: list[keras.callbacks.Callback] = [
        AtomicBackupAndRestore(
            run_dir.backup_dir, delete_checkpoint=False, restore_dir=restore_dir
        ),
        AtomicCSVLogger(run_dir.metrics_path, append=resume),
        keras.callbacks.TensorBoard(log_dir=str(run_dir.tensorboard_dir), write_graph=False),
    ]
    if verbose:
        # Listed explicitly so that the bar ends before the summary line is printed.
        callbacks.append(keras.callbacks.ProgbarLogger())
    callbacks += [
        SampleGridCallback(run_dir, render),
        TrainingCurveCallback(run_dir, title=title),
        EpochSummaryCallback(),
    ]
    return callbacks
