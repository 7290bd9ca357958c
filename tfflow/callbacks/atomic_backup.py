"""AtomicBackupAndRestore: `keras.callbacks.BackupAndRestore` whose checkpoints survive a kill."""

from __future__ import annotations

import contextlib
import errno
import gc
import json
import os
import pathlib
import re
import shutil

import h5py
import keras

from tfflow._compat.keras import set_initial_epoch
from tfflow.callbacks.atomic_files import (
    AtomicWriteError,
    atomic_path,
    atomic_write_text,
    fsync_file,
    temporary_files,
)

__all__ = ["AtomicBackupAndRestore", "CorruptCheckpointError"]

# Room left above the size of the previous checkpoint before writing the next one.
_SLACK_BYTES = 64 * 2**10

# Root attribute of the weights file holding the training metadata of its checkpoint.
_METADATA_ATTRIBUTE = "tfflow_training_metadata"


class CorruptCheckpointError(ValueError):
    """No checkpoint generation of a backup folder can be read; the message says how to
    start over (one line naming each file and why it was rejected)."""


def _hdf5_write_errno(err: BaseException) -> int | None:
    """The `errno` of an HDF5 write failure ("file write failed: ... errno = 28"), if any."""
    match = re.search(r"file write failed:.*?errno = (\d+)", str(err), re.DOTALL)
    return int(match.group(1)) if match else None


def _check_room(directory: pathlib.Path, latest: pathlib.Path) -> None:
    """Raises `OSError(ENOSPC)` if `directory`'s disk cannot hold another `latest`.

    Checked before HDF5 starts writing, because HDF5 does not recover from a write that
    fails half-way: it keeps the failed file's objects open and flushes them again at
    interpreter exit, which can crash the process after the error was reported. A checkpoint
    has the size of the one before it; the first one is covered by the run's free-space
    check at the start.
    """
    try:
        needed = latest.stat().st_size + _SLACK_BYTES
    except FileNotFoundError:
        return
    free = shutil.disk_usage(directory).free
    if free < needed:
        raise OSError(
            errno.ENOSPC,
            f"{os.strerror(errno.ENOSPC)}: {free / 2**20:.1f} MiB free, about "
            f"{needed / 2**20:.1f} MiB needed",
            str(latest),
        )


