"""Sharded TFRecord files of images: `write_tfrecords` and the streaming `tfrecord_source`.

Two record layouts are read:

- tfflow's (`write_tfrecords(..., encoding="png")`): `image` (PNG/JPEG bytes), `shape`
  (int64 `[H, W, C]`) and, for labelled data, `label` (int64 `[1]`);
- openai/glow's (`encoding="raw"`): `shape`, `data` (the raw `uint8` pixels, row-major `HWC`)
  and `label` (int64 `[1]`, 0 for unlabelled data).

The test split is the shards whose file name starts with `test`, `validation`, `valid` or
`val` (then `-`, `_` or `.`), or that sit in a folder of one of these names (glow keeps
`train/*.tfrecords` and `validation/*.tfrecords`); every other shard is training data.
"""

import json
import pathlib
import re
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import tensorflow as tf

from tfflow.data.image_folder import list_image_folder
from tfflow.data.progress import CountProgress
from tfflow.data.quantize import check_n_bits
from tfflow.data.source import StreamingSource, bits_note

__all__ = ["INDEX_FILE", "is_tfrecord_path", "tfrecord_source", "write_tfrecords"]

# Written beside the shards by `write_tfrecords`: counts and shape, so that reading needs no
# indexing pass over the files.
INDEX_FILE = "tfflow_dataset.json"
ENCODINGS = ("png", "raw")
_TEST_NAME = re.compile(r"^(test|validation|valid|val)([-_.]|$)", re.IGNORECASE)
_TEST_FOLDERS = ("test", "validation", "valid", "val")
_SUFFIX = re.compile(r"\.tfrecords?(-\d+-of-\d+)?$", re.IGNORECASE)
_INDEX_BATCH = 4096


def _int64(values: Iterable[int]) -> tf.train.Feature:
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v) for v in values]))


def _bytes(value: bytes) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _example(encoded: bytes, shape: tuple[int, ...], label: int | None, encoding: str) -> bytes:
    features = {"shape": _int64(shape)}
    if encoding == "raw":
        features["data"] = _bytes(encoded)
        features["label"] = _int64([0 if label is None else label])
    else:
        features["image"] = _bytes(encoded)
        if label is not None:
            features["label"] = _int64([label])
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


@tf.function
def _encode_png_batch(images: tf.Tensor) -> tf.Tensor:
    return tf.map_fn(tf.io.encode_png, images, fn_output_signature=tf.string)


class _ShardWriter:
    """Writes `split-00000.tfrecord`, `split-00001.tfrecord`, ... of `per_shard` records."""

    def __init__(self, directory: pathlib.Path, split: str, per_shard: int):
        self.directory, self.split, self.per_shard = directory, split, per_shard
        self.files: list[str] = []
        self.count = 0
        self._writer = None

    def write(self, record: bytes) -> None:
        if self.count % self.per_shard == 0:
            self.close()
            name = f"{self.split}-{len(self.files):05d}.tfrecord"
            self.files.append(name)
            self._writer = tf.io.TFRecordWriter(str(self.directory / name))
        self._writer.write(record)
        self.count += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _chunks(images: np.ndarray | Iterable[np.ndarray]) -> Iterable[np.ndarray]:
    if isinstance(images, np.ndarray):
        yield images
    else:
        yield from images


def _check_chunk(chunk: np.ndarray, shape: tuple[int, ...] | None) -> tuple[int, ...]:
    if not isinstance(chunk, np.ndarray) or chunk.dtype != np.uint8 or chunk.ndim != 4:
        received = (
            f"{chunk.dtype} array of shape {chunk.shape}"
            if isinstance(chunk, np.ndarray)
            else type(chunk).__name__
        )
        raise ValueError(f"`images` must be uint8 arrays (N, H, W, C); received {received}.")
    if shape is not None and chunk.shape[1:] != shape:
        raise ValueError(
            f"`images` must share one shape (H, W, C); received {shape} and {chunk.shape[1:]}."
        )
    return chunk.shape[1:]


def _write_arrays(
    images: np.ndarray | Iterable[np.ndarray],
    labels: np.ndarray | None,
    writer: _ShardWriter,
    encoding: str,
    counter: CountProgress,
) -> tuple:
    shape, labels = None, None if labels is None else np.asarray(labels, np.int64)
    for chunk in _chunks(images):
        shape = _check_chunk(chunk, shape)
        encoded = (
            [image.tobytes() for image in chunk]
            if encoding == "raw"
            else _encode_png_batch(tf.constant(chunk)).numpy()
        )
        for data in encoded:
            index = writer.count
            if labels is not None and index >= labels.shape[0]:
                raise ValueError(f"`labels` has {labels.shape[0]} rows, fewer than `images`.")
            writer.write(_example(data, shape, None if labels is None else labels[index], encoding))
            counter.update(writer.count)
    if shape is None:
        raise ValueError("`images` must hold at least one image; received none.")
    if labels is not None and labels.shape[0] != writer.count:
        raise ValueError(
            f"`labels` must have one row per image ({writer.count}); received {labels.shape[0]}."
        )
    return shape


