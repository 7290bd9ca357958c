"""`load_served`: a thin Python wrapper over an exported flow loaded with `tf.saved_model.load`."""

from __future__ import annotations

import os
import pathlib
from typing import TYPE_CHECKING, Any

import numpy as np
import tensorflow as tf
from google.protobuf.message import DecodeError
from numpy.typing import ArrayLike

from tfflow.dequantization import bin_centres
from tfflow.serving.exporter import existing_versions
from tfflow.serving.model_card import CARD_FILENAME, read_model_card

if TYPE_CHECKING:
    from tfflow.models.flow_model import FlowModel

__all__ = ["CorruptSavedModelError", "ServedModel", "load_served", "resolve_version_dir"]


class CorruptSavedModelError(ValueError):
    """A SavedModel folder whose files cannot be read (truncated, overwritten, half-copied)."""


# What `tf.saved_model.load` raises for damaged files: a torn `saved_model.pb` (OSError
# "Cannot parse file"), a torn variables index (a tf.errors.OpError such as DataLossError),
# torn variable data (IndexError "Read less bytes than requested").
_DAMAGED_FILE_ERRORS = (OSError, ValueError, IndexError, tf.errors.OpError, DecodeError)


def resolve_version_dir(path: str | os.PathLike) -> pathlib.Path:
    """A version folder as is, or the latest integer version of a model base path.

    Raises:
        FileNotFoundError: if `path` is neither a SavedModel folder nor holds a version of one.
    """
    path = pathlib.Path(path).expanduser()
    if (path / "saved_model.pb").is_file():
        return path
    for version in reversed(existing_versions(path)):
        candidate = path / str(version)
        if (candidate / "saved_model.pb").is_file():
            return candidate
    raise FileNotFoundError(
        f"No SavedModel at {str(path)!r}: expected a version folder holding saved_model.pb, "
        f"or a model folder with integer version subfolders (TF Serving's layout)."
    )


