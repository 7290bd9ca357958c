"""Loading a run's data and building its training and evaluation pipelines."""

from __future__ import annotations

import pathlib
from collections.abc import Callable

import tensorflow as tf

from tfflow.data import KNOWN_DATASETS, DatasetArrays, load_arrays, make_dataset
from tfflow.training.builders import model_input_shape
from tfflow.training.errors import RunConfigurationError
from tfflow.training.progress import echo

__all__ = [
    "check_conditioning",
    "check_dataset_name",
    "conditioning_classes",
    "evaluation_pipeline",
    "load_run_data",
    "training_pipeline",
]


def check_dataset_name(dataset: str) -> None:
    """Cheap early check that `dataset` is a known name or an existing path.

    Raises:
        RunConfigurationError: If it is neither.
    """
    if dataset in KNOWN_DATASETS or pathlib.Path(dataset).expanduser().exists():
        return
    raise RunConfigurationError(
        f"unknown dataset {dataset!r}: use one of {', '.join(KNOWN_DATASETS)}, or a path to "
        "an IDX folder, a .npz/.npy file or an image folder."
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
) -> DatasetArrays:
    """`tfflow.data.load_arrays`, with a user's mistakes raised as `RunConfigurationError`.

    `DatasetUnavailableError` (a TFDS dataset not prepared offline) passes through unchanged;
    its message says how to pre-download the data. `label_attribute` picks the CelebA
    attribute used as labels. While a TFDS split or a large image folder is read, `progress`
    gets a line every few seconds (default: printed to stdout).

    Raises:
        RunConfigurationError: If the name is unknown, a path does not exist or holds no
            usable data, or an option does not apply to the data (e.g. `n_bits` on toy data).
    """
    try:
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
    arrays: DatasetArrays, *, conditional: bool, label_attribute: str | None = None
) -> int | None:
    """The number of classes a run conditions on: the data's, or `None` if not `conditional`.

    Raises:
        RunConfigurationError: If `conditional` is asked for data without labels, or
            `label_attribute` without `conditional`.
    """
    check_conditioning(conditional=conditional, label_attribute=label_attribute)
    if not conditional:
        return None
    if arrays.train_labels is None or arrays.test_labels is None or not arrays.num_classes:
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


def _flatten_for(model_name: str, arrays: DatasetArrays, labels: bool):
    shape = model_input_shape(model_name, arrays.event_shape)
    if shape == arrays.event_shape:
        return None
    if labels:
        return lambda x, y: (tf.reshape(x, (-1,) + shape), y)
    return lambda x: tf.reshape(x, (-1,) + shape)


def _labels(arrays: DatasetArrays, split: str, labels: bool):
    if not labels:
        return None
    values = getattr(arrays, f"{split}_labels")
    if values is None:
        raise RunConfigurationError(f"dataset {arrays.name!r} has no {split} labels.")
    return values


def training_pipeline(
    arrays: DatasetArrays,
    model_name: str,
    *,
    batch_size: int,
    seed: int,
    flip: bool = False,
    labels: bool = False,
) -> tf.data.Dataset:
    """Shuffled, dequantized training batches in the model's input shape; with `labels`,
    `(x, labels)` pairs for class-conditional models.

    Raises:
        RunConfigurationError: If `flip` is asked for tabular data, or `labels` for data
            without labels.
    """
    if flip and arrays.kind != "image":
        raise RunConfigurationError(
            f"--flip needs image data; dataset {arrays.name!r} is {arrays.kind}."
        )
    dataset = make_dataset(
        arrays.train,
        _labels(arrays, "train", labels),
        batch_size=batch_size,
        training=True,
        n_bits=arrays.n_bits,
        flip=flip,
        seed=seed,
        # Keep every batch when the split is smaller than one batch (tiny smoke runs).
        drop_remainder=arrays.train.shape[0] >= batch_size,
    )
    flatten = _flatten_for(model_name, arrays, labels)
    return dataset if flatten is None else dataset.map(flatten)


def evaluation_pipeline(
    arrays: DatasetArrays, model_name: str, *, batch_size: int, seed: int, labels: bool = False
) -> tf.data.Dataset:
    """The test split in order with deterministic dequantization, in the model's shape; with
    `labels`, `(x, labels)` pairs for class-conditional models.

    Raises:
        RunConfigurationError: If `labels` is asked for data without labels.
    """
    dataset = make_dataset(
        arrays.test,
        _labels(arrays, "test", labels),
        batch_size=batch_size,
        training=False,
        n_bits=arrays.n_bits,
        seed=seed,
    )
    flatten = _flatten_for(model_name, arrays, labels)
    return dataset if flatten is None else dataset.map(flatten)
