"""`tfds_stream_source`: a TensorFlow Datasets split streamed from its prepared files."""

from collections.abc import Callable
from typing import Any

import tensorflow as tf

from tfflow.data.errors import DatasetUnavailableError
from tfflow.data.progress import CountProgress
from tfflow.data.quantize import check_n_bits
from tfflow.data.source import StreamingSource, bits_note
from tfflow.data.tfds_source import (
    CELEBA_SIZE,
    TFDS_DATASETS,
    _celeba_image,
    _check_label_attribute,
    _label_fn,
    unavailable_message,
)

__all__ = ["tfds_stream_source"]

_INDEX_BATCH = 4096


def _count(
    dataset: tf.data.Dataset, info: Any, split: str, what: str, progress: CountProgress
) -> int:
    """The size of a TFDS split: from its metadata, else by reading it once."""
    try:
        return int(info.splits[split].num_examples)
    except (KeyError, ValueError, TypeError):
        pass
    counter = CountProgress(f"indexing {what}", None, progress)
    count = 0
    for batch in dataset.map(lambda example: 0).batch(_INDEX_BATCH):
        count += int(batch.shape[0])
        counter.update(count)
    return count


def tfds_stream_source(
    name: str,
    *,
    data_dir: str | None = None,
    n_bits: int = 8,
    num_examples: int | None = None,
    label_attribute: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> StreamingSource:
    """Streams a TFDS image dataset prepared on disk (never downloads), mapped in-graph.

    The examples are read with `tfds.load(..., download=False)`; CelebA is center-cropped to
    148x148 and resized to 64x64 (Real NVP), `label_attribute` becomes its 0/1 label, and
    pixels are reduced to `n_bits` inside the `tf.data` graph. Sizes come from the dataset's
    metadata, so nothing is read up front (a split without them is counted once, with a
    progress line every few seconds). Under `tf.distribute`, every worker reads the
    split and keeps its share (`AutoShardPolicy.DATA`).

    Args:
        name: One of `TFDS_DATASETS`.
        data_dir: The TFDS data folder; `None` uses TFDS's default.
        n_bits: Bits per pixel, 1 to 8.
        num_examples: Keep at most this many training examples (`train[:N]`).
        label_attribute: For `celeb_a`: the attribute used as a 0/1 label.
        progress: Called with progress lines while a split is counted; `None` prints nothing.

    Returns:
        The `StreamingSource`.

    Raises:
        ValueError: If `name` is unknown or `label_attribute` does not apply.
        DatasetUnavailableError: If the dataset is not prepared in `data_dir`.
    """
    if name not in TFDS_DATASETS:
        raise ValueError(f"`name` must be one of {tuple(TFDS_DATASETS)}; received {name!r}.")
    n_bits = check_n_bits(n_bits)
    _check_label_attribute(name, label_attribute)
    import tensorflow_datasets as tfds  # Imported on use: it adds seconds to `import tfflow`.

    splits = dict(zip(("train", "test"), TFDS_DATASETS[name], strict=True))
    if num_examples is not None:
        splits["train"] = f"{splits['train']}[:{num_examples}]"
    try:
        datasets, info = tfds.load(
            name, split=list(splits.values()), data_dir=data_dir, download=False, with_info=True
        )
    except AssertionError as err:  # TFDS's way of saying "not prepared here".
        raise DatasetUnavailableError(unavailable_message(name, data_dir)) from err
    counts = {
        split: _count(dataset, info, splits[split], f"{name} {splits[split]}", progress)
        for split, dataset in zip(splits, datasets, strict=True)
    }
    if num_examples is not None:
        counts["train"] = min(counts["train"], num_examples)
    has_labels = "label" in info.features
    label_fn = _label_fn(name, has_labels, label_attribute)
    celeba = name == "celeb_a"
    if celeba:
        shape = (CELEBA_SIZE, CELEBA_SIZE, 3)
    else:
        shape = tuple(int(d) for d in info.features["image"].shape)

    def select(example: dict) -> tuple[tf.Tensor, tf.Tensor]:
        image = _celeba_image(example["image"]) if celeba else example["image"]
        if n_bits < 8:
            image = image // (2 ** (8 - n_bits))
        label = tf.zeros((), tf.int64) if label_fn is None else label_fn(example)
        return tf.ensure_shape(image, shape), label

    def reader(split: str, shuffle_files: bool, seed: int | None) -> tf.data.Dataset:
        dataset = tfds.load(
            name,
            split=splits[split],
            data_dir=data_dir,
            download=False,
            shuffle_files=shuffle_files,
            read_config=tfds.ReadConfig(shuffle_seed=seed, shuffle_reshuffle_each_iteration=True),
        )
        if split == "train" and num_examples is not None:
            dataset = dataset.take(num_examples)
        return dataset.map(select, num_parallel_calls=tf.data.AUTOTUNE)

    num_classes = int(info.features["label"].num_classes) if has_labels else None
    description = f"TFDS {name} ({splits['train']}/{splits['test']}), streamed"
    if celeba:
        description += ", center crop 148x148 resized to 64x64"
    if label_attribute is not None:
        description += f", labels: {label_attribute} (0 = no, 1 = yes)"
        num_classes = 2
    description += bits_note(n_bits)
    return StreamingSource(
        name=name,
        event_shape=shape,
        num_train=counts["train"],
        num_test=counts["test"],
        num_classes=num_classes,
        description=description + ".",
        n_bits=n_bits,
        shard_policy=tf.data.experimental.AutoShardPolicy.DATA,
        reader=reader,
    )
