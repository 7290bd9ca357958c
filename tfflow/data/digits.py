"""The 1,797 8x8 handwritten digits shipped with tfflow, on the 8-bit pixel scale."""

from importlib import resources

import numpy as np

from tfflow.data.arrays import DatasetArrays
from tfflow.data.quantize import reduce_bits

__all__ = ["DIGITS_NUM_TEST", "load_digits"]

# The fixed size of the test split: 1,797 images = 1,500 train + 297 test.
DIGITS_NUM_TEST = 297
# The images store 17 gray levels, 0..16.
_DIGITS_MAX_LEVEL = 16
# `images` (uint8, (1797, 8, 8), 0..16) and `labels` (uint8, (1797,), 0..9), written once from
# `sklearn.datasets.load_digits()` by `tools/make_digits_npz.py`.
_DIGITS_FILE = "digits.npz"


def _read_digits() -> tuple[np.ndarray, np.ndarray]:
    """The raw `(images, labels)` of the shipped file: 0..16 levels and 0..9 labels."""
    with resources.files(__package__).joinpath(_DIGITS_FILE).open("rb") as file:
        with np.load(file) as data:
            return data["images"], data["labels"]


def load_digits(*, flat: bool = False, n_bits: int = 8) -> DatasetArrays:
    """Loads the 1,797 real 8x8 digit images shipped with tfflow (no download).

    They are the UCI "Optical Recognition of Handwritten Digits" test set exactly as
    `sklearn.datasets.load_digits()` returns it (scikit-learn is not needed).

    The 17 gray levels 0..16 are mapped onto the 8-bit scale with
    `round(v * 255 / 16)`, then reduced to `n_bits` bits. The split is deterministic: the
    images are permuted with `numpy.random.RandomState(0)` and the last 297 are the test set,
    leaving 1,500 training images.

    Args:
        flat: If `True`, return `float32` vectors of shape `(N, 64)` with kind "tabular"
            (the values are still the integer pixel levels); else `uint8` images of shape
            `(N, 8, 8, 1)` with kind "image".
        n_bits: Bits per pixel, 1 to 8; values lie in `0 .. 2**n_bits - 1`.

    Returns:
        A `DatasetArrays` with labels 0..9 and `num_classes=10`.

    Raises:
        ValueError: If `n_bits` is not an integer in [1, 8].

    Example:
        >>> arrays = load_digits()
        >>> arrays.train.shape, arrays.test.shape
        ((1500, 8, 8, 1), (297, 8, 8, 1))
    """
    levels, labels = _read_digits()
    images = np.round(levels.astype(np.float64) * 255 / _DIGITS_MAX_LEVEL).astype(np.uint8)[
        ..., np.newaxis
    ]
    images = reduce_bits(images, n_bits)
    labels = labels.astype(np.int64)
    order = np.random.RandomState(0).permutation(images.shape[0])
    images, labels = images[order], labels[order]
    split = images.shape[0] - DIGITS_NUM_TEST
    if flat:
        images = images.reshape(images.shape[0], -1).astype(np.float32)
    return DatasetArrays(
        train=images[:split],
        test=images[split:],
        train_labels=labels[:split],
        test_labels=labels[split:],
        kind="tabular" if flat else "image",
        num_classes=10,
        name="digits_flat" if flat else "digits",
        description=(
            "scikit-learn 8x8 digits (17 gray levels mapped to 8 bits), "
            f"{'flattened to 64 floats' if flat else 'as 8x8x1 images'}; "
            f"{split} train / {DIGITS_NUM_TEST} test."
            + (f" Reduced to {n_bits} bits (values 0..{2**n_bits - 1})." if n_bits < 8 else "")
        ),
        n_bits=n_bits,
    )
