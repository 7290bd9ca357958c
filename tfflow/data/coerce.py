"""Checks and conversions that turn user-supplied arrays into `DatasetArrays` fields."""

import numpy as np

__all__ = ["as_data_array", "as_labels", "num_classes_of", "split_last"]


def as_data_array(array: np.ndarray, source: str) -> tuple[np.ndarray, str]:
    """Converts an array to `uint8` images `(N, H, W, C)` or `float32` tabular data `(N, D)`.

    Rank 2 is tabular; rank 3 `(N, H, W)` gets a channel axis; rank 4 is images. Images of any
    numeric dtype are accepted when every value is an integer in 0..255.

    Args:
        array: The array to convert.
        source: Where the array came from (a path and key), for error messages.

    Returns:
        The converted array and its kind, "image" or "tabular".

    Raises:
        ValueError: If the rank is not 2, 3 or 4, tabular values are not finite, or image
            values are not integers in 0..255.
    """
    array = np.asarray(array)
    if array.ndim not in (2, 3, 4) or array.shape[0] == 0:
        raise ValueError(
            f"{source} must be tabular data (N, D) or images (N, H, W[, C]) with N > 0; "
            f"received shape {array.shape}."
        )
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise ValueError(f"{source} must hold numbers; received dtype {array.dtype}.")
    if array.ndim == 2:
        tabular = array.astype(np.float32)
        if not np.all(np.isfinite(tabular)):
            raise ValueError(f"{source} holds non-finite values (NaN or inf).")
        return tabular, "tabular"
    if array.ndim == 3:
        array = array[..., np.newaxis]
    if array.dtype == np.uint8:
        return array, "image"
    low, high = array.min(), array.max()
    if low < 0 or high > 255 or not np.all(np.mod(array, 1) == 0):
        raise ValueError(
            f"{source} looks like images (shape {array.shape}) so must hold integers in "
            f"0..255; received {array.dtype} values in [{low}, {high}]. Scale them to the "
            "8-bit range first."
        )
    return array.astype(np.uint8), "image"


def as_labels(labels: np.ndarray | None, num_examples: int, source: str) -> np.ndarray | None:
    """Converts class labels of shape `(N,)` or `(N, 1)` to `int64` `(N,)`.

    Args:
        labels: Integer labels, or `None`.
        num_examples: The number of examples the labels must match.
        source: Where the labels came from, for error messages.

    Returns:
        The `int64` labels, or `None` when `labels` is `None`.

    Raises:
        ValueError: If the shape does not match or the values are not non-negative integers.
    """
    if labels is None:
        return None
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.shape != (num_examples,):
        raise ValueError(
            f"{source} must have shape ({num_examples},) to match the examples; "
            f"received {labels.shape}."
        )
    if labels.size and (
        not np.issubdtype(labels.dtype, np.number)
        or labels.min() < 0
        or not np.all(np.mod(labels, 1) == 0)
    ):
        raise ValueError(f"{source} must hold non-negative integer class labels.")
    return labels.astype(np.int64)


def num_classes_of(*labels: np.ndarray | None) -> int | None:
    """Returns `1 + max label` over the given label arrays, or `None` if any is `None`."""
    if any(item is None for item in labels):
        return None
    return int(max(int(item.max()) for item in labels if item.size) + 1)


def split_last(
    x: np.ndarray, labels: np.ndarray | None, fraction: float = 0.1
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Splits off the last `fraction` of the examples (at least one) as the test set.

    Args:
        x: The examples, at least two.
        labels: Matching labels, or `None`.
        fraction: The share of examples to put in the test set.

    Returns:
        `(train, test, train_labels, test_labels)`.

    Raises:
        ValueError: If `x` has fewer than two examples.
    """
    if x.shape[0] < 2:
        raise ValueError(
            f"Need at least 2 examples to split off a test set; received {x.shape[0]}."
        )
    split = x.shape[0] - max(1, int(x.shape[0] * fraction))
    if labels is None:
        return x[:split], x[split:], None, None
    return x[:split], x[split:], labels[:split], labels[split:]
