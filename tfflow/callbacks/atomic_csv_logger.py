"""AtomicCSVLogger: `keras.callbacks.CSVLogger` that rewrites its file atomically every epoch."""

from __future__ import annotations

import collections.abc
import csv
import io
import os
import pathlib

import keras
import numpy as np

from tfflow.callbacks.atomic_files import atomic_write_text

__all__ = ["AtomicCSVLogger"]


class AtomicCSVLogger(keras.callbacks.Callback):
    """Writes one CSV row of logs per epoch, as `keras.callbacks.CSVLogger` does, atomically.

    Keras' `CSVLogger` appends to an open file, so a kill or a full disk can leave a partial
    last line. This logger keeps the rows in memory and replaces the whole (small) file after
    every epoch (`tfflow.callbacks.atomic_files.atomic_path`): the file on disk always holds
    complete rows. The format is `CSVLogger`'s: an `epoch` column (0-based) and the sorted log
    keys, with `val_` columns.

    With `append=True` the rows already in the file are kept, except those of epochs that
    are trained again (a run resumed from an earlier checkpoint), so each epoch appears once.

    Args:
        filename: The CSV file.
        separator: Column separator.
        append: Keep the rows already in `filename`.
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False):
        super().__init__()
        self.filename = pathlib.Path(filename)
        self.sep = separator
        self.append = append
        self.keys: list[str] | None = None
        self._rows: list[dict[str, str]] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.keys = None
        self._rows = []
        if self.append and self.filename.is_file():
            with open(self.filename, newline="") as handle:
                reader = csv.DictReader(handle, delimiter=self.sep)
                if reader.fieldnames and reader.fieldnames[0] == "epoch":
                    self.keys = list(reader.fieldnames[1:])
                    self._rows = [row for row in reader if (row.get("epoch") or "").strip()]

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs.keys())
            if self.keys and not any(key.startswith("val_") for key in self.keys):
                self.keys += [f"val_{key}" for key in self.keys]
        # An epoch trained again after a resume replaces its earlier row (and any later ones).
        self._rows = [row for row in self._rows if _epoch(row) < epoch]
        row = {"epoch": str(epoch)}
        row.update((key, _format(logs.get(key, "NA"))) for key in self.keys)
        self._rows.append(row)
        buffer = io.StringIO()
        writer = csv.DictWriter(
            buffer,
            fieldnames=["epoch", *self.keys],
            delimiter=self.sep,
            extrasaction="ignore",
            lineterminator="\r\n",  # CSVLogger's (the csv module's excel dialect)
        )
        writer.writeheader()
        writer.writerows(self._rows)
        atomic_write_text(self.filename, buffer.getvalue())


def _epoch(row: dict[str, str]) -> int:
    try:
        return int(row["epoch"])
    except (KeyError, TypeError, ValueError):
        return -1


def _format(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, collections.abc.Iterable) and not (
        isinstance(value, np.ndarray) and value.ndim == 0
    ):
        return f"[{', '.join(map(str, value))}]"
    return str(value)
