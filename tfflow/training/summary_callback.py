"""`EpochSummaryCallback`: one line per epoch with train and test bits per dimension."""

from __future__ import annotations

import time
from collections.abc import Callable

import keras

__all__ = ["EpochSummaryCallback"]


class EpochSummaryCallback(keras.callbacks.Callback):
    """Prints `epoch 3/60: train 5.912 bits/dim, test 6.004 bits/dim (1.4 s)` per epoch.

    Args:
        print_fn: Where the line goes (default `print`, flushed).
    """

    def __init__(self, print_fn: Callable[[str], None] | None = None):
        super().__init__()
        self.print_fn = print_fn or (lambda line: print(line, flush=True))
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        total = self.params.get("epochs") if self.params else None
        parts = [f"epoch {epoch + 1}" + (f"/{total}" if total else "") + ":"]
        if "bits_per_dim" in logs:
            parts.append(f"train {float(logs['bits_per_dim']):.4f} bits/dim,")
        if "val_bits_per_dim" in logs:
            parts.append(f"test {float(logs['val_bits_per_dim']):.4f} bits/dim,")
        parts.append(f"({time.perf_counter() - self._start:.1f} s)")
        self.print_fn(" ".join(parts))
