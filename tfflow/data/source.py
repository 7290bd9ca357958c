"""`StreamingSource`: a dataset read from disk example by example, never held in memory."""

import dataclasses
from collections.abc import Callable

import tensorflow as tf

from tfflow.data.quantize import check_n_bits

__all__ = ["SPLITS", "StreamingSource", "bits_note"]

SPLITS = ("train", "test")
_AutoShardPolicy = tf.data.experimental.AutoShardPolicy


@dataclasses.dataclass(frozen=True, eq=False)
class StreamingSource:
    """An image dataset streamed from files, the streaming counterpart of `DatasetArrays`.

    Only the description lives in memory; `examples(split)` builds a `tf.data.Dataset` that
    reads, decodes and (for `n_bits < 8`) reduces one example at a time. Turn it into training
    or evaluation batches with `tfflow.data.make_stream`.

    Attributes:
        name: The name or path the data is read from.
        event_shape: The shape of one image, `(H, W, C)`.
        num_train: Number of training examples.
        num_test: Number of test examples.
        num_classes: Number of classes when the examples carry labels, else `None`.
        description: One human-readable line about the data and its preprocessing.
        n_bits: Bits per pixel: the images hold the levels `0 .. 2**n_bits - 1`.
        shard_policy: How `tf.distribute` splits the training data between workers:
            `AutoShardPolicy.FILE` (each worker reads its own files) or `DATA` (each worker
            reads everything and keeps its share).
        reader: `reader(split, shuffle_files, seed)` returns the examples of `split` as
            `(uint8 image, int64 label)` pairs (label 0 without labels); with
            `shuffle_files`, in a file order drawn from `seed`, reshuffled every epoch.
        kind: Always `"image"`.

    Raises:
        ValueError: If a field is out of range.
    """

    name: str
    event_shape: tuple[int, int, int]
    num_train: int
    num_test: int
    num_classes: int | None
    description: str
    n_bits: int
    shard_policy: _AutoShardPolicy
    reader: Callable[[str, bool, int | None], tf.data.Dataset]
    kind: str = "image"

    def __post_init__(self) -> None:
        check_n_bits(self.n_bits)
        if len(self.event_shape) != 3 or min(self.event_shape) < 1:
            raise ValueError(f"`event_shape` must be (H, W, C); received {self.event_shape}.")
        for field in ("num_train", "num_test"):
            if getattr(self, field) < 1:
                raise ValueError(
                    f"`{field}` must be positive; received {getattr(self, field)} for "
                    f"{self.name!r}."
                )
        if self.shard_policy not in (_AutoShardPolicy.FILE, _AutoShardPolicy.DATA):
            raise ValueError(
                f"`shard_policy` must be AutoShardPolicy.FILE or DATA; received "
                f"{self.shard_policy!r}."
            )

    @property
    def has_labels(self) -> bool:
        """Whether the examples carry class labels."""
        return self.num_classes is not None

    @property
    def num_dims(self) -> int:
        """The number of values per example (used to report bits per dimension)."""
        height, width, channels = self.event_shape
        return height * width * channels

    def examples(
        self, split: str, *, shuffle_files: bool = False, seed: int | None = None
    ) -> tf.data.Dataset:
        """The `(uint8 image, int64 label)` examples of `split` ("train" or "test").

        Raises:
            ValueError: If `split` is not "train" or "test".
        """
        if split not in SPLITS:
            raise ValueError(f"`split` must be one of {SPLITS}; received {split!r}.")
        return self.reader(split, shuffle_files, seed)


def bits_note(n_bits: int) -> str:
    """The part of a source's description saying its pixels were reduced to `n_bits` bits.

    Example:
        >>> bits_note(5), bits_note(8)
        (', reduced to 5 bits (values 0..31)', '')
    """
    return f", reduced to {n_bits} bits (values 0..{2**n_bits - 1})" if n_bits < 8 else ""
