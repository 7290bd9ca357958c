"""`export`: writes a flow as a versioned SavedModel in TF Serving's layout, atomically."""

from __future__ import annotations

import contextlib
import errno
import os
import pathlib
import secrets
import shutil
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from tfflow.callbacks.atomic_files import fsync_directory, fsync_tree
from tfflow.models.flow_model import FlowModel
from tfflow.serving.model_card import build_model_card, write_model_card
from tfflow.serving.serving_module import DEFAULT_MAX_SAMPLES, ServingModule
from tfflow.serving.warmup import serving_api_available, warmup_inputs, write_warmup_requests

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; stale folders are then never removed
    fcntl = None

__all__ = ["export", "existing_versions", "next_version", "remove_stale_exports"]

_TMP_PREFIX = ".tmp-"


def existing_versions(export_dir: str | os.PathLike) -> list[int]:
    """Sorted integer version folders of `export_dir` (TF Serving's model base path).

    Folders whose names are not plain non-negative integers (such as an export in progress,
    `.tmp-*`) are ignored, as TF Serving ignores them.
    """
    path = pathlib.Path(export_dir)
    if not path.is_dir():
        return []
    return sorted(
        int(child.name) for child in path.iterdir() if child.name.isdigit() and child.is_dir()
    )


def next_version(export_dir: str | os.PathLike) -> int:
    """`max(existing_versions(export_dir)) + 1`, or 1 for a new model."""
    versions = existing_versions(export_dir)
    return versions[-1] + 1 if versions else 1


def _try_lock(fd: int) -> bool:
    """Takes an exclusive advisory lock on `fd` without waiting; whether it was taken."""
    if fcntl is None:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def remove_stale_exports(export_dir: str | os.PathLike) -> list[pathlib.Path]:
    """Deletes the temporary folders (`.tmp-*`) that killed exports left in `export_dir`.

    An export holds an advisory lock (`flock`) on its temporary folder until the folder is
    renamed into place; the kernel drops the lock when the process dies, however it dies.
    A `.tmp-*` folder that can be locked therefore belongs to no running export and is
    removed; one that is locked is an export in progress and is left alone.

    Returns:
        The folders removed.
    """
    removed = []
    path = pathlib.Path(export_dir)
    if fcntl is None or not path.is_dir():
        return removed
    for child in sorted(path.iterdir()):
        if not child.name.startswith(_TMP_PREFIX) or not child.is_dir():
            continue
        try:
            fd = os.open(child, os.O_RDONLY)
        except OSError:  # removed meanwhile by another export's cleanup
            continue
        try:
            if _try_lock(fd):
                shutil.rmtree(child, ignore_errors=True)
                removed.append(child)
        finally:
            os.close(fd)
    return removed


def _locked_temporary_dir(export_dir: pathlib.Path, version: int) -> tuple[pathlib.Path, int]:
    """Creates `export_dir/.tmp-<version>-<random>` and locks it; returns it and the lock fd.

    Another export's `remove_stale_exports` may lock and delete the folder between its
    creation and the lock; the folder is then made again.
    """
    while True:
        tmp = export_dir / f"{_TMP_PREFIX}{version}-{secrets.token_hex(4)}"
        tmp.mkdir()
        try:
            fd = os.open(tmp, os.O_RDONLY)
        except FileNotFoundError:
            continue
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        with contextlib.suppress(FileNotFoundError):
            if os.stat(tmp).st_ino == os.fstat(fd).st_ino:
                return tmp, fd
        os.close(fd)


def _prepare_dir(export_dir: pathlib.Path) -> None:
    if export_dir.exists() and not export_dir.is_dir():
        raise NotADirectoryError(
            f"`export_dir` must be a directory; {str(export_dir)!r} exists and is not one."
        )
    try:
        export_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise type(error)(
            error.errno, f"Cannot create export directory {str(export_dir)!r}: {error.strerror}"
        ) from error
    if not os.access(export_dir, os.W_OK | os.X_OK):
        raise PermissionError(
            errno.EACCES, f"Export directory {str(export_dir)!r} is not writable."
        )


def _check_version(version: Any) -> int:
    if isinstance(version, bool) or not isinstance(version, int | np.integer) or version < 0:
        raise ValueError(f"`version` must be a non-negative integer or None; received {version!r}.")
    return int(version)


