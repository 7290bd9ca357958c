"""The in-memory dataset container returned by `tfflow.data.load_arrays`."""

import dataclasses

import numpy as np

from tfflow.data.quantize import check_n_bits

__all__ = ["DatasetArrays"]

_KINDS = ("image", "tabular")


def _check_labels(labels: np.ndarray | None, data: np.ndarray, field: str, split: str) -> None:
    if labels is None:
        return
    if labels.ndim != 1 or labels.shape[0] != data.shape[0]:
        raise ValueError(
            f"`{field}` must have shape ({data.shape[0]},) to match `{split}`; "
            f"received {labels.shape}."
        )


@dataclasses.dataclass(frozen=True, eq=False)
class DatasetArrays:
    """A train/test split held as NumPy arrays.

    Images are `uint8` arrays of shape `(N, H, W, C)` holding the integer levels
    `0 .. 2**n_bits - 1` (0..255 for the default `n_bits=8`). Tabular data are `float32`
    arrays of shape `(N, D)`.

    Attributes:
        train: Training examples.
        test: Test (evaluation) examples with the same per-example shape as `train`.
        train_labels: `int64` class labels of shape `(N_train,)`, or `None`.
        test_labels: `int64` class labels of shape `(N_test,)`, or `None`.
        kind: `"image"` or `"tabular"`.
        num_classes: Number of classes when labels are present, else `None`.
        name: The name or path the data was loaded from.
        description: One human-readable line about the data and its preprocessing.
        n_bits: Bits per value of discrete data: pixel values (and the values of
            `"digits_flat"`) lie in `0 .. 2**n_bits - 1`. Continuous toy densities carry 8,
            which has no meaning for them.

    Raises:
        ValueError: If `kind` is unknown, the arrays have the wrong dtype or rank for `kind`,
            `train` and `test` disagree on the per-example shape, or labels do not match.
    """

    train: np.ndarray
    test: np.ndarray
    train_labels: np.ndarray | None
    test_labels: np.ndarray | None
    kind: str
    num_classes: int | None
    name: str
    description: str
    n_bits: int = 8

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"`kind` must be one of {_KINDS}; received {self.kind!r}.")
        check_n_bits(self.n_bits)
        dtype, rank = (np.uint8, 4) if self.kind == "image" else (np.float32, 2)
        for field in ("train", "test"):
            array = getattr(self, field)
            if not isinstance(array, np.ndarray) or array.dtype != dtype or array.ndim != rank:
                received = (
                    f"{array.dtype} array of shape {array.shape}"
                    if isinstance(array, np.ndarray)
                    else type(array).__name__
                )
                raise ValueError(
                    f"`{field}` must be a {np.dtype(dtype)} array of rank {rank} for "
                    f"kind={self.kind!r}; received {received}."
                )
        if self.train.shape[1:] != self.test.shape[1:]:
            raise ValueError(
                "`train` and `test` must share the per-example shape; received "
                f"{self.train.shape[1:]} and {self.test.shape[1:]}."
            )
        _check_labels(self.train_labels, self.train, "train_labels", "train")
        _check_labels(self.test_labels, self.test, "test_labels", "test")

    @property
    def event_shape(self) -> tuple[int, ...]:
        """The shape of one example, e.g. `(28, 28, 1)` or `(2,)`."""
        return tuple(int(d) for d in self.train.shape[1:])

    @property
    def num_train(self) -> int:
        """The number of training examples."""
        return int(self.train.shape[0])

    @property
    def num_test(self) -> int:
        """The number of test examples."""
        return int(self.test.shape[0])

    @property
    def has_labels(self) -> bool:
        """Whether both splits carry class labels."""
        return (
            self.train_labels is not None
            and self.test_labels is not None
            and bool(self.num_classes)
        )

    @property
    def num_dims(self) -> int:
        """The number of values per example (used to report bits per dimension)."""
        return int(np.prod(self.event_shape))
