"""Tests for the IDX reader and MNIST-format folders, on tiny files and on the real MNIST."""

import gzip
import pathlib

import numpy as np
import pytest

from tfflow.data import load_arrays, read_idx
from tfflow.data.idx import find_idx_file

MNIST_DIR = pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mnist"


def _idx_bytes(array: np.ndarray) -> bytes:
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D}
    header = bytes([0, 0, codes[array.dtype], array.ndim])
    dims = b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + dims + array.astype(array.dtype.newbyteorder(">")).tobytes()


def _write(path: pathlib.Path, data: bytes, *, gz: bool = False, parts: int = 0) -> None:
    """Writes `data` to `path` (`path.gz` if gz), optionally split into `parts` files."""
    if gz:
        data, path = gzip.compress(data), path.with_name(path.name + ".gz")
    if not parts:
        path.write_bytes(data)
        return
    size = -(-len(data) // parts)
    for index in range(parts):
        chunk = data[index * size : (index + 1) * size]
        path.with_name(f"{path.name}.part{index:02d}").write_bytes(chunk)


def _tiny_mnist(directory: pathlib.Path, *, gz: bool, parts: int = 0, labels: bool = True):
    rng = np.random.RandomState(0)
    train = rng.randint(0, 256, size=(12, 5, 4), dtype=np.uint8)
    test = rng.randint(0, 256, size=(3, 5, 4), dtype=np.uint8)
    train_labels = (np.arange(12) % 10).astype(np.uint8)
    test_labels = np.array([9, 0, 4], np.uint8)
    _write(directory / "train-images-idx3-ubyte", _idx_bytes(train), gz=gz, parts=parts)
    _write(directory / "t10k-images-idx3-ubyte", _idx_bytes(test), gz=gz)
    if labels:
        _write(directory / "train-labels-idx1-ubyte", _idx_bytes(train_labels), gz=gz)
        _write(directory / "t10k-labels-idx1-ubyte", _idx_bytes(test_labels), gz=gz)
    return train, test, train_labels, test_labels


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float32])
def test_read_idx_round_trips_plain_and_gzip(tmp_path, gz, dtype):
    array = (np.arange(24).reshape(2, 3, 4) * 3).astype(dtype)
    _write(tmp_path / "a-idx3", _idx_bytes(array), gz=gz)
    result = read_idx(tmp_path / ("a-idx3.gz" if gz else "a-idx3"))
    assert result.dtype == np.dtype(dtype) and result.dtype.isnative
    np.testing.assert_array_equal(result, array)


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_joins_parts_in_numeric_order(tmp_path, gz):
    array = np.arange(200, dtype=np.uint8).reshape(8, 5, 5)
    _write(tmp_path / "x-idx3-ubyte", _idx_bytes(array), gz=gz, parts=3)
    base = "x-idx3-ubyte.gz" if gz else "x-idx3-ubyte"
    parts = find_idx_file(tmp_path, "x-idx3-ubyte")
    assert [path.name for path in parts] == [f"{base}.part{i:02d}" for i in range(3)]
    np.testing.assert_array_equal(read_idx(parts), array)
    with pytest.raises(ValueError):  # Parts in the wrong order are not a valid file.
        read_idx(parts[::-1])


def test_find_idx_file_reports_missing_part(tmp_path):
    _write(tmp_path / "x-idx3-ubyte", _idx_bytes(np.zeros((4, 2, 2), np.uint8)), parts=3)
    (tmp_path / "x-idx3-ubyte.part01").unlink()
    with pytest.raises(FileNotFoundError, match=r"missing \[1\]"):
        find_idx_file(tmp_path, "x-idx3-ubyte")


def test_find_idx_file_accepts_dotted_mnist_names(tmp_path):
    (tmp_path / "train-images.idx3-ubyte").write_bytes(_idx_bytes(np.zeros((1, 2, 2), np.uint8)))
    found = find_idx_file(tmp_path, "train-images-idx3-ubyte")
    assert found == [tmp_path / "train-images.idx3-ubyte"]
    assert find_idx_file(tmp_path, "t10k-images-idx3-ubyte") is None