class ServedModel:
    """An exported tfflow model, loaded with `tf.saved_model.load` (no tfflow code runs).

    Methods mirror `FlowModel` and return tensors; they call the SavedModel's signatures.
    For a class-conditional export (`conditional`), every method needs `labels`: integers in
    `[0, num_classes)`, one per example (or a scalar, used for the whole batch). For a
    context-conditional export (`context_shape` set), every method needs `context`: one per
    example, `(batch,) + context_shape`, or a single one (`context_shape`) for all.

    Args:
        version_dir: a SavedModel version folder written by `tfflow.export`.

    Raises:
        CorruptSavedModelError: if a file of the SavedModel is corrupted or truncated,
            naming the folder.

    Attributes:
        path: the version folder.
        version: its integer version (None if the folder name is not an integer).
        saved_model: the object `tf.saved_model.load` returned.
        signatures: its signatures (name -> concrete function).
        card: the model card (`assets.extra/tfflow_model.json`), `{}` if absent.
        conditional: whether the signatures take `labels` (a class-conditional model).
        num_classes: the number of classes (from the card; None if unconditional or unknown).
        context_shape: the shape of one context (from the signatures); None for an export
            without a context.
        max_samples: the `sample` signature's cap on `num_samples` (from the card; None for
            an export that predates the limit).
    """

    def __init__(self, version_dir: str | os.PathLike):
        self.path = pathlib.Path(version_dir)
        self.version = int(self.path.name) if self.path.name.isdigit() else None
        card_path = self.path / "assets.extra" / CARD_FILENAME
        try:
            self.saved_model = tf.saved_model.load(str(self.path))
            self.card: dict[str, Any] = read_model_card(self.path) if card_path.is_file() else {}
        except _DAMAGED_FILE_ERRORS as err:
            reason = " ".join(str(err).split())[:200] or type(err).__name__
            raise CorruptSavedModelError(
                f"cannot load the SavedModel {str(self.path)!r}: a file in it is corrupted or "
                f"truncated ({type(err).__name__}: {reason}); export the model again."
            ) from err
        self.signatures = dict(self.saved_model.signatures)
        spec = self.signatures["log_prob"].structured_input_signature[1]["x"]
        self.data_shape = tuple(int(d) for d in spec.shape[1:])
        self.pixels = "log_prob_uint8" in self.signatures
        self.conditional = "labels" in self.signatures["log_prob"].structured_input_signature[1]
        context_spec = self.signatures["log_prob"].structured_input_signature[1].get("context")
        self.context_shape = (
            None if context_spec is None else tuple(int(d) for d in context_spec.shape[1:])
        )
        num_classes = self.card.get("num_classes")
        self.num_classes = int(num_classes) if self.conditional and num_classes else None
        self.max_samples = (self.card.get("serving_limits") or {}).get("max_samples")

    def __repr__(self) -> str:
        kind = self.card.get("model_class", "flow")
        return f"<ServedModel {kind} data_shape={self.data_shape} from {str(self.path)!r}>"

    def _as_data(self, x: tf.Tensor | ArrayLike) -> tf.Tensor:
        array = x.numpy() if isinstance(x, tf.Tensor) else np.asarray(x)
        if np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_:
            if not self.pixels:
                raise TypeError(
                    f"`x` must be floating point for a model of real-valued data; "
                    f"received dtype {array.dtype}."
                )
            # Integer pixels are the centres of their bins, as in `FlowModel.log_prob`.
            return bin_centres(array, tf.float32)
        return tf.constant(array, tf.float32)

    def _labels(self, labels: tf.Tensor | ArrayLike | None, count: int) -> dict[str, tf.Tensor]:
        """`{"labels": int32 vector}` for a conditional model (`{}` otherwise), or raises.

        A scalar label is repeated `count` times; range and length are checked by the
        signatures themselves (`InvalidArgumentError` naming `labels`).
        """
        if not self.conditional:
            if labels is not None:
                raise ValueError(
                    "`labels` given to a model without classes: this export takes no `labels`."
                )
            return {}
        if labels is None:
            classes = "" if self.num_classes is None else f" in [0, {self.num_classes})"
            raise ValueError(
                f"This exported model is class-conditional: pass `labels` (integers{classes}, "
                f"one per example)."
            )
        array = labels.numpy() if isinstance(labels, tf.Tensor) else np.asarray(labels)
        if not (np.issubdtype(array.dtype, np.integer) or array.size == 0):
            raise TypeError(f"`labels` must be integers; received dtype {array.dtype}.")
        array = array.astype(np.int32)
        if array.ndim == 0:
            array = np.full([count], array, np.int32)
        return {"labels": tf.constant(array, tf.int32)}

    def _context(self, context: tf.Tensor | ArrayLike | None, count: int) -> dict[str, tf.Tensor]:
        """`{"context": float32 batch}` for a context-conditional export (`{}` otherwise), or
        raises; a single context (shape `context_shape`) is repeated `count` times."""
        if self.context_shape is None:
            if context is not None:
                raise ValueError(
                    "`context` given to a model without a context: this export takes no `context`."
                )
            return {}
        shape = self.context_shape
        if context is None:
            raise ValueError(
                f"This exported model is context-conditional: pass `context` of shape "
                f"(batch, {', '.join(map(str, shape))}) or {shape}."
            )
        array = context.numpy() if isinstance(context, tf.Tensor) else np.asarray(context)
        if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
            raise TypeError(f"`context` must be floating point; received dtype {array.dtype}.")
        if array.shape == shape:
            array = np.broadcast_to(array, (count,) + shape)
        if array.ndim != len(shape) + 1 or tuple(array.shape[1:]) != shape:
            raise ValueError(
                f"`context` must have shape (batch, {', '.join(map(str, shape))}) or {shape}; "
                f"received shape {array.shape}."
            )
        return {"context": tf.constant(array, tf.float32)}

    def _conditions(
        self,
        labels: tf.Tensor | ArrayLike | None,
        context: tf.Tensor | ArrayLike | None,
        count: int,
    ) -> dict[str, tf.Tensor]:
        return self._labels(labels, count) | self._context(context, count)

    def _densities(
        self,
        x: tf.Tensor | ArrayLike,
        labels: tf.Tensor | ArrayLike | None,
        context: tf.Tensor | ArrayLike | None,
    ) -> dict[str, tf.Tensor]:
        x = self._as_data(x)
        count = int(x.shape[0]) if x.shape.rank else 1
        return self.signatures["log_prob"](x=x, **self._conditions(labels, context, count))

    def log_prob(
        self,
        x: tf.Tensor | ArrayLike,
        labels: tf.Tensor | ArrayLike | None = None,
        *,
        context: tf.Tensor | ArrayLike | None = None,
    ) -> tf.Tensor:
        """`log p(x)` (`log p(x | labels)`, `log p(x | context)`) in nats per example.

        Integer pixels are scored at bin centres `k + 0.5`.
        """
        return self._densities(x, labels, context)["log_prob"]

    def bits_per_dim(
        self,
        x: tf.Tensor | ArrayLike,
        labels: tf.Tensor | ArrayLike | None = None,
        *,
        context: tf.Tensor | ArrayLike | None = None,
    ) -> tf.Tensor:
        """`-log_prob(x) / (D ln 2)`."""
        return self._densities(x, labels, context)["bits_per_dim"]

    def sample(
        self,
        num_samples: int,
        temperature: float = 1.0,
        seed: int = 0,
        labels: tf.Tensor | ArrayLike | None = None,
        *,
        as_uint8: bool = False,
        context: tf.Tensor | ArrayLike | None = None,
    ) -> tf.Tensor:
        """Samples as `model.sample(num_samples, temperature, seed, labels=labels)` draws them.

        Args:
            num_samples: number of samples (> 0).
            temperature: latent noise scale (finite, >= 0).
            seed: integer seed (the same seed gives the same samples).
            labels: class-conditional models only: one label per sample, or a single label
                (scalar or length-1) for all of them.
            as_uint8: return the 8-bit `samples_uint8` output (pixel models only).
            context: context-conditional models only: one context per sample, or a single
                one (`context_shape` or `(1,) + context_shape`) for all of them.
        """
        outputs = self.signatures["sample"](
            num_samples=tf.constant(num_samples, tf.int32),
            temperature=tf.constant(temperature, tf.float32),
            seed=tf.constant(seed, tf.int64),
            **self._labels(labels, 1),
            **self._context(context, 1),
        )
        if as_uint8:
            if "samples_uint8" not in outputs:
                raise ValueError(
                    "`as_uint8=True` needs a pixel model; this model has no uint8 samples."
                )
            return outputs["samples_uint8"]
        return outputs["samples"]

    def encode(
        self,
        x: tf.Tensor | ArrayLike,
        labels: tf.Tensor | ArrayLike | None = None,
        *,
        context: tf.Tensor | ArrayLike | None = None,
    ) -> tf.Tensor:
        """Data -> latent `z` of shape `(batch, D)`."""
        x = self._as_data(x)
        count = int(x.shape[0]) if x.shape.rank else 1
        return self.signatures["encode"](x=x, **self._conditions(labels, context, count))["z"]

    def decode(
        self,
        z: tf.Tensor | ArrayLike,
        labels: tf.Tensor | ArrayLike | None = None,
        *,
        context: tf.Tensor | ArrayLike | None = None,
    ) -> tf.Tensor:
        """Latent `(batch, D)` -> data."""
        z = tf.constant(z.numpy() if isinstance(z, tf.Tensor) else np.asarray(z), tf.float32)
        count = int(z.shape[0]) if z.shape.rank else 1
        return self.signatures["decode"](z=z, **self._conditions(labels, context, count))["x"]

    def to_model(self, check: bool = True) -> FlowModel:
        """Rebuilds the Python `FlowModel` (from the card's config) with the exported weights.

        A SavedModel is a frozen program: if tfflow's code changed since the export, the
        rebuilt model computes something else. With `check`, both score a probe batch and
        must agree.

        Args:
            check: compare `log_prob` of the rebuilt and the exported model on a probe batch.

        Raises:
            ValueError: if the card is missing, its model does not match the variables, or
                (with `check`) the rebuilt model's `log_prob` differs from the SavedModel's.
        """
        from tfflow import models

        name = self.card.get("model_class")
        cls = getattr(models, name, None) if isinstance(name, str) else None
        if cls is None or "config" not in self.card:
            raise ValueError(
                f"Cannot rebuild the model of {str(self.path)!r}: its model card has no known "
                f"`model_class` and `config` (received model_class={name!r})."
            )
        model = cls.from_config(self.card["config"])
        values = list(self.saved_model.model_variables)
        if len(values) != len(model.variables) or any(
            tuple(v.shape) != tuple(w.shape) for v, w in zip(model.variables, values, strict=False)
        ):
            raise ValueError(
                f"The variables of {str(self.path)!r} do not match a {name} built from its "
                f"config ({len(values)} exported vs {len(model.variables)} built)."
            )
        for variable, value in zip(model.variables, values, strict=True):
            variable.assign(value)
        if check:
            probe = self._probe_batch()
            labels = None
            if self.conditional:
                classes = getattr(model, "num_classes", None) or 1
                labels = np.arange(len(probe), dtype=np.int32) % classes
            context = None
            if self.context_shape is not None:
                rng = np.random.default_rng(1)
                context = rng.standard_normal((len(probe),) + self.context_shape)
                context = context.astype(np.float32)
            want = self.log_prob(probe, labels, context=context).numpy()
            got = model.log_prob(probe, labels, context=context).numpy()
            if not np.allclose(got, want, rtol=1e-4, atol=1e-4):
                raise ValueError(
                    f"A {name} rebuilt from {str(self.path)!r} does not reproduce the exported "
                    f"log_prob (got {got}, exported {want}): the SavedModel was written by "
                    f"different tfflow code (card: tfflow "
                    f"{self.card.get('versions', {}).get('tfflow')}). Serve the SavedModel "
                    f"itself, or re-export with the current code."
                )
        return model

    def _probe_batch(self) -> np.ndarray:
        rng = np.random.default_rng(0)
        shape = (4,) + self.data_shape
        if self.pixels:
            n_bits = int(self.card.get("n_bits", 8))
            return rng.uniform(0, 2**n_bits, shape).astype(np.float32)
        return rng.standard_normal(shape).astype(np.float32)


def load_served(path: str | os.PathLike) -> ServedModel:
    """Loads an exported model: a version folder, or a model folder (latest version).

    Example:
        >>> served = tfflow.load_served("savedmodels/glow_digits")  # doctest: +SKIP
        >>> served.sample(4, temperature=0.7, seed=1).shape  # doctest: +SKIP
        TensorShape([4, 8, 8, 1])
    """
    return ServedModel(resolve_version_dir(path))