def _reason(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _inspect_weights(path: pathlib.Path) -> dict | None:
    """Reads every array of the HDF5 file `path`; returns its stored training metadata.

    A truncated or overwritten file fails here (h5py checks the superblock, the end of file
    and each object header it reads) rather than half-way through loading into a model.

    Raises:
        OSError, ValueError, KeyError, RuntimeError: whatever h5py raises for a bad file.
    """

    def read(_: str, item: object) -> None:
        if isinstance(item, h5py.Dataset):
            item[()]

    with h5py.File(path, "r") as handle:
        handle.visititems(read)
        stored = handle.attrs.get(_METADATA_ATTRIBUTE)
    return json.loads(stored) if stored is not None else None


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` that never leaves a half-written checkpoint behind.

    Keras 3's `BackupAndRestore` overwrites `latest.weights.h5` in place and then rewrites
    `training_metadata.json`: a process killed (or a disk filling up) during the weights write
    leaves a torn HDF5 file and no way back, and one killed between the two writes pairs new
    weights with the old epoch number. Here the weights are written to a temporary file in
    the same folder, the epoch and batch are stored inside it (an HDF5 attribute of the file's
    root, which Keras' loader ignores), and the file is fsynced and renamed over
    `latest.weights.h5` (`os.replace`, atomic): that rename is the commit point, and weights
    and epoch always travel together. `training_metadata.json` is then replaced the same way,
    for Keras and for people; when the two disagree (a kill between the renames), the weights
    file wins. A kill or a full disk before the rename leaves the previous checkpoint whole.

    The folder layout is Keras': a `backup_dir` written by `keras.callbacks.BackupAndRestore`
    is restored, and Keras can restore this one.

    Args:
        backup_dir: Folder of the checkpoint (used for nothing else).
        save_freq: `"epoch"` or a number of batches between checkpoints.
        delete_checkpoint: Delete `backup_dir` when training finishes.
        restore_dir: Folder to restore from, if not `backup_dir`. Under a multi-worker
            strategy, non-chief workers restore the chief's checkpoint but write their own
            to a scratch folder (every worker must take part in saving).

    Example:
        >>> import numpy as np, tempfile
        >>> backup = tempfile.mkdtemp()
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        >>> model.compile("sgd", "mse")
        >>> _ = model.fit(np.ones((4, 3)), np.ones((4, 1)), epochs=2, verbose=0,
        ...               callbacks=[AtomicBackupAndRestore(backup, delete_checkpoint=False)])
        >>> sorted(p.name for p in pathlib.Path(backup).iterdir())
        ['latest.weights.h5', 'previous.weights.h5', 'training_metadata.json']
        >>> AtomicBackupAndRestore.read_metadata(backup)["epoch"]
        2
    """

    WEIGHTS = "latest.weights.h5"
    PREVIOUS = "previous.weights.h5"
    METADATA = "training_metadata.json"

    def __init__(
        self,
        backup_dir: str | os.PathLike,
        save_freq: str | int = "epoch",
        delete_checkpoint: bool = True,
        restore_dir: str | os.PathLike | None = None,
    ):
        if not backup_dir:
            raise ValueError(f"`backup_dir` must be a folder path; received {backup_dir!r}.")
        super().__init__(
            backup_dir=str(backup_dir),
            save_freq=save_freq,
            double_checkpoint=False,  # the previous checkpoint survives any failed write
            delete_checkpoint=delete_checkpoint,
        )
        self.restore_dir = str(restore_dir) if restore_dir is not None else None

    @classmethod
    def read_metadata(cls, directory: str | os.PathLike) -> dict | None:
        """The newest readable checkpoint of a backup folder.

        Each generation (`latest.weights.h5`, then `previous.weights.h5`) is read in full;
        the first that reads is returned. `epoch` and `batch` come from its weights file
        (the commit point), else, for the newest generation only, from
        `training_metadata.json` (a folder written by Keras' callback).

        Returns:
            `{"epoch", "batch", "weights", "rejected"}`: `weights` is the path of the chosen
            file (`None` for a Keras folder holding only `training_metadata.json`) and
            `rejected` a list of `(path, reason)` for newer generations that could not be
            read. `None` if the folder holds no checkpoint.

        Raises:
            CorruptCheckpointError: if checkpoint files exist but none can be read.
        """
        directory = pathlib.Path(directory)
        metadata_path = directory / cls.METADATA
        candidates = [directory / cls.WEIGHTS, directory / cls.PREVIOUS]
        rejected = []
        for generation, weights in enumerate(candidates):
            if not weights.is_file():
                continue
            try:
                metadata = _inspect_weights(weights)
                if metadata is None and generation == 0 and metadata_path.is_file():
                    metadata = json.loads(metadata_path.read_text())
            except (OSError, ValueError, KeyError, RuntimeError) as err:
                rejected.append((weights, _reason(err)))
                continue
            return dict(metadata or {}, weights=weights, rejected=rejected)
        if rejected:
            files = "; ".join(f"{path.name}: {reason}" for path, reason in rejected)
            raise CorruptCheckpointError(
                f"no usable checkpoint in {str(directory)!r} ({files}); delete that folder to "
                "start training over from the first epoch."
            )
        if metadata_path.is_file():  # a Keras folder whose weights were never written
            try:
                metadata = json.loads(metadata_path.read_text())
            except ValueError as err:
                raise CorruptCheckpointError(
                    f"no usable checkpoint in {str(directory)!r} ({cls.METADATA}: "
                    f"{_reason(err)}); delete that folder to start training over from the "
                    "first epoch."
                ) from err
            return dict(metadata, weights=None, rejected=[])
        return None

    def on_train_begin(self, logs: dict | None = None) -> None:
        # Keras falls back to its `.bkp` copies here; a committed checkpoint is always whole.
        self._load_model()

    def _load_model(self) -> None:
        if not self.model.built:
            raise ValueError(
                "To use the BackupAndRestore callback, the model must be built before `fit()`; "
                f"{self.model} is not built."
            )
        metadata = self.read_metadata(self.restore_dir or self.backup_dir)
        if metadata is None:
            return
        if metadata["weights"] is not None:
            if self.model.optimizer is not None and not self.model.optimizer.built:
                # Make sure the optimizer's variables exist before they are loaded.
                self.model.optimizer.build(self.model.trainable_variables)
            self.model.load_weights(str(metadata["weights"]))
        if "epoch" in metadata:
            set_initial_epoch(self.model, int(metadata["epoch"]))

    def _save_model(self) -> None:
        directory = pathlib.Path(self.backup_dir)
        metadata = {"epoch": self._current_epoch, "batch": self._last_batch_seen}
        latest = directory / self.WEIGHTS
        try:
            with atomic_path(latest) as tmp:
                _check_room(directory, latest)
                try:
                    self.model.save_weights(str(tmp), overwrite=True)
                    with h5py.File(tmp, "r+") as handle:
                        handle.attrs[_METADATA_ATTRIBUTE] = json.dumps(metadata)
                except (RuntimeError, OSError) as err:
                    # h5py reports a failed write as OSError or, on close, RuntimeError.
                    code = _hdf5_write_errno(err)
                    if code is None:
                        raise
                    failure = OSError(code, os.strerror(code), str(tmp))
                else:
                    failure = None
                if failure is not None:
                    gc.collect()  # free h5py's objects of the failed file now
                    raise failure
                fsync_file(tmp)
                # The generation being replaced becomes the previous one. Between this rename
                # and the commit only `previous.weights.h5` exists, and it is restored.
                if latest.is_file():
                    os.replace(latest, directory / self.PREVIOUS)
            # Committed. The JSON copy is for Keras' callback and for people.
            atomic_write_text(directory / self.METADATA, json.dumps(metadata))
        except AtomicWriteError as err:
            raise AtomicWriteError(
                err.path,
                err.cause,
                err.kept_previous,
                what=f"the checkpoint of epoch {self._current_epoch} to {str(directory)!r}",
                outcome=self._committed_description(directory),
            ) from err.cause
        for leftover in temporary_files(directory):  # of writes killed earlier
            with contextlib.suppress(OSError):
                leftover.unlink()

    def _committed_description(self, directory: pathlib.Path) -> str:
        try:
            committed = self.read_metadata(directory)
        except (OSError, ValueError):
            committed = None
        if committed is None or committed["weights"] is None:
            return "no checkpoint was saved"
        return f"the last checkpoint (epoch {committed.get('epoch', '?')}) is intact"