def _write_folder_split(
    paths: Sequence[str],
    labels: Sequence[int] | None,
    writer: _ShardWriter,
    encoding: str,
    counter: CountProgress,
) -> tuple:
    shape = None
    for index, path in enumerate(paths):
        data = pathlib.Path(path).read_bytes()
        try:
            image = tf.io.decode_image(data, dtype=tf.uint8, expand_animations=False).numpy()
        except tf.errors.InvalidArgumentError as err:
            raise ValueError(f"Cannot decode image {path}: {err.message.splitlines()[0]}") from err
        if shape is not None and image.shape != shape:
            raise ValueError(
                f"All images must share one size; {paths[0]} is {shape} (H, W, C) but {path} "
                f"is {image.shape}."
            )
        shape = image.shape
        label = None if labels is None else int(labels[index])
        payload = image.tobytes() if encoding == "raw" else data
        writer.write(_example(payload, shape, label, encoding))
        counter.update(writer.count)
    return shape


def _update_index(
    directory: pathlib.Path,
    split: str,
    entry: dict,
    shape: tuple[int, ...],
    num_classes: int | None,
) -> None:
    path = directory / INDEX_FILE
    index = json.loads(path.read_text()) if path.is_file() else {"splits": {}}
    if index.get("shape", list(shape)) != list(shape):
        raise ValueError(
            f"{directory} already holds images of shape {tuple(index['shape'])}; received "
            f"{tuple(shape)}."
        )
    if index.get("num_classes") is not None and num_classes is not None:
        num_classes = max(num_classes, index["num_classes"])
    index.update(shape=list(shape), num_classes=num_classes)
    index["splits"][split] = entry
    path.write_text(json.dumps(index, indent=1))


