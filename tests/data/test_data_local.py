"""Tests for loading `.npz`/`.npy` files and image folders, and path errors."""

import pathlib

import numpy as np
import pytest
import tensorflow as tf

from tfflow.data import KNOWN_DATASETS, load_arrays


def _write_png(path: pathlib.Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tf.io.encode_png(image).numpy())


def _image(value: int, shape=(6, 5, 3)) -> np.ndarray:
    return np.full(shape, value, np.uint8)


def test_npz_with_keras_keys_and_rank3_images(tmp_path):
    rng = np.random.RandomState(0)
    x_train = rng.randint(0, 256, (10, 4, 4), dtype=np.uint8)
    x_test = rng.randint(0, 256, (2, 4, 4), dtype=np.uint8)
    path = tmp_path / "data.npz"
    np.savez(path, x_train=x_train, x_test=x_test, y_train=np.arange(10)[:, None], y_test=[1, 2])
    arrays = load_arrays(str(path))
    assert arrays.kind == "image" and arrays.train.shape == (10, 4, 4, 1)
    np.testing.assert_array_equal(arrays.test[..., 0], x_test)
    np.testing.assert_array_equal(arrays.train_labels, np.arange(10))
    assert arrays.num_classes == 10 and arrays.train_labels.dtype == np.int64


def test_npz_with_train_test_keys_tabular(tmp_path):
    path = tmp_path / "table.npz"
    np.savez(path, train=np.ones((8, 3), np.float64), test=np.zeros((2, 3), np.float64))
    arrays = load_arrays(str(path))
    assert arrays.kind == "tabular" and arrays.train.dtype == np.float32
    assert arrays.train_labels is None and arrays.train.shape == (8, 3)


def test_npz_float_images_holding_integers_are_accepted(tmp_path):
    path = tmp_path / "floats.npz"
    np.savez(path, train=np.full((3, 2, 2, 3), 200.0), test=np.zeros((1, 2, 2, 3)))
    arrays = load_arrays(str(path))
    assert arrays.train.dtype == np.uint8 and arrays.train.max() == 200


@pytest.mark.parametrize(
    "content, message",
    [
        ({"images": np.zeros((2, 2))}, "must hold arrays `x_train` and `x_test`"),
        ({"x_train": np.zeros((2, 2))}, "must hold both `x_train` and `x_test`"),
        (
            {"x_train": np.zeros((2, 2)), "x_test": np.zeros((2, 2)), "y_train": [0, 1]},
            "must hold both `y_train` and `y_test`",
        ),
        (
            {"x_train": np.zeros((2, 2)), "x_test": np.zeros((2, 4, 4))},
            "is tabular data but `x_test` is image data",
        ),
        (
            {
                "x_train": np.zeros((2, 2)),
                "x_test": np.zeros((2, 2)),
                "y_train": [0, 1, 2],
                "y_test": [0, 1],
            },
            r"\['y_train'\] must have shape \(2,\)",
        ),
    ],
)
def test_npz_malformed_content_is_rejected(tmp_path, content, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **content)
    with pytest.raises(ValueError, match=message):
        load_arrays(str(path))


def test_npy_splits_off_last_ten_percent(tmp_path):
    data = np.arange(50 * 2, dtype=np.float32).reshape(50, 2)
    path = tmp_path / "points.npy"
    np.save(path, data)
    arrays = load_arrays(str(path))
    np.testing.assert_array_equal(arrays.train, data[:45])
    np.testing.assert_array_equal(arrays.test, data[45:])


def test_npy_float_images_in_unit_range_are_rejected(tmp_path):
    path = tmp_path / "unit.npy"
    np.save(path, np.full((4, 3, 3, 1), 0.5, np.float32))
    with pytest.raises(ValueError, match=r"must hold integers in 0..255; received float32"):
        load_arrays(str(path))


def test_npy_with_one_example_cannot_be_split(tmp_path):
    path = tmp_path / "one.npy"
    np.save(path, np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match="at least 2 examples"):
        load_arrays(str(path))


