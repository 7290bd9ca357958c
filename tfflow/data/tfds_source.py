"""Loading TensorFlow Datasets (TFDS) image datasets from local, pre-downloaded files."""

from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from tfflow.data.arrays import DatasetArrays
from tfflow.data.errors import DatasetUnavailableError
from tfflow.data.progress import CountProgress

__all__ = ["CELEBA_ATTRIBUTES", "TFDS_DATASETS", "load_tfds", "unavailable_message"]

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
# The 40 binary attributes of CelebA (TFDS `celeb_a` feature `attributes`); any of them can
# be the class label (`label_attribute`): 0 = absent, 1 = present.
CELEBA_ATTRIBUTES: tuple[str, ...] = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs",
    "Big_Lips", "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair",
    "Bushy_Eyebrows", "Chubby", "Double_Chin", "Eyeglasses", "Goatee", "Gray_Hair",
    "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open", "Mustache", "Narrow_Eyes",
    "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline", "Rosy_Cheeks",
    "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat",
    "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young",
)  # fmt: skip
_BATCH = 512


def _celeba_image(image: tf.Tensor) -> tf.Tensor:
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    image = tf.image.crop_to_bounding_box(
        image, (height - CELEBA_CROP) // 2, (width - CELEBA_CROP) // 2, CELEBA_CROP, CELEBA_CROP
    )
    image = tf.image.resize(image, (CELEBA_SIZE, CELEBA_SIZE), method="bilinear", antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)


def _label_fn(
    name: str, has_labels: bool, label_attribute: str | None
) -> Callable[[dict], tf.Tensor] | None:
    """`example -> int64 label` for the dataset, or `None` when it yields no labels."""
    if label_attribute is not None:
        return lambda example: tf.cast(example["attributes"][label_attribute], tf.int64)
    if has_labels:
        return lambda example: tf.cast(example["label"], tf.int64)
    return None


