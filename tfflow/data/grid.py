"""Tiling image batches into one grid and writing it as a PNG (no PIL needed)."""

import math
import pathlib

import numpy as np
import tensorflow as tf

from tfflow.data.quantize import check_n_bits

__all__ = ["image_grid", "save_image_grid"]


def image_grid(
    images: np.ndarray, ncols: int | None = None, pad: int = 1, *, n_bits: int = 8
) -> np.ndarray:
    """Tiles a batch of images into one `uint8` image.

    Values are taken on the `n_bits` scale, `[0, 2**n_bits)`, floored to integer levels,
    rescaled to 8 bits and clipped, so samples slightly outside the range (or NaN, shown as 0)
    still display. Padding of value 0 separates and surrounds the tiles.

    Args:
        images: Array `(N, H, W, C)` (a rank-3 `(N, H, W)` gets one channel), any real dtype.
        ncols: Tiles per row; `None` means `ceil(sqrt(N))`.
        pad: Pixels of padding between and around the tiles, non-negative.
        n_bits: Bit depth of the values, 1 to 8 (e.g. 5 for Glow's 5-bit CelebA).

    Returns:
        A `uint8` array of shape `(rows * (H + pad) + pad, ncols * (W + pad) + pad, C)`.

    Raises:
        ValueError: If `images` is empty or has the wrong rank, or `ncols`, `pad` or `n_bits`
            is out of range.

    Example:
        >>> image_grid(np.zeros((5, 8, 8, 1)), ncols=3).shape
        (19, 28, 1)
    """
    n_bits = check_n_bits(n_bits)
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.ndim != 4 or images.shape[0] == 0:
        raise ValueError(
            f"`images` must be a non-empty batch of shape (N, H, W, C); received {images.shape}."
        )
    count, height, width, channels = images.shape
    if ncols is None:
        ncols = math.ceil(math.sqrt(count))
    if isinstance(ncols, bool) or not isinstance(ncols, int | np.integer) or ncols < 1:
        raise ValueError(f"`ncols` must be a positive integer or None; received {ncols!r}.")
    if isinstance(pad, bool) or not isinstance(pad, int | np.integer) or pad < 0:
        raise ValueError(f"`pad` must be a non-negative integer; received {pad!r}.")
    ncols = min(int(ncols), count)
    rows = math.ceil(count / ncols)
    levels = np.floor(np.nan_to_num(images.astype(np.float64), nan=0.0))
    pixels = np.clip(levels * 2 ** (8 - n_bits), 0, 255).astype(np.uint8)
    grid = np.zeros((rows * (height + pad) + pad, ncols * (width + pad) + pad, channels), np.uint8)
    for i in range(count):
        top = pad + (i // ncols) * (height + pad)
        left = pad + (i % ncols) * (width + pad)
        grid[top : top + height, left : left + width] = pixels[i]
    return grid


def save_image_grid(
    images: np.ndarray,
    path: str | pathlib.Path,
    *,
    ncols: int | None = None,
    pad: int = 1,
    n_bits: int = 8,
) -> pathlib.Path:
    """Tiles `images` with `image_grid` and writes the grid as a PNG, creating parent folders.

    Args:
        images: Array `(N, H, W, C)` with C in {1, 2, 3, 4}, values in `[0, 2**n_bits)`.
        path: Destination file; must end in ".png".
        ncols: Tiles per row; `None` means `ceil(sqrt(N))`.
        pad: Pixels of padding between and around the tiles.
        n_bits: Bit depth of the values, 1 to 8.

    Returns:
        The path written.

    Raises:
        ValueError: If `path` does not end in ".png", the channel count cannot be stored in a
            PNG, or `image_grid` rejects its arguments.
        OSError: If the folder cannot be created or the file cannot be written.
    """
    path = pathlib.Path(path).expanduser()
    if path.suffix.lower() != ".png":
        raise ValueError(f"`path` must end in '.png'; received {str(path)!r}.")
    grid = image_grid(images, ncols, pad, n_bits=n_bits)
    if grid.shape[-1] not in (1, 2, 3, 4):
        raise ValueError(
            f"`images` must have 1 to 4 channels to be saved as PNG; received {grid.shape[-1]}."
        )
    encoded = tf.io.encode_png(grid).numpy()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encoded)
    except OSError as err:
        raise OSError(
            err.errno, f"Cannot write image grid to {path}: {err.strerror or err}"
        ) from err
    return path
