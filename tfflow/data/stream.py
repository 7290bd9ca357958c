"""`open_source` and `make_stream`: streaming input pipelines for datasets of any size."""

import pathlib
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from tfflow.data.batching import batch_images, derive_seeds
from tfflow.data.image_folder import has_images
from tfflow.data.image_stream import image_folder_source
from tfflow.data.source import SPLITS, StreamingSource
from tfflow.data.tfds_source import TFDS_DATASETS
from tfflow.data.tfds_stream import tfds_stream_source
from tfflow.data.tfrecords import is_tfrecord_path, tfrecord_source

__all__ = ["STREAM_SHUFFLE_BUFFER", "is_streamable", "make_stream", "open_source"]

# Examples in the training shuffle buffer of a stream: a fixed amount of memory (12 MB of
# 32x32x3 images, 120 MB at 64x64) whatever the size of the dataset; files are shuffled too.
STREAM_SHUFFLE_BUFFER = 10_000


def _is_image_folder(name: str) -> bool:
    path = pathlib.Path(name).expanduser()
    return path.is_dir() and not (path / "train-images-idx3-ubyte").exists() and has_images(path)


def is_streamable(name: str) -> bool:
    """Whether `open_source` streams `name`: a TFDS name, TFRecord files or an image folder.

    Other datasets (toy densities, digits, IDX folders, `.npz`/`.npy` files) are small and are
    read into memory with `tfflow.data.load_arrays`.
    """
    return name in TFDS_DATASETS or is_tfrecord_path(name) or _is_image_folder(name)


def open_source(
    name: str,
    *,
    data_dir: str | None = None,
    n_bits: int = 8,
    num_examples: int | None = None,
    label_attribute: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> StreamingSource:
    """Opens a dataset for streaming, reading no more than its metadata (or an index).

    - a TFDS name ("mnist", "cifar10", "celeb_a", "imagenet_resized/64x64", ...):
      `tfds_stream_source`;
    - TFRecord files (a folder written by `write_tfrecords`, a pattern such as
      `"data/*.tfrecord"`, or openai/glow's `train/`+`validation/` folders):
      `tfrecord_source`;
    - a folder of images: `image_folder_source`.

    Args:
        name: The dataset (see `is_streamable`).
        data_dir: TFDS data folder for the TFDS names; ignored otherwise.
        n_bits: Bits per pixel, 1 to 8.
        num_examples: Keep at most this many training examples.
        label_attribute: For "celeb_a": the attribute used as its 0/1 label.
        progress: Called with progress lines while a source is indexed; `None`: silent.

    Returns:
        The `StreamingSource`.

    Raises:
        ValueError: If `name` cannot be streamed or its files are malformed;
            `label_attribute` for another dataset than "celeb_a".
        FileNotFoundError: If no files match.
        DatasetUnavailableError: If a TFDS dataset is not prepared in `data_dir`.
    """
    if label_attribute is not None and name != "celeb_a":
        raise ValueError(
            f"`label_attribute` applies to celeb_a only; received {label_attribute!r} for {name!r}."
        )
    if name in TFDS_DATASETS:
        return tfds_stream_source(
            name,
            data_dir=data_dir,
            n_bits=n_bits,
            num_examples=num_examples,
            label_attribute=label_attribute,
            progress=progress,
        )
    if is_tfrecord_path(name):
        return tfrecord_source(name, n_bits=n_bits, num_examples=num_examples, progress=progress)
    if _is_image_folder(name):
        return image_folder_source(
            name, n_bits=n_bits, num_examples=num_examples, progress=progress
        )
    raise ValueError(
        f"`name` must be a TFDS name ({', '.join(TFDS_DATASETS)}), TFRecord files or an image "
        f"folder to be streamed; received {name!r}."
    )


def _check_positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer; received {value!r}.")


def make_stream(
    source: StreamingSource,
    split: str,
    *,
    batch_size: int,
    training: bool,
    seed: int | None = None,
    labels: bool = False,
    dequantize: bool = True,
    flip: bool = False,
    shuffle_buffer: int = STREAM_SHUFFLE_BUFFER,
    drop_remainder: bool | None = None,
) -> tf.data.Dataset:
    """A batched, prefetched pipeline over one split of a `StreamingSource`.

    Training: the files are shuffled (a new order every epoch), examples go through a
    shuffle buffer of `shuffle_buffer`, and each batch gets uniform dequantization noise and
    (with `flip`) random left-right flips from one stateless key per batch; evaluation reads
    the split once, in order, every example exactly once (the last batch may be smaller),
    with noise keyed on `(seed, example index)`. Both are deterministic given `seed`. The
    output is `float32` pixels in `[0, 2**n_bits)`, already dequantized (the model then adds
    no noise of its own); with `dequantize=False`, the integer levels as floats.

    Under `tf.distribute` the dataset is batched with the global batch size and split across
    replicas by Keras; each worker reads its own shard of the training data
    (`source.shard_policy`: its own files for TFRecords, its share of the examples
    otherwise). The test split is always sharded by example (`AutoShardPolicy.DATA`), so it
    needs no more files than workers and every test example is read once.

    Args:
        source: The data.
        split: "train" or "test".
        batch_size: Examples per (global) batch.
        training: Shuffle, flip and draw fresh noise (`True`), or read in order (`False`).
        seed: Seed of the file order, shuffling and noise.
        labels: Whether elements are `(x, labels)` pairs (labels `int64`).
        dequantize: Whether to add uniform noise to the pixels.
        flip: Random left-right flips in training.
        shuffle_buffer: Examples held in the training shuffle buffer.
        drop_remainder: Whether to drop a last incomplete batch; `None` means `training`.

    Returns:
        The `tf.data.Dataset`.

    Raises:
        ValueError: If `split` is unknown, `batch_size` or `shuffle_buffer` is not positive,
            or `labels` is asked for a source without labels.
    """
    if split not in SPLITS:
        raise ValueError(f"`split` must be one of {SPLITS}; received {split!r}.")
    _check_positive("batch_size", batch_size)
    _check_positive("shuffle_buffer", shuffle_buffer)
    if labels and not source.has_labels:
        raise ValueError(f"`labels=True` needs labelled data; {source.name!r} has no labels.")
    if drop_remainder is None:
        drop_remainder = bool(training)
    file_seed, example_seed = derive_seeds(seed)
    dataset = source.examples(split, shuffle_files=training, seed=file_seed)
    if not labels:
        dataset = dataset.map(lambda image, label: image)
    dataset = batch_images(
        dataset,
        has_labels=labels,
        batch_size=batch_size,
        training=training,
        n_bits=source.n_bits,
        dequantize=dequantize,
        flip=flip and training,
        seed=example_seed if training else seed,
        shuffle_buffer=min(shuffle_buffer, source.num_train),
        drop_remainder=drop_remainder,
    )
    if not training:
        # The split's size is known exactly; telling tf.data lets Keras show progress and
        # know the end of a validation pass without running into it.
        count = source.num_train if split == "train" else source.num_test
        num_batches = count // batch_size if drop_remainder else -(-count // batch_size)
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(num_batches))
    options = tf.data.Options()
    options.deterministic = True
    options.experimental_distribute.auto_shard_policy = (
        source.shard_policy if training else tf.data.experimental.AutoShardPolicy.DATA
    )
    return dataset.with_options(options)
