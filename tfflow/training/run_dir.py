"""`RunDir`: the layout of a training run's directory, and checks that it can be used."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import pathlib
import re
import tempfile
from typing import Any

from tfflow.callbacks.atomic_backup import AtomicBackupAndRestore
from tfflow.callbacks.atomic_files import atomic_write_text
from tfflow.data import KNOWN_DATASETS
from tfflow.training.disk_space import describe_disk
from tfflow.training.errors import RunConfigurationError

__all__ = ["RunDir", "default_run_dir"]


def default_run_dir(model: str, dataset: str) -> pathlib.Path:
    """`runs/<model>-<dataset>`, with a dataset path reduced to its last component.

    Example:
        >>> str(default_run_dir("glow", "digits"))
        'runs/glow-digits'
        >>> str(default_run_dir("glow", "imagenet_resized/32x32"))
        'runs/glow-imagenet_resized-32x32'
        >>> str(default_run_dir("nice", "../shared/data/mnist/"))
        'runs/nice-mnist'
    """
    name = dataset.rstrip("/\\")
    if name not in KNOWN_DATASETS:  # a path: name the run after its last component
        name = pathlib.Path(name).stem or "data"
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "data"
    return pathlib.Path("runs") / f"{model}-{slug}"


class RunDir:
    """Paths of the files in a run directory.

    A run directory holds `config.json` (every setting, the model config and the dataset),
    `backup/` (the `BackupAndRestore` checkpoint that makes rerunning a command resume it),
    `metrics.csv`, `tensorboard/`, `samples/epoch_XXX.png`, `training_curve.png`,
    `model.keras`, `evaluation.json` and `export/<version>/` (a TF Serving SavedModel).
    Every file except the append-only TensorBoard event logs is written atomically (a
    temporary file, fsync, `os.replace`), so a killed process leaves whole files behind.

    Args:
        path: The directory (it need not exist yet).
    """

    CONFIG = "config.json"
    BACKUP = "backup"
    METRICS = "metrics.csv"
    TENSORBOARD = "tensorboard"
    SAMPLES = "samples"
    CURVE = "training_curve.png"
    MODEL = "model.keras"
    EVALUATION = "evaluation.json"
    EXPORT = "export"

    def __init__(self, path: str | os.PathLike):
        self.path = pathlib.Path(path).expanduser()

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def __truediv__(self, name: str) -> pathlib.Path:
        return self.path / name

    @property
    def config_path(self) -> pathlib.Path:
        return self.path / self.CONFIG

    @property
    def backup_dir(self) -> pathlib.Path:
        return self.path / self.BACKUP

    @property
    def metrics_path(self) -> pathlib.Path:
        return self.path / self.METRICS

    @property
    def tensorboard_dir(self) -> pathlib.Path:
        return self.path / self.TENSORBOARD

    @property
    def samples_dir(self) -> pathlib.Path:
        return self.path / self.SAMPLES

    @property
    def curve_path(self) -> pathlib.Path:
        return self.path / self.CURVE

    @property
    def model_path(self) -> pathlib.Path:
        return self.path / self.MODEL

    @property
    def evaluation_path(self) -> pathlib.Path:
        return self.path / self.EVALUATION

    @property
    def export_dir(self) -> pathlib.Path:
        return self.path / self.EXPORT

    def sample_path(self, epoch: int) -> pathlib.Path:
        """`samples/epoch_XXX.png` for the 1-based `epoch`."""
        return self.samples_dir / f"epoch_{epoch:03d}.png"

    def has_backup(self) -> bool:
        """Whether a `BackupAndRestore` checkpoint exists (rerunning resumes from it)."""
        try:
            return AtomicBackupAndRestore.read_metadata(self.backup_dir) is not None
        except (OSError, ValueError):  # unreadable: exists, and restoring it will say why
            return True

    def prepare(self) -> None:
        """Creates the directory and checks that it is writable, before any training.

        Raises:
            RunConfigurationError: If the directory cannot be created or written.
        """
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            # A unique probe name: workers of a multi-worker run may probe the same folder.
            fd, probe = tempfile.mkstemp(prefix=".tfflow-write-probe-", dir=self.path)
            try:
                os.write(fd, b"ok")
            finally:
                os.close(fd)
                with contextlib.suppress(OSError):
                    os.unlink(probe)
        except OSError as err:
            reason = err.strerror or type(err).__name__
            if err.errno in (errno.ENOSPC, errno.EDQUOT):
                raise RunConfigurationError(
                    f"run directory {str(self.path)!r} cannot be written ({reason}) on "
                    f"{describe_disk(self.path)}; free some space or pass a --run-dir on "
                    "another disk."
                ) from err
            raise RunConfigurationError(
                f"run directory {str(self.path)!r} is not writable ({reason}); pass a writable "
                "--run-dir."
            ) from err

    def write_json(self, name: str, data: dict[str, Any]) -> pathlib.Path:
        """Writes `data` as indented JSON to `name` in the run directory, atomically.

        Raises:
            tfflow.callbacks.AtomicWriteError: If the file cannot be written (the previous
                version, if any, is left intact).
        """
        text = json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"
        return atomic_write_text(self.path / name, text)

    def read_config(self) -> dict[str, Any] | None:
        """The parsed `config.json`, or `None` if the directory has none."""
        if not self.config_path.is_file():
            return None
        try:
            return json.loads(self.config_path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise RunConfigurationError(
                f"cannot read {str(self.config_path)!r}: {err}; repair or delete the file."
            ) from err

    def require_trained(self) -> dict[str, Any]:
        """The config of a finished run; raises if the directory holds no trained model.

        Raises:
            RunConfigurationError: If `config.json` or `model.keras` is missing.
        """
        config = self.read_config()
        if config is None or not self.model_path.is_file():
            missing = self.CONFIG if config is None else self.MODEL
            raise RunConfigurationError(
                f"{str(self.path)!r} is not a finished run directory ({missing} is missing); "
                f"train one first with `tfflow train --run-dir {self.path}`."
            )
        return config
