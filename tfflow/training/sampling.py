"""Rendering a flow's samples as one picture: an image grid or a 2-D density figure."""

from __future__ import annotations

import os
import pathlib

import numpy as np
import tensorflow as tf

from tfflow.callbacks.atomic_files import atomic_write_bytes
from tfflow.data import image_grid
from tfflow.models import FlowModel
from tfflow.training.plots import figure_to_array, plot_toy_2d

__all__ = ["render_samples", "write_png"]

# Samples drawn for the 2-D panels (the image grids use `num` samples).
TOY_SAMPLES = 5000
# Image tiles smaller than this many pixels a side are enlarged by an integer factor.
MIN_TILE_PIXELS = 32


def render_samples(
    model: FlowModel,
    *,
    data_shape: tuple[int, ...],
    kind: str,
    n_bits: int = 8,
    num: int = 64,
    temperature: float = 1.0,
    seed: int | None = 0,
    reference: np.ndarray | None = None,
    title: str = "",
) -> np.ndarray:
    """Draws samples and renders them as a `uint8` image `(H, W, C)`.

    Images become a grid (`tfflow.data.image_grid`), NICE's flat vectors reshaped to
    `data_shape`, small images enlarged to tiles of at least `MIN_TILE_PIXELS` a side. 2-D
    tabular data become three panels (data, model density, samples); other tabular data a
    scatter of the first two coordinates beside the data's.

    Args:
        model: The flow.
        data_shape: Shape of one example of the data (before any flattening by the model).
        kind: `"image"` or `"tabular"`.
        n_bits: Bits per pixel of image data.
        num: Number of samples of an image grid.
        temperature: Scale of the latent noise.
        seed: Sampling seed (the same seed gives the same latent noise every epoch).
        reference: Data to show beside tabular samples (required for tabular data).
        title: Title of the tabular figures.

    Returns:
        The rendered picture.
    """
    if kind == "image":
        samples = model.sample(num, temperature=temperature, seed=seed)
        samples = np.asarray(samples, np.float32).reshape((num,) + tuple(data_shape))
        grid = image_grid(samples, n_bits=n_bits)
        # Enlarge small images (8x8 digits) with nearest-neighbour pixels so they can be seen.
        zoom = max(1, MIN_TILE_PIXELS // max(data_shape[0], data_shape[1]))
        return np.repeat(np.repeat(grid, zoom, axis=0), zoom, axis=1) if zoom > 1 else grid
    if reference is None:
        raise ValueError("`reference` data is required to render tabular samples.")
    samples = np.asarray(model.sample(TOY_SAMPLES, temperature=temperature, seed=seed))
    samples = samples.reshape(TOY_SAMPLES, -1)
    reference = np.asarray(reference, np.float32).reshape(reference.shape[0], -1)
    if samples.shape[1] == 2:

        def log_prob_fn(points: np.ndarray) -> np.ndarray:
            return np.asarray(model.log_prob(tf.constant(points, tf.float32)))

        figure = plot_toy_2d(log_prob_fn, reference, samples, title=title, temperature=temperature)
    else:
        figure = _scatter_first_two(reference, samples, title)
    return figure_to_array(figure)


def _scatter_first_two(reference: np.ndarray, samples: np.ndarray, title: str):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 3.6), dpi=100, layout="constrained")
    axes = figure.subplots(1, 2, sharex=True, sharey=True)
    for axis, points, name in ((axes[0], reference, "data"), (axes[1], samples, "samples")):
        axis.scatter(points[:, 0], points[:, 1], s=2, alpha=0.4)
        axis.set_title(f"{name}: first two of {points.shape[1]} dims")
    if title:
        figure.suptitle(title)
    return figure


def write_png(picture: np.ndarray, path: str | os.PathLike) -> pathlib.Path:
    """Writes a `uint8` picture `(H, W, C)` as a PNG, atomically, creating parent folders."""
    return atomic_write_bytes(path, tf.io.encode_png(np.asarray(picture, np.uint8)).numpy())
