"""Loading a run's data and building its training and evaluation pipelines."""

from __future__ import annotations

import glob
import pathlib
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from tfflow.data import (
    KNOWN_DATASETS,
    DatasetArrays,
    StreamingSource,
    is_streamable,
    load_arrays,
    make_dataset,
    make_stream,
    open_source,
)
from tfflow.training.builders import model_input_shape
from tfflow.training.errors import RunConfigurationError
from tfflow.training.progress import echo

__all__ = [
    "check_conditioning",
    "check_dataset_name",
    "conditioning_classes",
    "evaluation_pipeline",
    "initialization_pipeline",
    "load_run_data",
    "training_pipeline",
    "training_steps",
]


def check_dataset_name(dataset: str) -> None:
    """Cheap early check that `dataset` is a known name or an existing path.

    Raises:
        RunConfigurationError: If it is neither.
    """
    if dataset in KNOWN_DATASETS or pathlib.Path(dataset).expanduser().exists():
        return
    if glob.has_magic(dataset) and glob.glob(str(pathlib.Path(dataset).expanduser())):
        return
    raise RunConfigurationError(
        f"unknown dataset {dataset!r}: use one of {', '.join(KNOWN_DATASETS)}, or a path to "
        "an IDX folder, a .npz/.npy file, an image folder, TFRecord files or a quoted pattern "
        "such as 'data/*.tfrecord'."
    )


def load_run_data(
    dataset: str,
    *,
    data_dir: str | None = None,
    n_bits: int = 8,
    num_examples: int | None = None,
    seed: int = 0,
    label_attribute: str | None = None,
    progress: Callable[[str], None] | None = echo,
    stream: bool = True,
) -> DatasetArrays | StreamingSource:
    """Opens a run's dataset, with a user's mistakes raised as `RunConfigurationError`.

    With `stream`, TFDS datasets, TFRecord files and image folders are opened as a
    `tfflow.data.StreamingSource` (`tfflow.data.open_source`: read file by file, never held
    in memory); the small datasets (toys, digits, IDX folders, .npz/.npy) and everything
    without `stream` are loaded by `tfflow.data.load_arrays` into a `DatasetArrays`.

    `DatasetUnavailableError` (a TFDS dataset not prepared offline) passes through unchanged;
    its message says how to pre-download the data. `label_attribute` picks the CelebA
    attribute used as labels. While a TFDS split, an image folder or TFRecord files are read
    or indexed, `progress` gets a line every few seconds (default: printed to stdout).

    Raises:
        RunConfigurationError: If the name is unknown, a path does not exist or holds no
            usable data, or an option does not apply to the data (e.g. `n_bits` on toy data).
    """
    try:
        if stream and is_streamable(dataset):
            return open_source(
                dataset,
                data_dir=data_dir,
                n_bits=n_bits,
                num_examples=num_examples,
                label_attribute=label_attribute,
                progress=progress,
            )
        return load_arrays(
            dataset,
            data_dir=data_dir,
            n_bits=n_bits,
            num_examples=num_examples,
            seed=seed,
            label_attribute=label_attribute,
            progress=progress,
        )
    except FileNotFoundError as err:
        raise RunConfigurationError(
            f"dataset {dataset!r} not found: {' '.join(str(err).split())}"
        ) from err
    except ValueError as err:
        message = " ".join(str(err).split())
        raise RunConfigurationError(f"cannot load dataset {dataset!r}: {message}") from err


def check_conditioning(*, conditional: bool, label_attribute: str | None) -> None:
    """Cheap early check of the conditioning options, before any data is loaded.

    Raises:
        RunConfigurationError: If `label_attribute` is given without `conditional`.
    """
    if label_attribute is not None and not conditional:
        raise RunConfigurationError(
            f"--label-attribute {label_attribute} chooses the labels of a class-conditional "
            "model; add --conditional, or drop --label-attribute."
        )


def conditioning_classes(
    arrays: DatasetArrays | StreamingSource,
    *,
    conditional: bool,
    label_attribute: str | None = None,
) -> int | None:
    """The number of classes a run conditions on: the data's, or `None` if not `conditional`.

    Raises:
        RunConfigurationError: If `conditional` is asked for data without labels, or
            `label_attribute` without `conditional`.
    """
    check_conditioning(conditional=conditional, label_attribute=label_attribute)
    if not conditional:
        return None
    if not arrays.has_labels:
        hint = (
            " CelebA has attributes instead: pick one as the label with --label-attribute "
            "(e.g. Smiling or Male)."
            if arrays.name == "celeb_a"
            else " Labelled data: digits, mnist, fashion_mnist, cifar10, imagenet_resized/*, "
            "IDX folders with label files, .npz files with y_train/y_test, image folders with "
            "class subfolders."
        )
        raise RunConfigurationError(
            f"--conditional needs class labels, but dataset {arrays.name!r} has none.{hint}"
        )
    return int(arrays.num_classes)


