"""Tests for `write_tfrecords` and the streaming TFRecord source, on files the tests write."""

import json

import numpy as np
import pytest
import tensorflow as tf

from tfflow.data import make_stream, open_source, write_tfrecords
from tfflow.data.tfrecords import INDEX_FILE, tfrecord_source


def _images(count: int, shape=(4, 6, 3), seed: int = 0) -> np.ndarray:
    return np.random.RandomState(seed).randint(0, 256, (count, *shape)).astype(np.uint8)


def _read(source, split: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Every example of `split` in order, as integer levels (no noise), with its labels."""
    labels = source.has_labels
    dataset = make_stream(
        source, split, batch_size=7, training=False, labels=labels, dequantize=False
    )
    if not labels:
        return np.concatenate([x.numpy() for x in dataset]).astype(np.uint8), None
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in dataset], strict=True)
    return np.concatenate(xs).astype(np.uint8), np.concatenate(ys)


@pytest.fixture
def written(tmp_path):
    train, test = _images(23), _images(5, seed=1)
    folder = tmp_path / "records"
    write_tfrecords(train, folder, labels=np.arange(23) % 4, examples_per_shard=10)
    write_tfrecords(test, folder, labels=np.array([3, 2, 1, 0, 3]), split="test")
    return folder, train, test


def test_round_trip_keeps_pixels_labels_and_counts(written):
    folder, train, test = written
    assert sorted(p.name for p in folder.iterdir()) == [
        "test-00000.tfrecord",
        "tfflow_dataset.json",
        "train-00000.tfrecord",
        "train-00001.tfrecord",
        "train-00002.tfrecord",
    ]
    source = open_source(str(folder))
    assert (source.num_train, source.num_test, source.num_classes) == (23, 5, 4)
    assert source.event_shape == (4, 6, 3) and source.n_bits == 8
    x, y = _read(source, "train")
    np.testing.assert_array_equal(x, train)  # in file order: every example once
    np.testing.assert_array_equal(y, np.arange(23) % 4)
    x, y = _read(source, "test")
    np.testing.assert_array_equal(x, test)
    np.testing.assert_array_equal(y, [3, 2, 1, 0, 3])


def test_glob_pattern_and_n_bits(written):
    folder, train, _ = written
    source = open_source(str(folder / "*.tfrecord"), n_bits=5)
    x, _ = _read(source, "train")
    np.testing.assert_array_equal(x, train // 8)
    assert source.n_bits == 5 and "5 bits" in source.description


def test_glow_raw_layout_without_index_is_indexed_with_progress(tmp_path):
    """openai/glow's layout: train/ and validation/ folders, `shape`/`data`/`label` records."""
    images = _images(12, shape=(4, 4, 3))
    for split, part in (("train", images[:9]), ("validation", images[9:])):
        (tmp_path / split).mkdir()
        path = tmp_path / split / f"{split}-r02-s-0000-of-0001.tfrecords"
        with tf.io.TFRecordWriter(str(path)) as writer:
            for index, image in enumerate(part):
                feature = {
                    "shape": tf.train.Feature(int64_list=tf.train.Int64List(value=[4, 4, 3])),
                    "data": tf.train.Feature(
                        bytes_list=tf.train.BytesList(value=[image.tobytes()])
                    ),
                    "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[index % 2])),
                }
                example = tf.train.Example(features=tf.train.Features(feature=feature))
                writer.write(example.SerializeToString())
    lines = []
    source = tfrecord_source(str(tmp_path), progress=lines.append)
    assert (source.num_train, source.num_test, source.num_classes) == (9, 3, 2)
    assert "raw pixels" in source.description
    x, y = _read(source, "train")
    np.testing.assert_array_equal(x, images[:9])
    np.testing.assert_array_equal(y, np.arange(9) % 2)
    x, _ = _read(source, "test")
    np.testing.assert_array_equal(x, images[9:])


def test_raw_encoding_and_chunked_writes(tmp_path):
    images = _images(9, shape=(3, 3, 1))
    write_tfrecords(iter([images[:4], images[4:]]), tmp_path, encoding="raw")
    write_tfrecords(images[:2], tmp_path, split="test", encoding="raw")
    index = json.loads((tmp_path / INDEX_FILE).read_text())
    assert index["splits"]["train"]["num_examples"] == 9 and index["num_classes"] is None
    source = open_source(str(tmp_path))
    assert not source.has_labels
    np.testing.assert_array_equal(_read(source, "train")[0], images)


def test_image_folder_is_converted_with_its_split_and_classes(tmp_path):
    for split in ("train", "test"):
        for label, name in enumerate(("cat", "dog")):
            for i in range(3):
                path = tmp_path / "folder" / split / name / f"{i}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(
                    tf.io.encode_png(np.full((4, 4, 3), 10 * i + label, np.uint8)).numpy()
                )
    write_tfrecords(tmp_path / "folder", tmp_path / "out")
    source = open_source(str(tmp_path / "out"))
    assert (source.num_train, source.num_test, source.num_classes) == (6, 6, 2)
    x, y = _read(source, "test")
    np.testing.assert_array_equal(x[:, 0, 0, 0], [0, 10, 20, 1, 11, 21])
    np.testing.assert_array_equal(y, [0, 0, 0, 1, 1, 1])


def test_missing_test_split_is_a_clear_error(tmp_path):
    write_tfrecords(_images(3), tmp_path)
    with pytest.raises(ValueError, match="has no test files"):
        open_source(str(tmp_path))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"encoding": "jpeg"}, "`encoding` must be one of"),
        ({"examples_per_shard": 0}, "`examples_per_shard` must be a positive integer"),
        ({"split": "validation"}, "`split` must be 'train' or 'test'"),
        ({"labels": np.arange(2)}, "`labels` has 2 rows, fewer than `images`"),
    ],
)
def test_writer_argument_errors(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        write_tfrecords(_images(3), tmp_path, **kwargs)


def test_writer_refuses_float_images_and_existing_shards(tmp_path):
    with pytest.raises(ValueError, match="must be uint8 arrays"):
        write_tfrecords(np.zeros((2, 4, 4, 3), np.float32), tmp_path / "a")
    write_tfrecords(_images(2), tmp_path / "b")
    with pytest.raises(ValueError, match="already holds train"):
        write_tfrecords(_images(2), tmp_path / "b")


def test_no_matching_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="No TFRecord files match"):
        tfrecord_source(str(tmp_path / "*.tfrecord"))
