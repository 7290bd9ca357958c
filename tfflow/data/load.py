"""`load_arrays`: one entry point for every dataset `tfflow` trains on."""

import dataclasses
import os
import pathlib
from collections.abc import Callable

import numpy as np

from tfflow.data.arrays import DatasetArrays
from tfflow.data.digits import load_digits
from tfflow.data.local import load_path
from tfflow.data.quantize import check_n_bits, reduce_bits
from tfflow.data.tfds_source import TFDS_DATASETS, load_tfds
from tfflow.data.toy import TOY_DENSITIES, sample_toy

__all__ = ["KNOWN_DATASETS", "load_arrays"]

KNOWN_DATASETS: tuple[str, ...] = (
    "digits",
    "digits_flat",
    *TOY_DENSITIES,
    *TFDS_DATASETS,
)
# Default sizes of the toy-density splits.
TOY_NUM_TRAIN = 20_000
TOY_NUM_TEST = 5_000


def _looks_like_path(name: str) -> bool:
    return (
        os.sep in name
        or "/" in name
        or name.startswith((".", "~"))
        or pathlib.Path(name).suffix.lower() in (".npz", ".npy")
        or pathlib.Path(name).exists()
    )


def _load_toy(name: str, num_examples: int | None, seed: int) -> DatasetArrays:
    num_train = TOY_NUM_TRAIN if num_examples is None else num_examples
    # Independent streams, so the test set does not depend on the training-set size.
    train = sample_toy(name, num_train, np.random.RandomState([seed, 0]))
    test = sample_toy(name, TOY_NUM_TEST, np.random.RandomState([seed, 1]))
    return DatasetArrays(
        train=train,
        test=test,
        train_labels=None,
        test_labels=None,
        kind="tabular",
        num_classes=None,
        name=name,
        description=f"2-D toy density {name!r} (FFJORD definition), seed {seed}.",
    )


def _check_count(num_examples: int | None) -> None:
    if num_examples is not None and (
        isinstance(num_examples, bool) or not isinstance(num_examples, int) or num_examples < 1
    ):
        raise ValueError(
            f"`num_examples` must be a positive integer or None; received {num_examples!r}."
        )


def load_arrays(
    name: str,
    *,
    data_dir: str | None = None,
    n_bits: int = 8,
    num_examples: int | None = None,
    seed: int = 0,
    label_attribute: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> DatasetArrays:
    """Loads a dataset as NumPy arrays, offline.

    `name` is one of `KNOWN_DATASETS` or a local path:

    - "digits": scikit-learn's 1,797 bundled 8x8 digits as `uint8` images `(N, 8, 8, 1)`, 17
      gray levels mapped to `round(v * 255 / 16)`; fixed split of 1,500 train / 297 test.
    - "digits_flat": the same digits flattened to `float32` `(N, 64)` (kind "tabular").
    - "moons", "circles", "checkerboard", "8gaussians", "spirals": 2-D toy densities
      (`float32` `(N, 2)`, within about [-4, 4]) drawn from `seed`, 20,000 train + 5,000 test.
    - "mnist", "fashion_mnist", "cifar10", "celeb_a", "imagenet_resized/32x32",
      "imagenet_resized/64x64": TensorFlow Datasets, read from `data_dir` without downloading.
      CelebA comes without labels unless `label_attribute` names one of its 40 binary
      attributes (`tfflow.data.tfds_source.CELEBA_ATTRIBUTES`), which becomes a 0/1 label.
    - a path: a folder of MNIST-format IDX files, a `.npz` or `.npy` file, or a folder of
      images (see `tfflow.data.local.load_path`).

    With `n_bits < 8`, pixel values are reduced as in Glow, `x // 2**(8 - n_bits)`, and lie in
    `0 .. 2**n_bits - 1` (they are not rescaled to 0..255); pass the same `n_bits` to
    `make_dataset`.

    Args:
        name: A name from `KNOWN_DATASETS` or a path.
        data_dir: TFDS data folder for the TFDS names; ignored otherwise.
        n_bits: Bits per pixel, 1 to 8. Applies to images and "digits_flat"; must be 8 for
            continuous tabular data.
        num_examples: Number of training examples of a toy density; for other datasets, keep
            at most this many training examples (the test set is unchanged).
        seed: Seed of the toy densities; the other datasets are deterministic without it.
        label_attribute: For "celeb_a" only: the attribute used as a 0/1 class label, e.g.
            "Smiling" or "Male".
        progress: Called with a progress line every few seconds while a TFDS split or a
            large image folder is read (e.g. `print`); `None` reports nothing.

    Returns:
        The `DatasetArrays`.

    Raises:
        ValueError: If `name` is neither a known name nor a path, an argument is out of range,
            `label_attribute` is given for another dataset than "celeb_a" or is not a CelebA
            attribute, or the files are malformed (e.g. a bad IDX magic).
        FileNotFoundError: If a path, or a file it needs, does not exist.
        DatasetUnavailableError: If a TFDS dataset is not prepared in `data_dir`.

    Example:
        >>> arrays = load_arrays("moons", num_examples=100)
        >>> arrays.train.shape, arrays.test.shape, arrays.kind
        ((100, 2), (5000, 2), 'tabular')
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"`name` must be a non-empty string; received {name!r}.")
    n_bits = check_n_bits(n_bits)
    _check_count(num_examples)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer; received {seed!r}.")
    if label_attribute is not None and name != "celeb_a":
        raise ValueError(
            f"`label_attribute` applies to celeb_a only; received {label_attribute!r} for {name!r}."
        )
    if name in TOY_DENSITIES:
        arrays = _load_toy(name, num_examples, int(seed))
    elif name in ("digits", "digits_flat"):
        arrays = load_digits(flat=name == "digits_flat")
    elif name in TFDS_DATASETS:
        arrays = load_tfds(
            name,
            data_dir=data_dir,
            num_examples=num_examples,
            label_attribute=label_attribute,
            progress=progress,
        )
    elif _looks_like_path(name):
        arrays = load_path(name, progress=progress)
    else:
        raise ValueError(
            f"Unknown dataset {name!r}: `name` must be one of {', '.join(KNOWN_DATASETS)}, "
            "or a path to an IDX folder, a .npz/.npy file or an image folder."
        )
    if num_examples is not None and arrays.train.shape[0] > num_examples:
        arrays = dataclasses.replace(
            arrays,
            train=arrays.train[:num_examples],
            train_labels=None
            if arrays.train_labels is None
            else arrays.train_labels[:num_examples],
        )
    if n_bits == 8:
        return arrays
    if arrays.kind == "tabular" and name != "digits_flat":
        raise ValueError(
            f"`n_bits` applies to discrete (image) data only; received n_bits={n_bits} for "
            f"continuous tabular data {name!r}."
        )
    return dataclasses.replace(
        arrays,
        train=reduce_bits(arrays.train, n_bits),
        test=reduce_bits(arrays.test, n_bits),
        n_bits=n_bits,
        description=f"{arrays.description} Reduced to {n_bits} bits (values 0..{2**n_bits - 1}).",
    )
