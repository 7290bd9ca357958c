"""`load_run`: a finished run directory loaded with a progress line, for the subcommands."""

from __future__ import annotations

import os

from tfflow.training import TrainedRun, load_trained_run, timed_step

__all__ = ["load_run"]


def load_run(path: str | os.PathLike) -> TrainedRun:
    """`tfflow.training.load_trained_run`, printing `loading run PATH ...` and, when done,
    its duration, the model and its training data (large models take a while to rebuild).

    Raises:
        RunConfigurationError: If `path` is not a finished run directory.
    """
    with timed_step(f"loading run {path}") as step:
        trained = load_trained_run(path)
        step["detail"] = (
            f"{type(trained.model).__name__} with {trained.model.count_params():,} parameters "
            f"trained on {trained.config.dataset}"
        )
    return trained
