"""The model card written next to an exported SavedModel (`assets.extra/tfflow_model.json`)."""

from __future__ import annotations

import datetime
import json
import math
import pathlib
from collections.abc import Mapping
from typing import Any, NoReturn

import tensorflow as tf
import tensorflow_probability as tfp

from tfflow._version import __version__
from tfflow.models.flow_model import FlowModel

__all__ = ["CARD_FILENAME", "build_model_card", "read_model_card", "write_model_card"]

CARD_FILENAME = "tfflow_model.json"
_FORMAT = "tfflow-model-card/1"


def _json_ready(value: Any, what: str) -> Any:
    """Round-trips `value` through JSON, raising a precise error if it cannot be encoded."""

    def reject(obj: object) -> NoReturn:
        raise TypeError(
            f"{what} must be JSON-serialisable; received an object of type "
            f"{type(obj).__name__}: {obj!r}."
        )

    # Non-finite floats are not JSON; keep them readable as strings ("inf", "nan").
    def clean(obj: Any) -> Any:
        if isinstance(obj, float) and not math.isfinite(obj):
            return str(obj)
        if isinstance(obj, Mapping):
            return {str(k): clean(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [clean(v) for v in obj]
        return obj

    return json.loads(json.dumps(clean(value), default=reject, allow_nan=False))


def build_model_card(
    model: FlowModel,
    signatures: Mapping[str, tf.types.experimental.ConcreteFunction],
    metadata: Mapping[str, Any] | None = None,
    *,
    max_samples: int | None = None,
) -> dict[str, Any]:
    """Describes an exported model: class, config, data, metrics, signatures and versions.

    Args:
        model: the exported `FlowModel`.
        signatures: the exported signatures (name -> concrete function).
        metadata: free-form JSON-serialisable facts about training. Recognised keys are
            surfaced at the top level: `dataset` (training data name), `test_bits_per_dim`,
            `test_log_prob` (nats/example) and `command` (how to regenerate the export).
        max_samples: the `sample` signature's cap on `num_samples`, recorded as
            `serving_limits.max_samples`.

    Returns:
        A JSON-ready dict.

    Raises:
        TypeError: if `metadata` is not a mapping or holds values JSON cannot encode.
    """
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, Mapping):
        raise TypeError(
            f"`metadata` must be a mapping (dict) or None; received {type(metadata).__name__}."
        )
    metadata = _json_ready(dict(metadata), "`metadata`")
    described = {}
    for name, fn in signatures.items():
        args, kwargs = fn.structured_input_signature
        inputs = {spec.name: spec for spec in args} | dict(kwargs)
        outputs = fn.structured_outputs
        described[name] = {
            "inputs": {k: _spec(v) for k, v in sorted(inputs.items())},
            "outputs": {k: _spec(v) for k, v in sorted(outputs.items())},
        }
    card = {
        "format": _FORMAT,
        "model_class": type(model).__name__,
        "config": _config(model),
        "data_shape": list(model.data_shape),
        "event_size": int(model.event_size),
        "pixels": bool(model.pixels),
        "n_bits": int(model.n_bits),
        "prior": model.prior,
        # Class-conditional models (an int) take `labels` in [0, num_classes) in every signature.
        "num_classes": model.num_classes,
        # Context-conditional models (a list) take a float32 `context` of shape
        # `[batch] + context_shape` in every signature.
        "context_shape": None
        if getattr(model, "context_shape", None) is None
        else list(model.context_shape),
        "training_dataset": metadata.get("dataset"),
        "test_bits_per_dim": metadata.get("test_bits_per_dim"),
        "test_log_prob": metadata.get("test_log_prob"),
        "command": metadata.get("command"),
        "signatures": described,
        # Requests the signatures refuse with INVALID_ARGUMENT (see `tfflow.serving`).
        "serving_limits": {"max_samples": max_samples},
        "versions": {
            "tfflow": __version__,
            "tensorflow": tf.__version__,
            "tensorflow_probability": tfp.__version__,
        },
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "metadata": metadata,
    }
    return _json_ready(card, "The model card")


def _config(model: FlowModel) -> dict[str, Any] | None:
    """`model.get_config()`, or None for a model without one (a `tfflow.Flow` built from
    bijector objects rather than a registered builder)."""
    try:
        return model.get_config()
    except NotImplementedError:
        return None


def _spec(value: Any) -> dict[str, Any]:
    shape = value.shape
    dims = None if shape.rank is None else [None if d is None else int(d) for d in shape]
    return {"dtype": value.dtype.name, "shape": dims}


def write_model_card(card: Mapping[str, Any], directory: str | pathlib.Path) -> pathlib.Path:
    """Writes `card` as `directory/tfflow_model.json` (creating `directory`); returns the path."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CARD_FILENAME
    path.write_text(json.dumps(card, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def read_model_card(version_dir: str | pathlib.Path) -> dict[str, Any]:
    """Reads `version_dir/assets.extra/tfflow_model.json`.

    Raises:
        FileNotFoundError: naming the missing file.
    """
    path = pathlib.Path(version_dir) / "assets.extra" / CARD_FILENAME
    if not path.is_file():
        raise FileNotFoundError(f"No tfflow model card at {path}.")
    return json.loads(path.read_text(encoding="utf-8"))