def _flatten_for(
    model_name: str, arrays: DatasetArrays | StreamingSource, labels: bool
) -> Callable[..., Any] | None:
    shape = model_input_shape(model_name, arrays.event_shape)
    if shape == arrays.event_shape:
        return None
    if labels:
        return lambda x, y: (tf.reshape(x, (-1,) + shape), y)
    return lambda x: tf.reshape(x, (-1,) + shape)


def _labels(arrays: DatasetArrays | StreamingSource, split: str, labels: bool) -> np.ndarray | None:
    """The `split` labels to pass on (`None` without `labels`), or a user error."""
    if not labels:
        return None
    if not arrays.has_labels:
        raise RunConfigurationError(f"dataset {arrays.name!r} has no {split} labels.")
    return None if isinstance(arrays, StreamingSource) else getattr(arrays, f"{split}_labels")


def _batches(
    arrays: DatasetArrays | StreamingSource,
    split: str,
    model_name: str,
    *,
    training: bool,
    batch_size: int,
    seed: int,
    flip: bool = False,
    labels: bool = False,
) -> tf.data.Dataset:
    split_labels = _labels(arrays, split, labels)
    # Keep every batch when the split is smaller than one batch (tiny smoke runs).
    drop_remainder = training and (arrays.num_train >= batch_size)
    if isinstance(arrays, StreamingSource):
        dataset = make_stream(
            arrays,
            split,
            batch_size=batch_size,
            training=training,
            seed=seed,
            labels=labels,
            flip=flip,
            drop_remainder=drop_remainder,
        )
    else:
        dataset = make_dataset(
            getattr(arrays, split),
            split_labels,
            batch_size=batch_size,
            training=training,
            n_bits=arrays.n_bits,
            flip=flip,
            seed=seed,
            drop_remainder=drop_remainder,
        )
    flatten = _flatten_for(model_name, arrays, labels)
    return dataset if flatten is None else dataset.map(flatten)


def training_steps(
    arrays: DatasetArrays | StreamingSource, *, batch_size: int, steps_per_epoch: int | None
) -> int | None:
    """The `steps_per_epoch` to give `fit`; with a number, the training data is repeated.

    `steps_per_epoch` when set. A stream is read as an endless (repeated) dataset with epochs
    of `num_train // batch_size` steps (at least 1), one pass over the split: Keras then knows
    the epoch length, and under `tf.distribute` workers whose file shards differ in size
    still take the same number of steps. Arrays without `steps_per_epoch`: `None`, one pass.
    """
    if steps_per_epoch is not None:
        return steps_per_epoch
    if isinstance(arrays, StreamingSource):
        return max(1, arrays.num_train // batch_size)
    return None


def training_pipeline(
    arrays: DatasetArrays | StreamingSource,
    model_name: str,
    *,
    batch_size: int,
    seed: int,
    flip: bool = False,
    labels: bool = False,
) -> tf.data.Dataset:
    """Shuffled, dequantized training batches in the model's input shape; with `labels`,
    `(x, labels)` pairs for class-conditional models.

    A `StreamingSource` is read file by file (`tfflow.data.make_stream`); arrays go through
    `tfflow.data.make_dataset`. Either way the pixels are `float32`, already dequantized.

    Raises:
        RunConfigurationError: If `flip` is asked for tabular data, or `labels` for data
            without labels.
    """
    if flip and arrays.kind != "image":
        raise RunConfigurationError(
            f"--flip needs image data; dataset {arrays.name!r} is {arrays.kind}."
        )
    return _batches(
        arrays,
        "train",
        model_name,
        training=True,
        batch_size=batch_size,
        seed=seed,
        flip=flip,
        labels=labels,
    )


def initialization_pipeline(
    arrays: DatasetArrays | StreamingSource, model_name: str, *, batch_size: int, seed: int
) -> tf.data.Dataset:
    """The training split in order with deterministic dequantization, for data-dependent init.

    Reading it leaves the training pipeline untouched: a partial read of the training pipeline
    itself would advance its random state by however many batches its prefetch had pulled,
    so a resumed run could not replay the same batches.
    """
    return _batches(arrays, "train", model_name, training=False, batch_size=batch_size, seed=seed)


def evaluation_pipeline(
    arrays: DatasetArrays | StreamingSource,
    model_name: str,
    *,
    batch_size: int,
    seed: int,
    labels: bool = False,
) -> tf.data.Dataset:
    """The test split in order with deterministic dequantization, in the model's shape, every
    example once; with `labels`, `(x, labels)` pairs for class-conditional models.

    Raises:
        RunConfigurationError: If `labels` is asked for data without labels.
    """
    return _batches(
        arrays,
        "test",
        model_name,
        training=False,
        batch_size=batch_size,
        seed=seed,
        labels=labels,
    )
