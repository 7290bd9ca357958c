"""Fault injection for the checkpoint tests: a writer that dies half-way through a file.

`PartialWrite(kind="raise")` stands in for `keras.Model.save_weights`: it writes the real
weights file, truncates it to half its bytes (a torn write) and raises `OSError(ENOSPC)`, as
a full disk does; `kind="kill"` sends the process SIGKILL at that point instead. Before
`after` calls it passes through to the real writer.

Run as a script it is the child process of the SIGKILL test:
`python checkpoint_faults.py BACKUP_DIR {atomic|keras}` trains a tiny Glow for one epoch with
a checkpoint, then is killed while writing the second epoch's checkpoint.
"""

from __future__ import annotations

import errno
import os
import signal
import sys

import keras
import numpy as np
import tensorflow as tf

import tfflow
from tfflow.callbacks import AtomicBackupAndRestore

__all__ = ["PartialWrite", "tiny_data", "tiny_glow"]


def tiny_glow() -> tfflow.Glow:
    keras.utils.set_random_seed(0)
    model = tfflow.Glow((4, 4, 1), levels=1, steps_per_level=1, hidden_channels=8)
    model.compile()
    return model


def tiny_data() -> tf.Tensor:
    return tf.random.stateless_uniform([64, 4, 4, 1], [3, 4], maxval=256.0)


class PartialWrite:
    """Replaces `model.save_weights`; call number `after + 1` onwards fails half-way."""

    def __init__(self, real, after: int = 1, kind: str = "raise"):
        self.real = real
        self.after = after
        self.kind = kind
        self.calls = 0

    def __call__(self, filepath, *args, **kwargs):
        self.calls += 1
        self.real(filepath, *args, **kwargs)
        if self.calls <= self.after:
            return
        size = os.path.getsize(filepath)
        with open(filepath, "r+b") as handle:
            handle.truncate(size // 2)
            handle.flush()
            os.fsync(handle.fileno())
        if self.kind == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(filepath))


def _child(backup_dir: str, kind: str) -> None:
    model = tiny_glow()
    model.save_weights = PartialWrite(model.save_weights, after=1, kind="kill")
    if kind == "atomic":
        callback = AtomicBackupAndRestore(backup_dir, delete_checkpoint=False)
    else:
        callback = keras.callbacks.BackupAndRestore(backup_dir, delete_checkpoint=False)
    model.fit(tiny_data(), batch_size=32, epochs=3, verbose=0, callbacks=[callback])
    np.save(os.path.join(backup_dir, "not-killed.npy"), np.zeros(1))


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2])
