"""`SampleGridCallback`: a picture of the model's samples after every epoch."""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from tfflow.training.run_dir import RunDir
from tfflow.training.sampling import write_png

__all__ = ["SampleGridCallback"]


class SampleGridCallback(keras.callbacks.Callback):
    """Writes `samples/epoch_XXX.png` and a TensorBoard image summary after each epoch.

    The same sampling seed is used every epoch, so the grids show how the samples of fixed
    latent noise evolve.

    Args:
        run_dir: The run directory.
        render: `render(model) -> uint8 (H, W, C)` picture of samples (see
            `tfflow.training.sampling.render_samples`).
    """

    def __init__(self, run_dir: RunDir, render: Callable[[keras.Model], np.ndarray]):
        super().__init__()
        self.run_dir = run_dir
        self.render = render
        self._writer = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._writer = tf.summary.create_file_writer(str(self.run_dir.tensorboard_dir / "samples"))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        picture = self.render(self.model)
        write_png(picture, self.run_dir.sample_path(epoch + 1))
        if self._writer is not None:
            with self._writer.as_default():
                tf.summary.image("samples", picture[np.newaxis], step=epoch + 1)
            self._writer.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
