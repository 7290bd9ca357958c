"""Loading TensorFlow Datasets (TFDS) image datasets from local, pre-downloaded files."""

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from tfflow.data.arrays import DatasetArrays
from tfflow.data.errors import DatasetUnavailableError

__all__ = ["TFDS_DATASETS", "load_tfds"]

# TFDS name -> (train split, test split).
TFDS_DATASETS = {
    "mnist": ("train", "test"),
    "fashion_mnist": ("train", "test"),
    "cifar10": ("train", "test"),
    "celeb_a": ("train", "test"),
    "imagenet_resized/32x32": ("train", "validation"),
    "imagenet_resized/64x64": ("train", "validation"),
}
# CelebA preprocessing of Real NVP (arXiv:1605.08803, section 4.1): central 148x148 crop,
# then resize to 64x64.
CELEBA_CROP = 148
CELEBA_SIZE = 64
_BATCH = 512


def _celeba_image(image: tf.Tensor) -> tf.Tensor:
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    image = tf.image.crop_to_bounding_box(
        image, (height - CELEBA_CROP) // 2, (width - CELEBA_CROP) // 2, CELEBA_CROP, CELEBA_CROP
    )
    image = tf.image.resize(image, (CELEBA_SIZE, CELEBA_SIZE), method="bilinear", antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)


def _materialize(dataset: tf.data.Dataset, has_labels: bool, celeba: bool) -> tuple:
    """Turns a TFDS split into `(images, labels)` NumPy arrays (labels `None` if absent)."""

    def select(example: dict) -> tuple:
        image = _celeba_image(example["image"]) if celeba else example["image"]
        label = example["label"] if has_labels else tf.zeros((), tf.int64)
        return image, label

    batches = dataset.map(select, num_parallel_calls=tf.data.AUTOTUNE).batch(_BATCH)
    images, labels = [], []
    for image_batch, label_batch in tfds.as_numpy(batches.prefetch(tf.data.AUTOTUNE)):
        images.append(image_batch)
        labels.append(label_batch)
    if not images:
        raise ValueError("The TFDS split is empty.")
    image_array = np.concatenate(images).astype(np.uint8, copy=False)
    return image_array, (np.concatenate(labels).astype(np.int64) if has_labels else None)


def load_tfds(
    name: str, *, data_dir: str | None = None, num_examples: int | None = None
) -> DatasetArrays:
    """Loads a TFDS image dataset that is already prepared on disk (never downloads).

    The whole split is materialised as a `uint8` array, so memory grows with the dataset:
    about 47 MB for MNIST, 150 MB for CIFAR-10, 2.5 GB for CelebA at 64x64, 3.9 GB for
    ImageNet 32x32 and 15.7 GB for ImageNet 64x64 (peak about twice that while
    concatenating). CelebA images are center-cropped to 148x148 and resized to 64x64 as in
    Real NVP; its attributes are not used as labels. ImageNet's test split is "validation".

    Args:
        name: One of `TFDS_DATASETS`.
        data_dir: The TFDS data folder; `None` uses TFDS's default (`~/tensorflow_datasets`
            or `$TFDS_DATA_DIR`).
        num_examples: If given, load at most this many training examples.

    Returns:
        The `DatasetArrays` of kind "image" at 8 bits.

    Raises:
        ValueError: If `name` is not one of `TFDS_DATASETS`.
        DatasetUnavailableError: If the dataset is not prepared in `data_dir`.
    """
    if name not in TFDS_DATASETS:
        raise ValueError(f"`name` must be one of {tuple(TFDS_DATASETS)}; received {name!r}.")
    train_split, test_split = TFDS_DATASETS[name]
    if num_examples is not None:
        train_split = f"{train_split}[:{num_examples}]"
    try:
        (train_ds, test_ds), info = tfds.load(
            name,
            split=[train_split, test_split],
            data_dir=data_dir,
            download=False,
            with_info=True,
        )
    except AssertionError as err:  # TFDS's way of saying "not prepared here".
        where = data_dir or "the default TFDS data dir (~/tensorflow_datasets or $TFDS_DATA_DIR)"
        raise DatasetUnavailableError(
            f"TFDS dataset {name!r} is not prepared in {where}, and tfflow never downloads. "
            'On a machine with internet run `python -c "import tensorflow_datasets as tfds; '
            f"tfds.load('{name}')\"` and copy ~/tensorflow_datasets here (or pass its location "
            "as data_dir), or point at local files with --dataset path/to/dir_or_file."
        ) from err
    has_labels = "label" in info.features
    celeba = name == "celeb_a"
    train, train_labels = _materialize(train_ds, has_labels, celeba)
    test, test_labels = _materialize(test_ds, has_labels, celeba)
    if num_examples is not None:
        train = train[:num_examples]
        train_labels = None if train_labels is None else train_labels[:num_examples]
    return DatasetArrays(
        train=train,
        test=test,
        train_labels=train_labels,
        test_labels=test_labels,
        kind="image",
        num_classes=int(info.features["label"].num_classes) if has_labels else None,
        name=name,
        description=(
            f"TFDS {name} ({train_split}/{test_split})"
            + (", center crop 148x148 resized to 64x64" if celeba else "")
            + "."
        ),
    )