def export(
    model: FlowModel,
    export_dir: str | os.PathLike,
    version: int | None = None,
    *,
    metadata: Mapping[str, Any] | None = None,
    warmup: bool | None = None,
    max_samples: int = DEFAULT_MAX_SAMPLES,
) -> pathlib.Path:
    """Exports `model` as the SavedModel `export_dir/<version>/` for TF Serving.

    The version folder holds the SavedModel (signatures `serving_default`, `log_prob`,
    `log_prob_uint8` for pixel models, `sample`, `encode`, `decode`, each with an int32
    `labels` input for class-conditional models; see `ServingModule`) and
    `assets.extra/` with the model card `tfflow_model.json` and TF Serving's warm-up requests
    `tf_serving_warmup_requests`. It is written to a hidden sibling folder
    (`export_dir/.tmp-<version>-<random>`) and renamed into place, so a server polling
    `export_dir` never sees a half-written version; on any error the temporary folder is
    removed. Before the rename every file and folder of the export is fsynced, and
    `export_dir` is fsynced after it, so a version folder that survives a power cut is
    whole. Temporary folders left by killed exports are ignored by `existing_versions`
    and deleted by the next export (see `remove_stale_exports`).

    The `sample` signature refuses `num_samples > max_samples` with `INVALID_ARGUMENT`
    before allocating anything, so one request cannot exhaust the server's memory; the
    limit is recorded in the model card (`serving_limits`). Every other signature's work
    is bounded by the tensors its request carries.

    Args:
        model: a `NICE`, `RealNVP` or `Glow` (any `FlowModel`).
        export_dir: the model's base path (created if missing), e.g. `savedmodels/glow_digits`.
        version: integer version; `None` picks the highest existing version + 1 (1 at first).
        metadata: JSON-serialisable training facts for the model card, e.g.
            `{"dataset": "digits", "test_bits_per_dim": 1.23, "command": "..."}`.
        warmup: write warm-up requests: `True` requires `tensorflow-serving-api`, `False`
            skips them, `None` writes them when that package is installed (else warns).
        max_samples: the largest `num_samples` one `sample` request may ask for.

    Returns:
        The path of the new version folder.

    Raises:
        TypeError: if `model` is not a `FlowModel` or `metadata` is not JSON-serialisable.
        ValueError: if `version` is not a non-negative integer, or `max_samples` is not a
            positive integer.
        FileExistsError: if `export_dir/<version>` already exists (it is never overwritten).
        NotADirectoryError, PermissionError, OSError: if `export_dir` cannot be written,
            naming it.
        ImportError: if `warmup=True` and `tensorflow-serving-api` is missing.

    Example:
        >>> import tempfile, tfflow
        >>> model = tfflow.RealNVP((2,), coupling_layers=2, hidden_units=8)
        >>> base = tempfile.mkdtemp()
        >>> tfflow.export(model, base).name, tfflow.export(model, base).name
        ('1', '2')
    """
    if version is not None:
        version = _check_version(version)
    if warmup is None:
        warmup = serving_api_available()
        if not warmup:
            warnings.warn(
                "`tensorflow-serving-api` is not installed, so no TF Serving warm-up requests "
                "are written; install it (`pip install tensorflow-serving-api`) or pass "
                "`warmup=False` to silence this warning.",
                UserWarning,
                stacklevel=2,
            )
    export_dir = pathlib.Path(export_dir).expanduser().absolute()
    module = ServingModule(model, max_samples=max_samples)
    signatures = module.signatures  # traces every signature before anything is written
    _prepare_dir(export_dir)
    remove_stale_exports(export_dir)
    if version is None:
        version = next_version(export_dir)
    final = export_dir / str(version)
    if final.exists():
        raise FileExistsError(
            errno.EEXIST,
            f"Version {version} of the model already exists at {str(final)!r}; versions are "
            f"never overwritten. Pass another `version` or None for the next one.",
        )
    card = build_model_card(model, signatures, metadata, max_samples=module.max_samples)
    card["version"] = version
    card["model_name"] = export_dir.name
    tmp, lock = _locked_temporary_dir(export_dir, version)
    try:
        tf.saved_model.save(module, str(tmp), signatures=signatures)
        extra = tmp / "assets.extra"
        write_model_card(card, extra)
        if warmup:
            # The warm-up `sample` request must itself respect the limit.
            requests = warmup_inputs(
                model.data_shape,
                model.pixels,
                model.n_bits,
                batch_size=min(2, module.max_samples),
                num_classes=model.num_classes,
                context_shape=model.context_shape,
            )
            write_warmup_requests(extra, export_dir.name, requests)
        # Durable before visible: the files, their folders and the temporary folder's own
        # entry reach the disk before the rename, and the rename itself after it.
        fsync_tree(tmp)
        fsync_directory(export_dir)
        _rename_into_place(tmp, final)
        fsync_directory(export_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        os.close(lock)
    return final


def _rename_into_place(tmp: pathlib.Path, final: pathlib.Path) -> None:
    # os.rename silently replaces an *empty* target folder; never replace anything.
    if final.exists():
        raise FileExistsError(
            errno.EEXIST, f"Version folder {str(final)!r} appeared during the export."
        )
    try:
        os.rename(tmp, final)
    except OSError as error:
        if error.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise FileExistsError(
                errno.EEXIST, f"Version folder {str(final)!r} appeared during the export."
            ) from error
        raise
