"""Tests for `make_stream` over streaming sources: TFRecords, image folders and TFDS mocks."""

import pathlib

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from tfflow.data import (
    DatasetUnavailableError,
    is_streamable,
    load_arrays,
    make_stream,
    open_source,
    write_tfrecords,
)

NUM_TRAIN = 50


@pytest.fixture(scope="module")
def images():
    return np.random.RandomState(0).randint(0, 256, (NUM_TRAIN, 4, 4, 3)).astype(np.uint8)


@pytest.fixture(scope="module")
def source(tmp_path_factory, images):
    """Five training shards whose labels are the example ids; 13 test examples."""
    folder = tmp_path_factory.mktemp("records")
    write_tfrecords(images, folder, labels=np.arange(NUM_TRAIN), examples_per_shard=10)
    write_tfrecords(images[:13], folder, labels=np.arange(13), split="test")
    return open_source(str(folder))


def _epoch(dataset) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in dataset], strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def _training(source, seed, **kwargs):
    return make_stream(
        source, "train", batch_size=8, training=True, seed=seed, labels=True, **kwargs
    )


def test_training_batches_are_dequantized_copies_of_the_examples(source, images):
    x, ids = _epoch(_training(source, 1, drop_remainder=False))
    assert x.dtype == np.float32 and x.shape == (NUM_TRAIN, 4, 4, 3)
    assert sorted(ids) == list(range(NUM_TRAIN))  # every example once per epoch
    np.testing.assert_array_equal(np.floor(x), images[ids])
    assert np.mean(x == np.floor(x)) < 1e-3


def test_training_is_reproducible_for_a_seed_and_fresh_each_epoch(source):
    def two_epochs(seed):
        dataset = _training(source, seed)
        return [_epoch(dataset) for _ in range(2)]

    first, again, other = two_epochs(5), two_epochs(5), two_epochs(6)
    for epoch in range(2):
        np.testing.assert_array_equal(first[epoch][0], again[epoch][0])
        np.testing.assert_array_equal(first[epoch][1], again[epoch][1])
    assert not np.array_equal(first[0][1], first[1][1])  # a new order each epoch
    assert not np.array_equal(first[0][1], other[0][1])
    assert len(first[0][1]) == 48  # 6 full batches; the remainder is dropped in training


def test_files_are_shuffled_even_with_a_one_example_buffer(source):
    """With `shuffle_buffer=1` only the file order (and interleaving) is random."""
    orders = [
        tuple(_epoch(_training(source, seed, shuffle_buffer=1, drop_remainder=False))[1])
        for seed in range(3)
    ]
    assert all(sorted(order) == list(range(NUM_TRAIN)) for order in orders)
    assert len(set(orders)) == 3


def test_evaluation_reads_every_test_example_once_with_fixed_noise(source, images):
    dataset = make_stream(source, "test", batch_size=4, training=False, seed=2, labels=True)
    assert [int(x.shape[0]) for x, _ in dataset] == [4, 4, 4, 1]  # no dropped remainder
    first, second = _epoch(dataset), _epoch(dataset)
    np.testing.assert_array_equal(first[1], np.arange(13))
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(np.floor(first[0]), images[:13])


def test_flips_mirror_some_training_images(source, images):
    x, ids = _epoch(_training(source, 0, flip=True, dequantize=False, drop_remainder=False))
    pairs = list(zip(x, images[ids], strict=True))
    flipped = np.array([np.array_equal(a, b[:, ::-1]) for a, b in pairs])
    kept = np.array([np.array_equal(a, b) for a, b in pairs])
    assert np.all(flipped | kept) and flipped.any() and kept.any()


def test_unlabelled_elements_and_argument_errors(source):
    batch = next(iter(make_stream(source, "test", batch_size=4, training=False)))
    assert isinstance(batch, tf.Tensor) and batch.shape == (4, 4, 4, 3)
    with pytest.raises(ValueError, match="`split` must be one of"):
        make_stream(source, "validation", batch_size=4, training=False)
    with pytest.raises(ValueError, match="`batch_size` must be a positive integer; received 0"):
        make_stream(source, "train", batch_size=0, training=True)
    with pytest.raises(ValueError, match="`shuffle_buffer` must be a positive integer"):
        make_stream(source, "train", batch_size=4, training=True, shuffle_buffer=0)