def write_tfrecords(
    images: np.ndarray | Iterable[np.ndarray] | str | pathlib.Path,
    directory: str | pathlib.Path,
    *,
    labels: np.ndarray | None = None,
    num_classes: int | None = None,
    split: str = "train",
    examples_per_shard: int = 10_000,
    encoding: str = "png",
    progress: Callable[[str], None] | None = None,
) -> list[pathlib.Path]:
    """Writes images as sharded TFRecord files that `tfrecord_source` streams.

    Writes `directory/<split>-00000.tfrecord`, ... (`examples_per_shard` records each) and
    records the split's size and the image shape in `directory/tfflow_dataset.json`. Write
    the "train" and "test" splits into the same folder, or pass an image folder to write both.

    Args:
        images: `uint8` images `(N, H, W, C)`, an iterable of such arrays (written chunk by
            chunk, so the set need not fit in memory), or an image folder in any layout of
            `tfflow.data.local.load_path` (its train and test splits are written, the original
            PNG/JPEG bytes kept with `encoding="png"`; `labels` and `split` do not apply).
        directory: The output folder, created if needed.
        labels: Integer class labels, one per image, or `None`.
        num_classes: The number of classes of `labels`; `None` means `max(labels) + 1`.
        split: "train" or "test".
        examples_per_shard: Records per file; several files per split let `tf.distribute`
            give every worker files of its own (`AutoShardPolicy.FILE`).
        encoding: "png" (lossless, compact) or "raw" (openai/glow's layout: raw pixels, fast
            to decode, larger).
        progress: Called with a progress line every few seconds; `None` prints nothing.

    Returns:
        The files written.

    Raises:
        ValueError: If an argument is invalid, `split` already has files in `directory`,
            images differ in shape, or `labels` does not match `images`.

    Example:
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> images = np.zeros((5, 4, 4, 3), np.uint8)
        >>> [path.name for path in write_tfrecords(images, folder, examples_per_shard=3)]
        ['train-00000.tfrecord', 'train-00001.tfrecord']
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"`encoding` must be one of {ENCODINGS}; received {encoding!r}.")
    if isinstance(examples_per_shard, bool) or not isinstance(examples_per_shard, int):
        raise ValueError(
            f"`examples_per_shard` must be a positive integer; received {examples_per_shard!r}."
        )
    if examples_per_shard < 1:
        raise ValueError(
            f"`examples_per_shard` must be a positive integer; received {examples_per_shard}."
        )
    directory = pathlib.Path(directory).expanduser()
    if isinstance(images, str | pathlib.Path):
        if labels is not None:
            raise ValueError("`labels` does not apply to an image folder (its classes are).")
        splits, class_names = list_image_folder(pathlib.Path(images).expanduser())
        sources = {name: (paths, split_labels) for name, (paths, split_labels) in splits.items()}
        num_classes = None if class_names is None else len(class_names)
    else:
        if split not in ("train", "test"):
            raise ValueError(f"`split` must be 'train' or 'test'; received {split!r}.")
        sources = {split: (images, labels)}
        if labels is not None and num_classes is None:
            num_classes = int(np.max(labels)) + 1
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (data, split_labels) in sources.items():
        if any(directory.glob(f"{name}-*.tfrecord")):
            raise ValueError(f"{directory} already holds {name}-*.tfrecord files.")
        writer = _ShardWriter(directory, name, examples_per_shard)
        counter = CountProgress(f"writing {directory} {name}", None, progress)
        try:
            if isinstance(images, str | pathlib.Path):
                shape = _write_folder_split(data, split_labels, writer, encoding, counter)
            else:
                shape = _write_arrays(data, split_labels, writer, encoding, counter)
        finally:
            writer.close()
        entry = {"num_examples": writer.count, "files": writer.files, "encoding": encoding}
        _update_index(directory, name, entry, shape, num_classes)
        written += [directory / file for file in writer.files]
    return written


def is_tfrecord_path(name: str) -> bool:
    """Whether `name` is a TFRecord file pattern, a TFRecord file, or a folder of them."""
    path = pathlib.Path(name).expanduser()
    if _SUFFIX.search(path.name) or ("*" in name and ".tfrecord" in name.lower()):
        return True
    if not path.is_dir():
        return False
    if (path / INDEX_FILE).is_file():
        return True
    # openai/glow's layout: the shards one folder down (train/, validation/).
    candidates = [*path.iterdir(), *(p for d in path.iterdir() if d.is_dir() for p in d.iterdir())]
    return any(p.is_file() and _SUFFIX.search(p.name) for p in candidates)


def _files(name: str) -> list[pathlib.Path]:
    path = pathlib.Path(name).expanduser()
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and _SUFFIX.search(p.name))
    if path.is_file():
        return [path]
    # A glob pattern: split off the part without wildcards and match the rest below it.
    parts = path.parts
    first = next(i for i, part in enumerate(parts) if any(c in part for c in "*?["))
    root = pathlib.Path(*parts[:first]) if first else pathlib.Path(".")
    return sorted(p for p in root.glob(str(pathlib.Path(*parts[first:]))) if p.is_file())


def _is_test(path: pathlib.Path) -> bool:
    return bool(_TEST_NAME.match(path.name)) or path.parent.name.lower() in _TEST_FOLDERS


def _parse_spec(layout: str) -> dict:
    spec = {
        "shape": tf.io.FixedLenFeature([3], tf.int64),
        "label": tf.io.FixedLenFeature([1], tf.int64, default_value=[0]),
    }
    spec["data" if layout == "raw" else "image"] = tf.io.FixedLenFeature([], tf.string)
    return spec


def _first_record(path: pathlib.Path) -> tf.train.Example:
    for record in tf.data.TFRecordDataset(str(path)).take(1):
        return tf.train.Example.FromString(record.numpy())
    raise ValueError(f"TFRecord file {path} holds no records.")


def _layout(path: pathlib.Path) -> tuple[str, tuple[int, int, int]]:
    features = _first_record(path).features.feature
    if "shape" in features and ("data" in features or "image" in features):
        shape = tuple(int(v) for v in features["shape"].int64_list.value)
        if len(shape) == 3:
            return ("raw" if "data" in features else "png"), shape
    raise ValueError(
        f"{path} is not a TFRecord file of images: its records need `shape` (int64 [H, W, C]) "
        f"and `image` (encoded) or `data` (raw uint8) features; received "
        f"{sorted(features)}."
    )


def _index_split(
    files: Sequence[str], layout: str, what: str, progress: CountProgress
) -> tuple[int, int]:
    """Counts the records of `files` and their largest label, reporting progress."""
    label_spec = {"label": _parse_spec(layout)["label"]}
    dataset = tf.data.TFRecordDataset([str(f) for f in files], num_parallel_reads=4)
    dataset = dataset.batch(_INDEX_BATCH).map(
        lambda records: tf.io.parse_example(records, label_spec)["label"]
    )
    counter = CountProgress(f"indexing {what}", None, progress, unit="records")
    count, max_label = 0, 0
    for labels in dataset:
        count += int(labels.shape[0])
        max_label = max(max_label, int(tf.reduce_max(labels)))
        counter.update(count)
    return count, max_label


def _read_index(files: list[pathlib.Path]) -> dict | None:
    """The `INDEX_FILE` beside `files` if it describes exactly these files, else `None`."""
    folders = {f.parent for f in files}
    if len(folders) != 1:
        return None
    folder = folders.pop()
    path = folder / INDEX_FILE
    if not path.is_file():
        return None
    index = json.loads(path.read_text())
    listed = {folder / name for entry in index["splits"].values() for name in entry["files"]}
    return index if listed == set(files) else None


def _decoder(
    layout: str, shape: tuple[int, int, int], n_bits: int
) -> Callable[[tf.Tensor], tuple[tf.Tensor, tf.Tensor]]:
    spec = _parse_spec(layout)

    def decode(record: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        features = tf.io.parse_single_example(record, spec)
        if layout == "raw":
            image = tf.reshape(tf.io.decode_raw(features["data"], tf.uint8), shape)
        else:
            image = tf.io.decode_image(
                features["image"], channels=shape[2], dtype=tf.uint8, expand_animations=False
            )
            image = tf.ensure_shape(image, shape)
        if n_bits < 8:
            image = image // (2 ** (8 - n_bits))
        return image, features["label"][0]

    return decode


def tfrecord_source(
    name: str,
    *,
    n_bits: int = 8,
    num_examples: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> StreamingSource:
    """Streams sharded TFRecord files of images (see the module docstring for the layouts).

    Sizes and the image shape come from `tfflow_dataset.json` when `write_tfrecords` wrote
    the files; otherwise the files are read once to count them (an "indexing" progress line
    every few seconds). Under `tf.distribute`, workers read distinct training files
    (`AutoShardPolicy.FILE`): write at least as many training shards as there are workers.

    Args:
        name: A folder (searched recursively), a file pattern such as
            `"data/celeba/*/*.tfrecords"` (quote it in a shell), or one file.
        n_bits: Bits per pixel, 1 to 8: the 8-bit pixels are reduced to `x // 2**(8 - n_bits)`.
        num_examples: Keep at most this many training examples (the first, in file order).
        progress: Called with progress lines while indexing; `None` prints nothing.

    Returns:
        The `StreamingSource`.

    Raises:
        FileNotFoundError: If nothing matches `name`.
        ValueError: If there is no train or test split, or the records are not images.
    """
    n_bits = check_n_bits(n_bits)
    files = _files(name)
    if not files:
        raise FileNotFoundError(f"No TFRecord files match {name}.")
    splits = {
        "train": [f for f in files if not _is_test(f)],
        "test": [f for f in files if _is_test(f)],
    }
    for split, split_files in splits.items():
        if not split_files:
            raise ValueError(
                f"{name} has no {split} files: name the test shards test-*.tfrecord or keep them "
                "in a test/ or validation/ folder, the training shards anything else (as "
                "tfflow.data.write_tfrecords does)."
            )
    layout, shape = _layout(splits["train"][0])
    index = _read_index(files)
    if index is not None:
        counts = {split: index["splits"][split]["num_examples"] for split in splits}
        num_classes = index.get("num_classes")
    else:
        counts, max_label = {}, 0
        for split, split_files in splits.items():
            what = f"{name} {split}"
            counts[split], split_max = _index_split(split_files, layout, what, progress)
            max_label = max(max_label, split_max)
        num_classes = max_label + 1 if max_label > 0 else None
    if num_examples is not None:
        counts["train"] = min(counts["train"], num_examples)
    decode = _decoder(layout, shape, n_bits)

    def reader(split: str, shuffle_files: bool, seed: int | None) -> tf.data.Dataset:
        paths = [str(f) for f in splits[split]]
        dataset = tf.data.Dataset.from_tensor_slices(paths)
        limit = num_examples if split == "train" else None
        if shuffle_files and limit is None:
            dataset = dataset.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
        # Training mixes records of a few files at a time; evaluation reads file after file.
        dataset = dataset.interleave(
            tf.data.TFRecordDataset,
            cycle_length=min(len(paths), 4) if shuffle_files else 1,
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
        if limit is not None:
            dataset = dataset.take(limit)
        return dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE)

    description = (
        f"TFRecord files {name} ({len(splits['train'])} train / {len(splits['test'])} test "
        f"shards, {'raw pixels' if layout == 'raw' else 'encoded images'})"
    )
    description += bits_note(n_bits)
    return StreamingSource(
        name=name,
        event_shape=shape,
        num_train=counts["train"],
        num_test=counts["test"],
        num_classes=num_classes,
        description=description + ".",
        n_bits=n_bits,
        shard_policy=tf.data.experimental.AutoShardPolicy.FILE,
        reader=reader,
    )
