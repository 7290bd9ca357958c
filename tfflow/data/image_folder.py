"""Loading a folder of PNG/JPEG images, with optional class subfolders and splits."""

import pathlib
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from tfflow.data.coerce import split_last
from tfflow.data.progress import CountProgress

__all__ = ["IMAGE_SUFFIXES", "has_images", "list_image_folder", "load_image_folder"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def _image_files(directory: pathlib.Path) -> list[pathlib.Path]:
    return sorted(
        path
        for path in directory.iterdir()
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES
    )


def _class_dirs(directory: pathlib.Path) -> list[pathlib.Path]:
    return sorted(path for path in directory.iterdir() if path.is_dir() and _image_files(path))


def has_images(directory: pathlib.Path) -> bool:
    """Whether `directory` or one of its direct (or `train`/`test`) subfolders holds images."""
    if _image_files(directory) or _class_dirs(directory):
        return True
    return any(
        (directory / split).is_dir() and has_images(directory / split)
        for split in ("train", "test")
    )


def _decode(path: pathlib.Path) -> np.ndarray:
    try:
        image = tf.io.decode_image(
            tf.io.read_file(str(path)), dtype=tf.uint8, expand_animations=False
        )
    except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError) as err:
        raise ValueError(f"Cannot decode image {path}: {err.message.splitlines()[0]}") from err
    return image.numpy()


def _collect(
    directory: pathlib.Path, class_names: list[str] | None
) -> tuple[list[pathlib.Path], list[int] | None, list[str] | None]:
    """Lists the image files of one split and their class indices."""
    files, subdirs = _image_files(directory), _class_dirs(directory)
    if files and subdirs:
        raise ValueError(
            f"{directory} mixes images ({files[0].name}, ...) with class subfolders "
            f"({subdirs[0].name}, ...); use one layout."
        )
    if not files and not subdirs:
        raise ValueError(f"{directory} holds no images with suffix in {IMAGE_SUFFIXES}.")
    if files:
        if class_names is not None:
            raise ValueError(f"{directory} has no class subfolders but its sibling split has.")
        return files, None, None
    names = [path.name for path in subdirs]
    if class_names is None:
        class_names = names
    unknown = sorted(set(names) - set(class_names))
    if unknown:
        raise ValueError(f"{directory} has classes {unknown} that the training split lacks.")
    paths, labels = [], []
    for subdir in subdirs:
        images = _image_files(subdir)
        paths.extend(images)
        labels.extend([class_names.index(subdir.name)] * len(images))
    return paths, labels, class_names


def _stack(
    paths: list[pathlib.Path],
    directory: pathlib.Path,
    progress: Callable[[str], None] | None = None,
) -> np.ndarray:
    counter = CountProgress(f"decoding {directory}", len(paths), progress)
    images = [_decode(paths[0])]
    for path in paths[1:]:
        counter.update(len(images))
        image = _decode(path)
        if image.shape != images[0].shape:
            raise ValueError(
                f"All images in {directory} must share one size; {paths[0]} is "
                f"{images[0].shape} (H, W, C) but {path} is {image.shape}."
            )
        images.append(image)
    return np.stack(images)


def load_image_folder(
    directory: str | pathlib.Path, *, progress: Callable[[str], None] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None, list[str] | None]:
    """Loads a folder of images decoded with `tf.io.decode_image` (no PIL needed).

    Three layouts are understood:

    - `directory/train/...` and `directory/test/...`: the given split;
    - `directory/<class>/*.png`: class subfolders, sorted by name, become labels 0..K-1;
    - `directory/*.png`: unlabelled images.

    Without `train`/`test` folders the files are permuted with
    `numpy.random.RandomState(0)` and the last 10% form the test set. All images must share one
    height, width and channel count.

    Args:
        directory: The folder.
        progress: Called with a line such as `decoding DIR: 5,120 / 20,000 images (5.0 s)`
            every few seconds while images are decoded; `None` prints nothing.

    Returns:
        `(train, test, train_labels, test_labels, class_names)`, images as `uint8`
        `(N, H, W, C)`, labels `int64` or `None`, `class_names` `None` when unlabelled.

    Raises:
        ValueError: If there are no images, layouts are mixed, an image cannot be decoded, or
            image sizes differ.
    """
    directory = pathlib.Path(directory)
    splits, class_names = list_image_folder(directory)
    (train_paths, train_labels), (test_paths, test_labels) = splits["train"], splits["test"]
    images = _stack(list(train_paths) + list(test_paths), directory, progress)
    train, test = images[: len(train_paths)], images[len(train_paths) :]
    return train, test, train_labels, test_labels, class_names


def list_image_folder(
    directory: str | pathlib.Path,
) -> tuple[dict[str, tuple[list[pathlib.Path], np.ndarray | None]], list[str] | None]:
    """Lists the images of a folder and splits them, without decoding any.

    The layouts and the split are those of `load_image_folder`: `train`/`test` subfolders, or
    the files permuted with `numpy.random.RandomState(0)` and the last 10% held out.

    Args:
        directory: The folder.

    Returns:
        `({"train": (paths, labels), "test": (paths, labels)}, class_names)`; labels are
        `int64` arrays, or `None` (and `class_names` `None`) without class subfolders.

    Raises:
        ValueError: If there are no images, layouts are mixed, or the splits disagree on the
            classes.
    """
    directory = pathlib.Path(directory)
    if (directory / "train").is_dir() and (directory / "test").is_dir():
        train_paths, train_labels, class_names = _collect(directory / "train", None)
        test_paths, test_labels, _ = _collect(directory / "test", class_names)
        if class_names is None and test_labels is not None:
            raise ValueError(
                f"{directory / 'test'} has class subfolders but the train split has none."
            )
        if class_names is None:
            return {"train": (train_paths, None), "test": (test_paths, None)}, None
        return {
            "train": (train_paths, np.asarray(train_labels, np.int64)),
            "test": (test_paths, np.asarray(test_labels, np.int64)),
        }, class_names
    paths, labels, class_names = _collect(directory, None)
    order = np.random.RandomState(0).permutation(len(paths))
    ordered = np.asarray([str(paths[i]) for i in order])
    label_array = None if labels is None else np.asarray(labels, np.int64)[order]
    train, test, train_labels, test_labels = split_last(ordered, label_array)
    return {
        "train": ([pathlib.Path(name) for name in train], train_labels),
        "test": ([pathlib.Path(name) for name in test], test_labels),
    }, class_names
