"""`load_trained_run`: a finished run directory's model and settings."""

from __future__ import annotations

import dataclasses
import os
import zipfile
from typing import Any

import keras

import tfflow.models  # noqa: F401  (registers the tfflow classes with Keras)
from tfflow.models import FlowModel
from tfflow.training.config import TrainConfig
from tfflow.training.errors import RunConfigurationError
from tfflow.training.run_dir import RunDir

__all__ = ["TrainedRun", "load_trained_run"]


@dataclasses.dataclass
class TrainedRun:
    """A trained model with the settings and data description it was trained with.

    Attributes:
        run_dir: The run directory.
        model: The model loaded from `model.keras`.
        config: The run's `TrainConfig`.
        record: The whole parsed `config.json`.
    """

    run_dir: RunDir
    model: FlowModel
    config: TrainConfig
    record: dict[str, Any]

    @property
    def data_shape(self) -> tuple[int, ...]:
        """Shape of one example of the training data (before NICE's flattening)."""
        return tuple(int(d) for d in self.record["dataset"]["shape"])

    @property
    def kind(self) -> str:
        """`"image"` or `"tabular"`."""
        return str(self.record["dataset"]["kind"])

    @property
    def n_bits(self) -> int:
        """Bits per pixel of the training data."""
        return int(self.record["dataset"].get("n_bits", 8))


def load_trained_run(path: str | os.PathLike) -> TrainedRun:
    """Loads `model.keras` and `config.json` of a finished run.

    Raises:
        RunConfigurationError: If `path` is not a finished run directory, or its
            `model.keras` is corrupted or truncated (naming the file).
    """
    run_dir = RunDir(path)
    record = run_dir.require_trained()
    try:
        config = TrainConfig.from_dict(record["args"])
        record["dataset"]["shape"]
    except (KeyError, TypeError, ValueError) as err:
        raise RunConfigurationError(
            f"{str(run_dir.config_path)!r} is not a tfflow run config ({err}); repair or retrain."
        ) from err
    # Evaluation, sampling and export need no optimizer; `compile=False` also avoids Keras'
    # warning about FlowModel's custom `compile()`.
    try:
        model = keras.models.load_model(run_dir.model_path, compile=False)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        reason = " ".join(str(err).split())[:200] or type(err).__name__
        fix = (
            "rerun the same `tfflow train` command to rewrite it from the checkpoint in "
            f"{str(run_dir.backup_dir)!r}"
            if run_dir.has_backup()
            else "train the run again"
        )
        raise RunConfigurationError(
            f"cannot load {str(run_dir.model_path)!r}: the file is corrupted or truncated "
            f"({type(err).__name__}: {reason}); {fix}."
        ) from err
    return TrainedRun(run_dir=run_dir, model=model, config=config, record=record)
