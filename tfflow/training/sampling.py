"""Rendering a flow's samples as one picture: an image grid or a 2-D density figure."""

from __future__ import annotations

import math
import os
import pathlib
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from tfflow.callbacks.atomic_files import atomic_write_bytes
from tfflow.data import image_grid
from tfflow.models import FlowModel
from tfflow.training.plots import figure_to_array, plot_toy_2d

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["render_samples", "sample_labels", "write_png"]

# Samples drawn for the 2-D panels (the image grids use `num` samples).
TOY_SAMPLES = 5000
# Image tiles smaller than this many pixels a side are enlarged by an integer factor.
MIN_TILE_PIXELS = 32


def sample_labels(
    model: FlowModel, num: int, label: int | None = None
) -> tuple[np.ndarray | None, int | None]:
    """The labels to draw `num` samples of `model` with, and the columns of their grid.

    Unconditional models take no labels: `(None, None)`. With `label`, all `num` samples are
    of that class. Otherwise every class gets `num // num_classes` samples (at least one), in
    class order, and the grid's columns divide that count, so each class fills whole rows.

    Raises:
        ValueError: If `label` is given for an unconditional model or is out of range.

    Example:
        >>> import tfflow
        >>> model = tfflow.Glow((4, 4, 1), levels=1, steps_per_level=1, hidden_channels=4,
        ...                     num_classes=2)
        >>> labels, ncols = sample_labels(model, 8)
        >>> labels.tolist(), ncols
        ([0, 0, 0, 0, 1, 1, 1, 1], 2)
    """
    classes = model.num_classes
    if classes is None:
        if label is not None:
            raise ValueError(
                f"`label` needs a class-conditional model; received label={label} for a model "
                "without classes."
            )
        return None, None
    if label is not None:
        if not 0 <= int(label) < classes:
            raise ValueError(f"`label` must be in [0, {classes}); received {label}.")
        return np.full(num, int(label), np.int32), None
    per_class = max(1, num // classes)
    width = math.ceil(math.sqrt(per_class * classes))
    ncols = max(d for d in range(1, min(per_class, width) + 1) if per_class % d == 0)
    labels = np.repeat(np.arange(classes, dtype=np.int32), per_class)
    return labels, (ncols if per_class > 1 else None)


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
    label: int | None = None,
) -> np.ndarray:
    """Draws samples and renders them as a `uint8` image `(H, W, C)`.

    Images become a grid (`tfflow.data.image_grid`), NICE's flat vectors reshaped to
    `data_shape`, small images enlarged to tiles of at least `MIN_TILE_PIXELS` a side. 2-D
    tabular data become three panels (data, model density, samples); other tabular data a
    scatter of the first two coordinates beside the data's. Class-conditional models draw the
    samples of every class, a class per block of grid rows (see `sample_labels`), or of one
    `label`; their 2-D density is that of `label`, or the average over the classes.

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
        label: The class to draw, for class-conditional models (default: every class).

    Returns:
        The rendered picture.
    """
    if kind == "image":
        labels, ncols = sample_labels(model, num, label)
        num = num if labels is None else labels.shape[0]
        samples = model.sample(num, temperature=temperature, seed=seed, labels=labels)
        samples = np.asarray(samples, np.float32).reshape((num,) + tuple(data_shape))
        grid = image_grid(samples, ncols, n_bits=n_bits)
        # Enlarge small images (8x8 digits) with nearest-neighbour pixels so they can be seen.
        zoom = max(1, MIN_TILE_PIXELS // max(data_shape[0], data_shape[1]))
        return np.repeat(np.repeat(grid, zoom, axis=0), zoom, axis=1) if zoom > 1 else grid
    if reference is None:
        raise ValueError("`reference` data is required to render tabular samples.")
    labels, _ = sample_labels(model, TOY_SAMPLES, label)
    if labels is not None:
        labels = np.resize(labels, TOY_SAMPLES)
    samples = model.sample(TOY_SAMPLES, temperature=temperature, seed=seed, labels=labels)
    samples = np.asarray(samples).reshape(TOY_SAMPLES, -1)
    reference = np.asarray(reference, np.float32).reshape(reference.shape[0], -1)
    if samples.shape[1] == 2:
        classes = [None] if model.num_classes is None else np.unique(labels).tolist()

        def log_prob_fn(points: np.ndarray) -> np.ndarray:
            points = tf.constant(points, tf.float32)
            per_class = [
                model.log_prob(points, None if k is None else tf.fill(tf.shape(points)[:1], k))
                for k in classes
            ]
            # The density of a uniform mixture of the classes drawn.
            return np.asarray(tf.reduce_logsumexp(per_class, 0) - math.log(len(classes)))

        figure = plot_toy_2d(log_prob_fn, reference, samples, title=title, temperature=temperature)
    else:
        figure = _scatter_first_two(reference, samples, title)
    return figure_to_array(figure)


def _scatter_first_two(reference: np.ndarray, samples: np.ndarray, title: str) -> Figure:
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