def _write_png(path: pathlib.Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tf.io.encode_png(image).numpy())


def test_image_folder_streams_the_same_split_as_the_in_memory_loader(tmp_path):
    rng = np.random.RandomState(1)
    for name in ("a", "b"):
        for i in range(6):
            _write_png(tmp_path / name / f"{i}.png", rng.randint(0, 256, (4, 4, 1), np.uint8))
    arrays = load_arrays(str(tmp_path))
    source = open_source(str(tmp_path), n_bits=6)
    assert is_streamable(str(tmp_path)) and source.num_classes == 2
    assert (source.num_train, source.num_test) == (arrays.num_train, arrays.num_test)
    x, y = _epoch(
        make_stream(source, "test", batch_size=5, training=False, labels=True, dequantize=False)
    )
    np.testing.assert_array_equal(x, arrays.test // 4)
    np.testing.assert_array_equal(y, arrays.test_labels)


def test_image_folder_with_two_sizes_fails_naming_both_files(tmp_path):
    _write_png(tmp_path / "train" / "0.png", np.zeros((4, 4, 3), np.uint8))
    _write_png(tmp_path / "train" / "1.png", np.zeros((5, 4, 3), np.uint8))
    _write_png(tmp_path / "test" / "0.png", np.zeros((4, 4, 3), np.uint8))
    source = open_source(str(tmp_path))  # listing decodes one image only
    dataset = make_stream(source, "train", batch_size=2, training=False)
    with pytest.raises(tf.errors.InvalidArgumentError, match="must share one size") as info:
        list(dataset)
    assert "0.png" in info.value.message and "1.png" in info.value.message


def test_the_command_line_reports_a_streamed_size_mismatch_in_one_line(tmp_path, capsys):
    from tfflow.cli.errors import EXIT_USAGE, run_reporting_errors

    _write_png(tmp_path / "train" / "0.png", np.zeros((4, 4, 3), np.uint8))
    _write_png(tmp_path / "train" / "1.png", np.zeros((5, 4, 3), np.uint8))
    _write_png(tmp_path / "test" / "0.png", np.zeros((4, 4, 3), np.uint8))
    dataset = make_stream(open_source(str(tmp_path)), "train", batch_size=2, training=False)

    def body() -> int:
        list(dataset)
        return 0

    assert run_reporting_errors(body) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tfflow: error: All images in ")
    assert "must share one size" in err and "1.png is" in err and "fix or remove" in err


def test_tfds_celeb_a_streams_crops_labels_and_n_bits(tmp_path):
    with tfds.testing.mock_data(num_examples=6):
        source = open_source("celeb_a", data_dir=str(tmp_path), n_bits=5, label_attribute="Smiling")
        x, y = _epoch(
            make_stream(source, "test", batch_size=4, training=False, labels=True, seed=0)
        )
        expected = [
            int(example["attributes"]["Smiling"])
            for example in tfds.as_numpy(
                tfds.load("celeb_a", split="test", data_dir=str(tmp_path), download=False)
            )
        ]
    assert source.event_shape == (64, 64, 3) and source.num_classes == 2
    assert x.shape == (6, 64, 64, 3) and x.min() >= 0 and x.max() < 32
    np.testing.assert_array_equal(y, expected)


def test_tfds_mnist_streams_a_limited_training_split(tmp_path):
    with tfds.testing.mock_data(num_examples=10):
        source = open_source("mnist", data_dir=str(tmp_path), num_examples=4)
        x, y = _epoch(
            make_stream(source, "train", batch_size=3, training=True, seed=0, labels=True)
        )
    assert source.num_train == 4 and source.num_classes == 10
    assert x.shape == (3, 28, 28, 1) and y.max() < 10  # one batch; the remainder dropped


def test_tfds_not_prepared_raises_dataset_unavailable(tmp_path):
    with pytest.raises(DatasetUnavailableError, match="tfds.load\\('cifar10'\\)"):
        open_source("cifar10", data_dir=str(tmp_path))


def test_small_sources_are_not_streamed(tmp_path):
    assert not is_streamable("digits") and not is_streamable("moons")
    with pytest.raises(ValueError, match="to be streamed; received 'digits'"):
        open_source("digits")
    with pytest.raises(ValueError, match="`label_attribute` applies to celeb_a only"):
        open_source("mnist", label_attribute="Smiling")