def test_bad_magic_names_file_and_magic(tmp_path):
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(b"\x12\x34\x56\x78" + bytes(16))
    with pytest.raises(
        ValueError, match=r"bad-idx3-ubyte has bad IDX magic 305419896 \(0x12345678\)"
    ):
        read_idx(path)


def test_unexpected_magic_is_rejected(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(_idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(
        ValueError, match=r"labels has IDX magic 2049 \(0x00000801\); expected 2051"
    ):
        read_idx(path, expected_magic=2051)


def test_truncated_file_is_rejected(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(_idx_bytes(np.zeros((2, 3, 3), np.uint8))[:-1])
    with pytest.raises(ValueError, match="holds 33 bytes but its IDX header"):
        read_idx(path)


def test_corrupt_gzip_names_file(tmp_path):
    path = tmp_path / "broken.gz"
    path.write_bytes(gzip.compress(_idx_bytes(np.zeros((2, 3, 3), np.uint8)))[:20])
    with pytest.raises(ValueError, match="broken.gz is not a valid gzip stream"):
        read_idx(path)


def test_missing_file_names_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope-idx1-ubyte"):
        read_idx(tmp_path / "nope-idx1-ubyte")


@pytest.mark.parametrize("gz, parts", [(False, 0), (True, 0), (True, 2), (False, 4)])
def test_load_arrays_reads_mnist_format_folder(tmp_path, gz, parts):
    train, test, train_labels, test_labels = _tiny_mnist(tmp_path, gz=gz, parts=parts)
    arrays = load_arrays(str(tmp_path))
    assert arrays.kind == "image" and arrays.train.shape == (12, 5, 4, 1)
    np.testing.assert_array_equal(arrays.train[..., 0], train)
    np.testing.assert_array_equal(arrays.test[..., 0], test)
    np.testing.assert_array_equal(arrays.train_labels, train_labels)
    np.testing.assert_array_equal(arrays.test_labels, test_labels)
    assert arrays.train_labels.dtype == np.int64 and arrays.num_classes == 10


def test_mnist_format_folder_without_labels(tmp_path):
    _tiny_mnist(tmp_path, gz=True, labels=False)
    arrays = load_arrays(str(tmp_path), n_bits=3)
    assert arrays.train_labels is None and arrays.num_classes is None
    assert arrays.train.max() <= 7 and arrays.n_bits == 3


def test_mnist_format_folder_missing_test_images(tmp_path):
    _tiny_mnist(tmp_path, gz=False)
    (tmp_path / "t10k-images-idx3-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        load_arrays(str(tmp_path))


def test_mnist_format_folder_with_swapped_files_names_magic(tmp_path):
    _tiny_mnist(tmp_path, gz=False)
    images = tmp_path / "t10k-images-idx3-ubyte"
    images.write_bytes((tmp_path / "t10k-labels-idx1-ubyte").read_bytes())
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte has IDX magic 2049"):
        load_arrays(str(tmp_path))


@pytest.fixture
def mnist_dir() -> pathlib.Path:
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"real MNIST not found at {MNIST_DIR}")
    return MNIST_DIR


def test_real_mnist_test_file(mnist_dir):
    images = read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz", expected_magic=2051)
    labels = read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz", expected_magic=2049)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and set(np.unique(labels)) == set(range(10))
    # Per-class counts published with the data (README of shared/data/mnist).
    expected = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    np.testing.assert_array_equal(np.bincount(labels), expected)


def test_real_mnist_folder_with_split_training_file(mnist_dir):
    arrays = load_arrays(str(mnist_dir))
    assert arrays.train.shape == (60000, 28, 28, 1) and arrays.train.dtype == np.uint8
    assert arrays.test.shape == (10000, 28, 28, 1) and arrays.test.dtype == np.uint8
    assert arrays.num_classes == 10 and arrays.test_labels.min() == 0
    assert arrays.test_labels.max() == 9 and arrays.train.max() == 255
    expected = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    np.testing.assert_array_equal(np.bincount(arrays.train_labels), expected)
