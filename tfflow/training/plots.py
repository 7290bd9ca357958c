"""Matplotlib figures of a run: 2-D densities and the training curve (Agg, no pyplot)."""

from __future__ import annotations

import csv
import math
import os
import pathlib
from collections.abc import Callable

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike

from tfflow.callbacks.atomic_files import atomic_path

__all__ = [
    "density_on_grid",
    "figure_to_array",
    "plot_toy_2d",
    "plot_toy_2d_table",
    "plot_training_curve",
]

# Points per side of the grid on which a 2-D density is evaluated.
DENSITY_RESOLUTION = 160


def figure_to_array(figure: Figure) -> np.ndarray:
    """Renders `figure` to a `uint8` RGB array `(H, W, 3)`."""
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def _bounds(data: np.ndarray) -> tuple[float, float, float, float]:
    low = np.percentile(data, 0.5, axis=0)
    high = np.percentile(data, 99.5, axis=0)
    margin = 0.1 * (high - low) + 0.25
    return (
        float(low[0] - margin[0]),
        float(high[0] + margin[0]),
        float(low[1] - margin[1]),
        float(high[1] + margin[1]),
    )


def density_on_grid(
    log_prob_fn: Callable[[np.ndarray], ArrayLike],
    bounds: tuple[float, float, float, float],
    resolution: int = DENSITY_RESOLUTION,
) -> np.ndarray:
    """`exp(log_prob_fn)` on a `resolution x resolution` grid over `(x0, x1, y0, y1)`, rows
    from bottom (y0) to top, ready for `imshow(origin="lower")`."""
    x0, x1, y0, y1 = bounds
    xs = np.linspace(x0, x1, resolution, dtype=np.float32)
    ys = np.linspace(y0, y1, resolution, dtype=np.float32)
    grid = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
    log_density = np.asarray(log_prob_fn(grid), np.float64).reshape(len(ys), len(xs))
    return np.exp(np.nan_to_num(log_density, nan=-np.inf, posinf=50.0))


def plot_toy_2d_table(rows: list[tuple[str, object, np.ndarray]]) -> Figure:
    """One row per density: its data (2-D histogram) beside the model's density heatmap.

    Args:
        rows: `(name, log_prob_fn, data)` triples, `log_prob_fn` as in `plot_toy_2d`.

    Returns:
        The figure.
    """
    figure = Figure(figsize=(6.4, 3.1 * len(rows)), dpi=100, layout="constrained")
    axes = np.asarray(figure.subplots(len(rows), 2, squeeze=False))
    for (name, log_prob_fn, data), (left, right) in zip(rows, axes, strict=True):
        x0, x1, y0, y1 = bounds = _bounds(data)
        left.hist2d(data[:, 0], data[:, 1], bins=100, range=[[x0, x1], [y0, y1]], cmap="viridis")
        right.imshow(
            density_on_grid(log_prob_fn, bounds),
            origin="lower",
            extent=bounds,
            aspect="auto",
            cmap="viridis",
        )
        left.set_title(f"{name}: data")
        right.set_title(f"{name}: model density")
        for axis in (left, right):
            axis.set_xlim(x0, x1)
            axis.set_ylim(y0, y1)
            axis.set_xticks([])
            axis.set_yticks([])
    return figure


def plot_toy_2d(
    log_prob_fn: Callable[[np.ndarray], ArrayLike],
    data: np.ndarray,
    samples: np.ndarray,
    *,
    title: str = "",
    temperature: float = 1.0,
) -> Figure:
    """Three panels: the data, the model's density heatmap, and samples from the model.

    Args:
        log_prob_fn: Maps a float32 array `(N, 2)` to log-densities `(N,)`.
        data: Reference points `(N, 2)` (e.g. the test split).
        samples: Model samples `(M, 2)`.
        title: Figure title.
        temperature: Sampling temperature, for the samples' panel title.

    Returns:
        The figure (render it with `figure_to_array` or `figure.savefig`).
    """
    x0, x1, y0, y1 = bounds = _bounds(data)
    density = density_on_grid(log_prob_fn, bounds)

    figure = Figure(figsize=(10.5, 3.6), dpi=100, layout="constrained")
    axes = figure.subplots(1, 3)
    extent = (x0, x1, y0, y1)
    hist_range = [[x0, x1], [y0, y1]]
    axes[0].hist2d(data[:, 0], data[:, 1], bins=100, range=hist_range, cmap="viridis")
    axes[0].set_title(f"data ({len(data)} points)")
    axes[1].imshow(density, origin="lower", extent=extent, aspect="auto", cmap="viridis")
    axes[1].set_title("model density")
    finite = samples[np.all(np.isfinite(samples), axis=1)]
    axes[2].hist2d(finite[:, 0], finite[:, 1], bins=100, range=hist_range, cmap="viridis")
    axes[2].set_title(f"{len(samples)} samples (T={temperature:g})")
    for axis in axes:
        axis.set_xlim(x0, x1)
        axis.set_ylim(y0, y1)
        axis.set_xticks([])
        axis.set_yticks([])
    if title:
        figure.suptitle(title)
    return figure


def plot_training_curve(
    metrics_csv: str | os.PathLike, path: str | os.PathLike, *, title: str = ""
) -> pathlib.Path | None:
    """Plots train/test bits per dimension per epoch from a Keras `CSVLogger` file.

    Args:
        metrics_csv: `metrics.csv` with columns `epoch`, `bits_per_dim` and optionally
            `val_bits_per_dim`.
        path: PNG to write.
        title: Figure title.

    Returns:
        `path`, or `None` if the CSV holds no epoch yet.
    """
    rows = []
    with open(metrics_csv, newline="") as handle:
        for row in csv.DictReader(handle):
            if row.get("epoch", "").strip():
                rows.append(row)
    if not rows:
        return None
    epochs = [int(row["epoch"]) + 1 for row in rows]
    figure = Figure(figsize=(6, 4), dpi=100, layout="constrained")
    axis = figure.subplots()
    for key, label in (("bits_per_dim", "train"), ("val_bits_per_dim", "test")):
        values = [_as_float(row.get(key)) for row in rows]
        if any(math.isfinite(v) for v in values):
            axis.plot(epochs, values, marker="o" if len(epochs) < 30 else None, label=label)
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("epoch")
    axis.set_ylabel("bits / dim")
    axis.grid(alpha=0.3)
    axis.legend()
    if title:
        axis.set_title(title)
    path = pathlib.Path(path)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format=path.suffix.lstrip(".") or "png")
    return path


def _as_float(value: str | None) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
