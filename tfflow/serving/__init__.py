"""Exporting flows as SavedModels for TF Serving, and loading them back.

`export(model, export_dir)` writes `export_dir/<version>/` atomically, with the signatures
`serving_default`/`log_prob`, `log_prob_uint8` (pixel models), `sample`, `encode` and
`decode`, a model card and TF Serving warm-up requests; `load_served(path)` wraps
`tf.saved_model.load` with `FlowModel`-like methods. Class-conditional models
(`num_classes=N`) get an int32 `labels` input in every signature.
"""

from tfflow.serving.exporter import (
    existing_versions,
    export,
    next_version,
    remove_stale_exports,
)
from tfflow.serving.load import (
    CorruptSavedModelError,
    ServedModel,
    load_served,
    resolve_version_dir,
)
from tfflow.serving.model_card import build_model_card, read_model_card
from tfflow.serving.serving_module import (
    DEFAULT_MAX_SAMPLES,
    SIGNATURE_NAMES,
    ServingModule,
    samples_to_uint8,
)
from tfflow.serving.warmup import warmup_inputs, write_warmup_requests

__all__ = [
    "CorruptSavedModelError",
    "DEFAULT_MAX_SAMPLES",
    "SIGNATURE_NAMES",
    "ServedModel",
    "ServingModule",
    "build_model_card",
    "existing_versions",
    "export",
    "load_served",
    "next_version",
    "read_model_card",
    "remove_stale_exports",
    "resolve_version_dir",
    "samples_to_uint8",
    "warmup_inputs",
    "write_warmup_requests",
]
