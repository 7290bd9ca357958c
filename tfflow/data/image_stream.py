"""`image_folder_source`: a folder of PNG/JPEG images, listed up front and decoded lazily."""

import pathlib
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from tfflow.data.image_folder import list_image_folder
from tfflow.data.quantize import check_n_bits
from tfflow.data.source import StreamingSource, bits_note

__all__ = ["image_folder_source"]


def _first_shape(path: pathlib.Path) -> tuple[int, int, int]:
    try:
        image = tf.io.decode_image(
            tf.io.read_file(str(path)), dtype=tf.uint8, expand_animations=False
        )
    except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError) as err:
        raise ValueError(f"Cannot decode image {path}: {err.message.splitlines()[0]}") from err
    return tuple(int(d) for d in image.shape)


def _decoder(
    directory: pathlib.Path, shape: tuple[int, int, int], first: str, n_bits: int
) -> Callable[[tf.Tensor, tf.Tensor], tuple[tf.Tensor, tf.Tensor]]:
    expected = tf.constant(shape, tf.int32)

    def decode(path: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        image = tf.io.decode_image(tf.io.read_file(path), dtype=tf.uint8, expand_animations=False)
        # The same message as the in-memory loader, raised when the odd image is reached.
        check = tf.debugging.Assert(
            tf.reduce_all(tf.equal(tf.shape(image), expected)),
            [
                f"All images in {directory} must share one size; {first} is {shape} (H, W, C) but",
                path,
                "is",
                tf.shape(image),
            ],
        )
        with tf.control_dependencies([check]):
            image = tf.reshape(image, shape)
        if n_bits < 8:
            image = image // (2 ** (8 - n_bits))
        return image, label

    return decode


def image_folder_source(
    directory: str | pathlib.Path,
    *,
    n_bits: int = 8,
    num_examples: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> StreamingSource:
    """Streams a folder of images: listed now, each image read and decoded when needed.

    The layouts, labels and train/test split are those of `tfflow.data.local.load_path`
    (`train`/`test` subfolders, or the last 10% of a fixed permutation; class subfolders give
    labels). Only the file names are held in memory. The image shape is that of the first
    image; an image of another size fails the pipeline with a message naming both files.
    Under `tf.distribute` every worker lists and reads the whole folder and keeps its share
    (`AutoShardPolicy.DATA`); convert large folders with `write_tfrecords` to give every
    worker its own files.

    Args:
        directory: The folder.
        n_bits: Bits per pixel, 1 to 8 (pixels reduced to `x // 2**(8 - n_bits)`).
        num_examples: Keep at most this many training examples.
        progress: Called with a line when listing is done (folders can be large).

    Returns:
        The `StreamingSource`.

    Raises:
        ValueError: If the folder holds no images, layouts are mixed, or the first image
            cannot be decoded.
    """
    n_bits = check_n_bits(n_bits)
    directory = pathlib.Path(directory).expanduser()
    splits, class_names = list_image_folder(directory)
    train_paths, _ = splits["train"]
    if num_examples is not None:
        splits["train"] = (train_paths[:num_examples], splits["train"][1])
        if splits["train"][1] is not None:
            splits["train"] = (splits["train"][0], splits["train"][1][:num_examples])
    counts = {split: len(paths) for split, (paths, _) in splits.items()}
    if progress is not None:
        progress(f"indexed {directory}: {counts['train']:,} train / {counts['test']:,} test images")
    shape = _first_shape(splits["train"][0][0])
    decode = _decoder(directory, shape, str(splits["train"][0][0]), n_bits)

    def reader(split: str, shuffle_files: bool, seed: int | None) -> tf.data.Dataset:
        paths, labels = splits[split]
        if labels is None:
            labels = np.zeros(len(paths), np.int64)
        dataset = tf.data.Dataset.from_tensor_slices(([str(p) for p in paths], labels))
        if shuffle_files:
            dataset = dataset.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
        return dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE)

    classes = "unlabelled" if class_names is None else f"{len(class_names)} classes"
    description = f"Image folder {directory} ({classes}), decoded while streaming"
    description += bits_note(n_bits)
    return StreamingSource(
        name=str(directory),
        event_shape=shape,
        num_train=counts["train"],
        num_test=counts["test"],
        num_classes=None if class_names is None else len(class_names),
        description=description + ".",
        n_bits=n_bits,
        shard_policy=tf.data.experimental.AutoShardPolicy.DATA,
        reader=reader,
    )
