"""Helpers the tutorials' hidden set-up blocks import while `mkdocs build` runs them.

The tutorials' code runs in the build (markdown-exec); `figure_html` turns each matplotlib figure
into an `<img>` embedded in the page, so every figure on the site is made by the code above
it, at build time. (markdown-exec captures the `print` of the executed block, not this
module's: each page's set-up block defines `show(figure, alt)` as
`print(figure_html(figure, alt))`.)
"""

from __future__ import annotations

import base64
import html
import io
import os
import pathlib

import matplotlib

matplotlib.use("Agg")

REPO = pathlib.Path(__file__).resolve().parents[2]


def figure_html(figure, alt: str) -> str:
    """`figure` as an inline PNG `<img>` (with `alt` text); closes the figure."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'<figure class="tfflow-figure"><img src="data:image/png;base64,{data}" '
        f'alt="{html.escape(alt)}"></figure>'
    )


def mnist_dir() -> pathlib.Path | None:
    """The real MNIST IDX folder: `$TFFLOW_MNIST_DIR`, else `../shared/data/mnist` beside the
    repository, else `/work/shared/data/mnist`; `None` when none holds the test images."""
    candidates = [os.environ.get("TFFLOW_MNIST_DIR"), REPO.parent / "shared" / "data" / "mnist"]
    candidates.append("/work/shared/data/mnist")
    for candidate in candidates:
        if candidate and (pathlib.Path(candidate) / "t10k-images-idx3-ubyte.gz").is_file():
            return pathlib.Path(candidate)
    return None
