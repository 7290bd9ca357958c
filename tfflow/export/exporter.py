"""`export`: writes a flow as a versioned SavedModel in TF Serving's layout, atomically."""

from __future__ import annotations

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

from tfflow.export.model_card import build_model_card, write_model_card
from tfflow.export.serving_module import ServingModule
from tfflow.export.warmup import serving_api_available, warmup_inputs, write_warmup_requests
from tfflow.models.flow_model import FlowModel

__all__ = ["export", "existing_versions", "next_version"]

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
) -> pathlib.Path:
    """Exports `model` as the SavedModel `export_dir/<version>/` for TF Serving.

    The version folder holds the SavedModel (signatures `serving_default`, `log_prob`,
    `log_prob_uint8` for pixel models, `sample`, `encode`, `decode`, each with an int32
    `labels` input for class-conditional models; see `ServingModule`) and
    `assets.extra/` with the model card `tfflow_model.json` and TF Serving's warm-up requests
    `tf_serving_warmup_requests`. It is written to a hidden sibling folder
    (`export_dir/.tmp-<version>-<random>`) and renamed into place, so a server polling
    `export_dir` never sees a half-written version; on any error the temporary folder is
    removed.

    Args:
        model: a `NICE`, `RealNVP` or `Glow` (any `FlowModel`).
        export_dir: the model's base path (created if missing), e.g. `savedmodels/glow_digits`.
        version: integer version; `None` picks the highest existing version + 1 (1 at first).
        metadata: JSON-serialisable training facts for the model card, e.g.
            `{"dataset": "digits", "test_bits_per_dim": 1.23, "command": "..."}`.
        warmup: write warm-up requests: `True` requires `tensorflow-serving-api`, `False`
            skips them, `None` writes them when that package is installed (else warns).

    Returns:
        The path of the new version folder.

    Raises:
        TypeError: if `model` is not a `FlowModel` or `metadata` is not JSON-serialisable.
        ValueError: if `version` is not a non-negative integer.
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
    module = ServingModule(model)
    signatures = module.signatures  # traces every signature before anything is written
    _prepare_dir(export_dir)
    if version is None:
        version = next_version(export_dir)
    final = export_dir / str(version)
    if final.exists():
        raise FileExistsError(
            errno.EEXIST,
            f"Version {version} of the model already exists at {str(final)!r}; versions are "
            f"never overwritten. Pass another `version` or None for the next one.",
        )
    card = build_model_card(model, signatures, metadata)
    card["version"] = version
    card["model_name"] = export_dir.name
    tmp = export_dir / f"{_TMP_PREFIX}{version}-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        tf.saved_model.save(module, str(tmp), signatures=signatures)
        extra = tmp / "assets.extra"
        write_model_card(card, extra)
        if warmup:
            requests = warmup_inputs(
                model.data_shape, model.pixels, model.n_bits, num_classes=model.num_classes
            )
            write_warmup_requests(extra, export_dir.name, requests)
        _rename_into_place(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
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