def _materialize(
    dataset: tf.data.Dataset,
    label_fn: Callable[[dict], tf.Tensor] | None,
    celeba: bool,
    counter: CountProgress,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Turns a TFDS split into `(images, labels)` NumPy arrays (labels `None` without
    `label_fn`)."""

    def select(example: dict) -> tuple:
        image = _celeba_image(example["image"]) if celeba else example["image"]
        label = tf.zeros((), tf.int64) if label_fn is None else label_fn(example)
        return image, label

    import tensorflow_datasets as tfds  # Imported on use: it adds seconds to `import tfflow`.

    batches = dataset.map(select, num_parallel_calls=tf.data.AUTOTUNE).batch(_BATCH)
    images, labels, count = [], [], 0
    for image_batch, label_batch in tfds.as_numpy(batches.prefetch(tf.data.AUTOTUNE)):
        images.append(image_batch)
        labels.append(label_batch)
        count += image_batch.shape[0]
        counter.update(count)
    if not images:
        raise ValueError("The TFDS split is empty.")
    image_array = np.concatenate(images).astype(np.uint8, copy=False)
    return image_array, (None if label_fn is None else np.concatenate(labels).astype(np.int64))


def _split_size(info: Any, split: str) -> int | None:
    try:
        return int(info.splits[split].num_examples)
    except (KeyError, ValueError, TypeError):
        return None


def _check_label_attribute(name: str, label_attribute: str | None) -> None:
    if label_attribute is None:
        return
    if name != "celeb_a":
        raise ValueError(
            f"`label_attribute` applies to celeb_a only; received {label_attribute!r} for {name!r}."
        )
    if label_attribute not in CELEBA_ATTRIBUTES:
        raise ValueError(
            f"`label_attribute` must be one of the CelebA attributes "
            f"{', '.join(CELEBA_ATTRIBUTES)}; received {label_attribute!r}."
        )


def unavailable_message(name: str, data_dir: str | None) -> str:
    """The one-line message of `DatasetUnavailableError` for TFDS dataset `name`."""
    where = data_dir or "the default TFDS data dir (~/tensorflow_datasets or $TFDS_DATA_DIR)"
    return (
        f"TFDS dataset {name!r} is not prepared in {where}, and tfflow never downloads. "
        'On a machine with internet run `python -c "import tensorflow_datasets as tfds; '
        f"tfds.load('{name}')\"` and copy ~/tensorflow_datasets here (or pass its location "
        "as data_dir), or point at local files with --dataset path/to/dir_or_file."
    )


def load_tfds(
    name: str,
    *,
    data_dir: str | None = None,
    num_examples: int | None = None,
    label_attribute: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> DatasetArrays:
    """Loads a TFDS image dataset that is already prepared on disk (never downloads).

    The whole split is materialised as a `uint8` array, so memory grows with the dataset:
    about 47 MB for MNIST, 150 MB for CIFAR-10, 2.5 GB for CelebA at 64x64, 3.9 GB for
    ImageNet 32x32 and 15.7 GB for ImageNet 64x64 (peak about twice that while
    concatenating). CelebA images are center-cropped to 148x148 and resized to 64x64 as in
    Real NVP. CelebA has no class label; with `label_attribute` one of its 40 binary
    attributes becomes the label (0 = absent, 1 = present; e.g. `"Smiling"`, about 48% of
    the faces, or `"Male"`, about 42%), for class-conditional models. ImageNet's test split
    is "validation".

    Args:
        name: One of `TFDS_DATASETS`.
        data_dir: The TFDS data folder; `None` uses TFDS's default (`~/tensorflow_datasets`
            or `$TFDS_DATA_DIR`).
        num_examples: If given, load at most this many training examples.
        label_attribute: For `celeb_a` only: the attribute of `CELEBA_ATTRIBUTES` used as a
            0/1 class label; `None` loads CelebA without labels.
        progress: Called with a line such as `celeb_a train: 51,200 / 162,770 images
            (20.3 s)` every few seconds while a split is read; `None` prints nothing.

    Returns:
        The `DatasetArrays` of kind "image" at 8 bits.

    Raises:
        ValueError: If `name` is not one of `TFDS_DATASETS`, or `label_attribute` is given for
            another dataset than `celeb_a` or is not a CelebA attribute.
        DatasetUnavailableError: If the dataset is not prepared in `data_dir`.
    """
    if name not in TFDS_DATASETS:
        raise ValueError(f"`name` must be one of {tuple(TFDS_DATASETS)}; received {name!r}.")
    _check_label_attribute(name, label_attribute)
    import tensorflow_datasets as tfds  # Imported on use: it adds seconds to `import tfflow`.

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
        raise DatasetUnavailableError(unavailable_message(name, data_dir)) from err
    has_labels = "label" in info.features
    label_fn = _label_fn(name, has_labels, label_attribute)
    celeba = name == "celeb_a"
    splits = {}
    for split, dataset in ((train_split, train_ds), (test_split, test_ds)):
        counter = CountProgress(f"{name} {split}", _split_size(info, split), progress)
        splits[split] = _materialize(dataset, label_fn, celeba, counter)
    (train, train_labels), (test, test_labels) = splits[train_split], splits[test_split]
    if num_examples is not None:
        train = train[:num_examples]
        train_labels = None if train_labels is None else train_labels[:num_examples]
    description = f"TFDS {name} ({train_split}/{test_split})"
    if celeba:
        description += ", center crop 148x148 resized to 64x64"
    num_classes = int(info.features["label"].num_classes) if has_labels else None
    if label_attribute is not None:
        description += f", labels: {label_attribute} (0 = no, 1 = yes)"
        num_classes = 2
    return DatasetArrays(
        train=train,
        test=test,
        train_labels=train_labels,
        test_labels=test_labels,
        kind="image",
        num_classes=num_classes,
        name=name,
        description=description + ".",
    )
