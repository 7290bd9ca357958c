"""`TrainingCurveCallback`: redraws `training_curve.png` from `metrics.csv` during training."""

from __future__ import annotations

import math
import time

import keras

from tfflow.training.plots import plot_training_curve
from tfflow.training.run_dir import RunDir

__all__ = ["TrainingCurveCallback"]


class TrainingCurveCallback(keras.callbacks.Callback):
    """Plots train/test bits per dimension of every epoch so far, resumed runs included.

    Must come after the `CSVLogger` that writes `metrics.csv` in the callback list. Plotting
    takes about 0.1 s, so it happens at most every `min_interval` seconds, and at the end.

    Args:
        run_dir: The run directory.
        title: Plot title.
        min_interval: Seconds between two plots during training.
    """

    def __init__(self, run_dir: RunDir, title: str = "", min_interval: float = 10.0):
        super().__init__()
        self.run_dir = run_dir
        self.title = title
        self.min_interval = float(min_interval)
        self._last_plot = -math.inf

    def _plot(self) -> None:
        if self.run_dir.metrics_path.is_file():
            plot_training_curve(
                self.run_dir.metrics_path, self.run_dir.curve_path, title=self.title
            )
        self._last_plot = time.monotonic()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if time.monotonic() - self._last_plot >= self.min_interval:
            self._plot()

    def on_train_end(self, logs: dict | None = None) -> None:
        self._plot()
