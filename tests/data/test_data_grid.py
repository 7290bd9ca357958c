"""Tests for `image_grid` and `save_image_grid`."""

import numpy as np
import pytest
import tensorflow as tf

from tfflow.data import image_grid, save_image_grid


def test_grid_shape_and_tile_placement():
    images = np.stack([np.full((3, 2, 1), 10 * (i + 1), np.uint8) for i in range(5)])
    grid = image_grid(images, ncols=3, pad=1)
    assert grid.shape == (2 * 4 + 1, 3 * 3 + 1, 1) and grid.dtype == np.uint8
    assert grid[1, 1, 0] == 10 and grid[1, 4, 0] == 20 and grid[5, 4, 0] == 50
    assert grid[0].max() == 0 and grid[:, 0].max() == 0  # Border padding.
    assert grid[5:8, 7:9].max() == 0  # The missing sixth tile is blank.


def test_grid_default_columns_and_no_padding():
    grid = image_grid(np.ones((10, 4, 4, 3), np.uint8), pad=0)
    assert grid.shape == (3 * 4, 4 * 4, 3)


def test_grid_of_dequantized_floats_floors_and_clips():
    images = np.array([-3.0, 0.99, 17.5, 255.99, 300.0, np.nan]).reshape(6, 1, 1, 1)
    grid = image_grid(images, ncols=6, pad=0)
    np.testing.assert_array_equal(grid[0, :, 0], [0, 0, 17, 255, 255, 0])


def test_grid_rescales_n_bits_values():
    grid = image_grid(np.array([0.5, 31.9]).reshape(2, 1, 1, 1), ncols=2, pad=0, n_bits=5)
    np.testing.assert_array_equal(grid[0, :, 0], [0, 248])


@pytest.mark.parametrize(
    "images, kwargs, message",
    [
        (np.zeros((0, 2, 2, 1)), {}, r"non-empty batch .* received \(0, 2, 2, 1\)"),
        (np.zeros((2, 2)), {}, r"received \(2, 2\)"),
        (np.zeros((2, 2, 2, 1)), {"ncols": 0}, "`ncols` must be a positive integer"),
        (np.zeros((2, 2, 2, 1)), {"pad": -1}, "`pad` must be a non-negative integer"),
    ],
)
def test_grid_bad_arguments(images, kwargs, message):
    with pytest.raises(ValueError, match=message):
        image_grid(images, **kwargs)


def test_save_image_grid_writes_png_and_creates_folders(tmp_path):
    rng = np.random.RandomState(0)
    images = rng.randint(0, 256, size=(6, 5, 4, 3), dtype=np.uint8)
    path = save_image_grid(images, tmp_path / "a" / "b" / "grid.png", ncols=2)
    assert path.is_file()
    decoded = tf.io.decode_png(path.read_bytes()).numpy()
    np.testing.assert_array_equal(decoded, image_grid(images, ncols=2))


def test_save_image_grid_unwritable_path_names_it(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError, match="Cannot write image grid to .*file/grid.png"):
        save_image_grid(np.zeros((1, 2, 2, 1), np.uint8), blocker / "grid.png")


def test_save_image_grid_requires_png_suffix_and_channels(tmp_path):
    with pytest.raises(ValueError, match="`path` must end in '.png'"):
        save_image_grid(np.zeros((1, 2, 2, 1), np.uint8), tmp_path / "grid.jpg")
    with pytest.raises(ValueError, match="1 to 4 channels"):
        save_image_grid(np.zeros((1, 2, 2, 5), np.uint8), tmp_path / "grid.png")
