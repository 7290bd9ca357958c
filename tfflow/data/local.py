"""Loading datasets from local files: IDX folders, `.npz`/`.npy` files and image folders."""

import pathlib
from collections.abc import Callable

import numpy as np

from tfflow.data.arrays import DatasetArrays
from tfflow.data.coerce import as_data_array, as_labels, num_classes_of, split_last
from tfflow.data.idx import IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, find_idx_file, read_idx
from tfflow.data.image_folder import IMAGE_SUFFIXES, has_images, load_image_folder

__all__ = ["load_path"]

_IDX_STEMS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# Keys understood in a `.npz` file: data (train, test), then labels (train, test).
_NPZ_DATA_KEYS = (("x_train", "x_test"), ("train", "test"))
_NPZ_LABEL_KEYS = (("y_train", "y_test"), ("train_labels", "test_labels"))


def _pick_keys(keys: set[str], candidates: tuple[tuple[str, str], ...]) -> tuple[str, str] | None:
    """Returns the first candidate pair with at least one key present (or `None`)."""
    for pair in candidates:
        if keys & set(pair):
            return pair
    return None


def _load_idx_dir(directory: pathlib.Path) -> DatasetArrays:
    arrays, labels = {}, {}
    for split, (image_stem, label_stem) in _IDX_STEMS.items():
        image_files = find_idx_file(directory, image_stem)
        if image_files is None:
            raise FileNotFoundError(
                f"{directory} has no {image_stem} (nor .gz, nor .gz.partNN parts); an MNIST-format "
                "folder needs train-images-idx3-ubyte and t10k-images-idx3-ubyte."
            )
        arrays[split], _ = as_data_array(
            read_idx(image_files, expected_magic=IDX_IMAGES_MAGIC), str(image_files[0])
        )
        label_files = find_idx_file(directory, label_stem)
        labels[split] = None
        if label_files is not None:
            labels[split] = as_labels(
                read_idx(label_files, expected_magic=IDX_LABELS_MAGIC),
                arrays[split].shape[0],
                str(label_files[0]),
            )
    if (labels["train"] is None) != (labels["test"] is None):
        raise FileNotFoundError(
            f"{directory} has labels for only one split; provide both train-labels-idx1-ubyte "
            "and t10k-labels-idx1-ubyte, or neither."
        )
    return DatasetArrays(
        train=arrays["train"],
        test=arrays["test"],
        train_labels=labels["train"],
        test_labels=labels["test"],
        kind="image",
        num_classes=num_classes_of(labels["train"], labels["test"]),
        name=str(directory),
        description=f"IDX (MNIST-format) files in {directory}.",
    )


def _load_npz(path: pathlib.Path) -> DatasetArrays:
    with np.load(path, allow_pickle=False) as archive:
        keys = set(archive.files)
        data_keys = _pick_keys(keys, _NPZ_DATA_KEYS)
        label_keys = _pick_keys(keys, _NPZ_LABEL_KEYS)
        for pair in (data_keys, label_keys):
            if pair is not None and not set(pair) <= keys:
                raise ValueError(
                    f"{path} must hold both `{pair[0]}` and `{pair[1]}`; received keys "
                    f"{sorted(keys)}."
                )
        if data_keys is None:
            raise ValueError(
                f"{path} must hold arrays `x_train` and `x_test` (or `train` and `test`); "
                f"received keys {sorted(keys)}."
            )
        train_key, test_key = data_keys
        train, kind = as_data_array(archive[train_key], f"{path}[{train_key!r}]")
        test, test_kind = as_data_array(archive[test_key], f"{path}[{test_key!r}]")
        train_labels, test_labels = None, None
        if label_keys is not None:
            train_labels = as_labels(
                archive[label_keys[0]], train.shape[0], f"{path}[{label_keys[0]!r}]"
            )
            test_labels = as_labels(
                archive[label_keys[1]], test.shape[0], f"{path}[{label_keys[1]!r}]"
            )
    if kind != test_kind:
        raise ValueError(
            f"{path}: `{train_key}` is {kind} data but `{test_key}` is {test_kind} data."
        )
    return DatasetArrays(
        train=train,
        test=test,
        train_labels=train_labels,
        test_labels=test_labels,
        kind=kind,
        num_classes=num_classes_of(train_labels, test_labels),
        name=str(path),
        description=f"Arrays `{train_key}`/`{test_key}` from {path}.",
    )


def _load_npy(path: pathlib.Path) -> DatasetArrays:
    array, kind = as_data_array(np.load(path, allow_pickle=False), str(path))
    train, test, _, _ = split_last(array, None)
    return DatasetArrays(
        train=train,
        test=test,
        train_labels=None,
        test_labels=None,
        kind=kind,
        num_classes=None,
        name=str(path),
        description=f"{path}: first {train.shape[0]} examples train, last {test.shape[0]} test.",
    )


def _load_image_dir(
    directory: pathlib.Path, progress: Callable[[str], None] | None
) -> DatasetArrays:
    train, test, train_labels, test_labels, class_names = load_image_folder(
        directory, progress=progress
    )
    classes = "unlabelled" if class_names is None else f"{len(class_names)} classes"
    return DatasetArrays(
        train=train,
        test=test,
        train_labels=train_labels,
        test_labels=test_labels,
        kind="image",
        num_classes=None if class_names is None else len(class_names),
        name=str(directory),
        description=f"Image folder {directory} ({classes}).",
    )


def load_path(
    path: str | pathlib.Path, *, progress: Callable[[str], None] | None = None
) -> DatasetArrays:
    """Loads a dataset from a local file or folder, at 8 bits per pixel.

    Understood layouts:

    - a folder of IDX files in the MNIST format: `train-images-idx3-ubyte`,
      `t10k-images-idx3-ubyte` and optionally `train-labels-idx1-ubyte`,
      `t10k-labels-idx1-ubyte`, each possibly `.gz` and possibly split into `.partNN` files;
    - a `.npz` file with arrays `x_train`/`x_test` (optionally `y_train`/`y_test`), or
      `train`/`test` (optionally `y_train`/`y_test` or `train_labels`/`test_labels`);
    - a `.npy` file with one array; its last 10% (at least one example) is the test set;
    - a folder of images (see `load_image_folder`).

    Arrays of rank 2 are tabular data (cast to `float32`); ranks 3 and 4 are images, which
    must hold integers in 0..255.

    Args:
        path: The file or folder.
        progress: Called with a progress line every few seconds while a large image folder
            is decoded; `None` prints nothing.

    Returns:
        The `DatasetArrays`.

    Raises:
        FileNotFoundError: If `path` or a required file in it does not exist.
        ValueError: If the file type is unsupported or the content is malformed.
    """
    path = pathlib.Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"Dataset path does not exist: {path}")
    if path.is_dir():
        if any(find_idx_file(path, stems[0]) for stems in _IDX_STEMS.values()):
            return _load_idx_dir(path)
        if has_images(path):
            return _load_image_dir(path, progress)
        raise ValueError(
            f"{path} holds neither MNIST-format IDX files (train-images-idx3-ubyte[.gz], ...) "
            f"nor images with suffix in {IMAGE_SUFFIXES}."
        )
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return _load_npz(path)
    if suffix == ".npy":
        return _load_npy(path)
    raise ValueError(
        f"Unsupported dataset file {path}: expected a .npz or .npy file, or a folder of IDX "
        "files or images."
    )