def test_image_folder_flat_is_unlabelled_and_split(tmp_path):
    for i in range(20):
        _write_png(tmp_path / f"img{i:02d}.png", _image(i))
    arrays = load_arrays(str(tmp_path))
    assert arrays.kind == "image" and arrays.train.shape == (18, 6, 5, 3)
    assert arrays.test.shape == (2, 6, 5, 3) and arrays.train_labels is None
    values = sorted(np.concatenate([arrays.train, arrays.test])[:, 0, 0, 0])
    assert values == list(range(20))
    np.testing.assert_array_equal(load_arrays(str(tmp_path)).test, arrays.test)


def test_image_folder_reports_decoding_progress(tmp_path, monkeypatch):
    import tfflow.data.progress

    for i in range(4):
        _write_png(tmp_path / f"img{i}.png", _image(i))
    lines = []
    load_arrays(str(tmp_path), progress=lines.append)
    assert lines == []  # a fast load prints nothing
    monkeypatch.setattr(tfflow.data.progress, "PROGRESS_INTERVAL_S", 0.0)
    load_arrays(str(tmp_path), progress=lines.append)
    assert lines[0].startswith(f"decoding {tmp_path}: 1 / 4 images (")
    assert lines[-1].startswith(f"decoding {tmp_path}: 3 / 4 images (")


def test_image_folder_class_subfolders_become_labels(tmp_path):
    for name, value in (("cat", 10), ("dog", 200)):
        for i in range(10):
            _write_png(tmp_path / name / f"{i}.png", _image(value, (4, 4, 1)))
    arrays = load_arrays(str(tmp_path))
    assert arrays.num_classes == 2 and arrays.train.shape == (18, 4, 4, 1)
    images = np.concatenate([arrays.train, arrays.test])
    labels = np.concatenate([arrays.train_labels, arrays.test_labels])
    np.testing.assert_array_equal(images[:, 0, 0, 0], np.where(labels == 0, 10, 200))


def test_image_folder_with_train_and_test_splits(tmp_path):
    for split, count in (("train", 3), ("test", 2)):
        for name in ("a", "b"):
            for i in range(count):
                _write_png(tmp_path / split / name / f"{i}.png", _image(i, (3, 3, 1)))
    arrays = load_arrays(str(tmp_path))
    assert arrays.train.shape == (6, 3, 3, 1) and arrays.test.shape == (4, 3, 3, 1)
    np.testing.assert_array_equal(arrays.test_labels, [0, 0, 1, 1])


def test_image_folder_with_mixed_sizes_is_rejected(tmp_path):
    _write_png(tmp_path / "a.png", _image(0, (4, 4, 3)))
    _write_png(tmp_path / "b.png", _image(0, (5, 4, 3)))
    with pytest.raises(ValueError, match=r"must share one size; .*a.png is \(4, 4, 3\)"):
        load_arrays(str(tmp_path))


def test_image_folder_with_undecodable_file_names_it(tmp_path):
    _write_png(tmp_path / "a.png", _image(0))
    (tmp_path / "b.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="Cannot decode image .*b.png"):
        load_arrays(str(tmp_path))


def test_empty_folder_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="neither MNIST-format IDX files"):
        load_arrays(str(tmp_path))


def test_missing_path_is_named(tmp_path):
    missing = tmp_path / "nowhere" / "data.npz"
    with pytest.raises(FileNotFoundError, match="Dataset path does not exist: .*nowhere"):
        load_arrays(str(missing))


def test_unsupported_file_type(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("1,2\n")
    with pytest.raises(ValueError, match="expected a .npz or .npy file"):
        load_arrays(str(path))


def test_unknown_name_lists_known_names():
    with pytest.raises(ValueError, match="Unknown dataset 'mnistt'") as info:
        load_arrays("mnistt")
    for name in KNOWN_DATASETS:
        assert name in str(info.value)
