"""Tests for the TensorFlow Datasets path, with TFDS's mock data (no download)."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from tfflow.data import KNOWN_DATASETS, DatasetUnavailableError, load_arrays

TFDS_NAMES = [
    "mnist",
    "fashion_mnist",
    "cifar10",
    "celeb_a",
    "imagenet_resized/32x32",
    "imagenet_resized/64x64",
]


def test_tfds_names_are_known():
    assert set(TFDS_NAMES) <= set(KNOWN_DATASETS)


@pytest.mark.parametrize(
    "name, shape, num_classes",
    [("mnist", (28, 28, 1), 10), ("cifar10", (32, 32, 3), 10), ("celeb_a", (64, 64, 3), None)],
)
def test_tfds_mock_shapes_and_dtypes(tmp_path, name, shape, num_classes):
    with tfds.testing.mock_data(num_examples=8):
        arrays = load_arrays(name, data_dir=str(tmp_path))
    assert arrays.kind == "image" and arrays.n_bits == 8
    assert arrays.train.shape == (8, *shape) and arrays.test.shape == (8, *shape)
    assert arrays.train.dtype == np.uint8 and arrays.test.dtype == np.uint8
    assert arrays.num_classes == num_classes
    if num_classes is None:
        assert arrays.train_labels is None and arrays.test_labels is None
    else:
        assert arrays.train_labels.shape == (8,) and arrays.train_labels.dtype == np.int64
        assert arrays.train_labels.min() >= 0 and arrays.train_labels.max() < num_classes


def test_tfds_mock_num_examples_and_n_bits(tmp_path):
    with tfds.testing.mock_data(num_examples=8):
        arrays = load_arrays("mnist", data_dir=str(tmp_path), num_examples=5, n_bits=4)
    assert arrays.train.shape == (5, 28, 28, 1) and arrays.train_labels.shape == (5,)
    assert arrays.train.max() <= 15 and arrays.n_bits == 4


@pytest.mark.parametrize("name", ["mnist", "imagenet_resized/32x32"])
def test_tfds_missing_offline_raises_dataset_unavailable(tmp_path, name):
    with pytest.raises(DatasetUnavailableError) as info:
        load_arrays(name, data_dir=str(tmp_path))
    message = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert "\n" not in message and str(tmp_path) in message
    assert f"tfds.load('{name}')" in message and "--dataset path/to/dir_or_file" in message


def _zeros(shapes, dtypes):
    """Zero tensors for a (nested) TFDS feature dict of shapes and dtypes."""
    if isinstance(dtypes, dict):
        return {key: _zeros(shapes[key], dtypes[key]) for key in dtypes}
    return tf.zeros(shapes, dtypes)


def test_celeba_preprocessing_keeps_the_central_148_square(tmp_path):
    """218x178 CelebA images: only the central 148x148 square, resized to 64x64, is kept."""
    image = np.zeros((218, 178, 3), np.uint8)
    top, left = (218 - 148) // 2, (178 - 148) // 2
    image[top : top + 148, left : left + 148] = 100

    def as_dataset(self, *args, **kwargs):  # every example: `image`, all else zero
        example = _zeros(self.info.features.shape, self.info.features.dtype)
        example["image"] = tf.constant(image)
        return tf.data.Dataset.from_tensors(example).repeat(2)

    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        arrays = load_arrays("celeb_a", data_dir=str(tmp_path))
    assert arrays.train.shape == (2, 64, 64, 3) and arrays.train.dtype == np.uint8
    np.testing.assert_array_equal(arrays.train, np.full((2, 64, 64, 3), 100, np.uint8))


@pytest.mark.parametrize("attribute", ["Smiling", "Male"])
def test_celeba_label_attribute_gives_binary_labels(tmp_path, attribute):
    with tfds.testing.mock_data(num_examples=16):
        arrays = load_arrays("celeb_a", data_dir=str(tmp_path), label_attribute=attribute)
        # The same mock examples, read directly: the label is the attribute as 0/1.
        expected = [
            int(example["attributes"][attribute])
            for example in tfds.as_numpy(
                tfds.load("celeb_a", split="test", data_dir=str(tmp_path), download=False)
            )
        ]
    assert arrays.train.shape == (16, 64, 64, 3) and arrays.num_classes == 2
    for labels in (arrays.train_labels, arrays.test_labels):
        assert labels.shape == (16,) and labels.dtype == np.int64
        assert set(np.unique(labels)) <= {0, 1}
    np.testing.assert_array_equal(arrays.test_labels, expected)
    assert f"labels: {attribute} (0 = no, 1 = yes)" in arrays.description
    assert "center crop 148x148 resized to 64x64" in arrays.description


def test_celeba_label_attribute_with_num_examples(tmp_path):
    with tfds.testing.mock_data(num_examples=8):
        arrays = load_arrays("celeb_a", data_dir=str(tmp_path), label_attribute="Male",
                             num_examples=5)  # fmt: skip
    assert arrays.train.shape[0] == 5 and arrays.train_labels.shape == (5,)


@pytest.mark.parametrize(
    ("name", "attribute", "fragment"),
    [
        ("celeb_a", "Smiles", "must be one of the CelebA attributes"),
        ("mnist", "Smiling", "applies to celeb_a only"),
        ("digits", "Smiling", "applies to celeb_a only"),
    ],
)
def test_label_attribute_is_validated_before_loading(tmp_path, name, attribute, fragment):
    with pytest.raises(ValueError, match=fragment) as info:
        load_arrays(name, data_dir=str(tmp_path), label_attribute=attribute)
    assert repr(attribute) in str(info.value)


def test_celeba_attributes_match_the_tfds_features(tmp_path):
    from tfflow.data.tfds_source import CELEBA_ATTRIBUTES

    with tfds.testing.mock_data(num_examples=1):
        info = tfds.builder("celeb_a", data_dir=str(tmp_path)).info
    assert tuple(info.features["attributes"].keys()) == CELEBA_ATTRIBUTES


def test_tfds_progress_lines(tmp_path, monkeypatch):
    import tfflow.data.progress

    monkeypatch.setattr(tfflow.data.progress, "PROGRESS_INTERVAL_S", 0.0)
    lines = []
    with tfds.testing.mock_data(num_examples=8):
        load_arrays("mnist", data_dir=str(tmp_path), progress=lines.append)
    assert lines and lines[0].startswith("mnist train: 8")
    assert any(line.startswith("mnist test: 8") for line in lines)
