"""RealNVP on the five 2-D toy densities, with density heatmaps beside the data.

Trains one RealNVP per density (moons, circles, checkerboard, 8gaussians, spirals: the FFJORD
definitions) through `tfflow train`, so each gets a full run directory
(`RUN_ROOT/<density>/`: metrics, TensorBoard logs, data/density/samples panels per epoch, a
training curve, `model.keras`, a SavedModel), then writes `RUN_ROOT/toy_2d.png`: one row per
density, its data beside the learned density. Reruns resume unfinished runs.

Default: 8 affine couplings with 2 x 128-unit MLPs (RealNVP's vector model at the size
commonly used for these densities), 20,000 training points, 50 epochs of batches of 256.

Usage:
    python examples/toy_2d.py                      # all five densities (minutes on CPU)
    python examples/toy_2d.py --smoke              # under a minute on CPU
    python examples/toy_2d.py --densities moons spirals --epochs 100
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfflow.cli.main import main as tfflow  # noqa: E402
from tfflow.data import load_arrays  # noqa: E402
from tfflow.training import load_trained_run, plot_toy_2d_table  # noqa: E402

DENSITIES = ("moons", "circles", "checkerboard", "8gaussians", "spirals")


def train_options(args: argparse.Namespace) -> list[str]:
    """`tfflow train` options shared by every density."""
    if args.smoke:
        # A smaller model for 2 x 150 steps: tracing dominates; the shapes start to show.
        options = ["--coupling-layers", "4", "--hidden", "64", "--steps-per-epoch", "150"]
        options += ["--epochs", str(args.epochs or 2), "--no-export", "--verbose", "0"]
    else:
        options = ["--coupling-layers", "8", "--hidden", "128", "--hidden-layers", "2"]
        options += ["--epochs", str(args.epochs or 50), "--verbose", "2"]
    return ["--model", "realnvp", "--batch-size", "256", "--seed", str(args.seed), *options]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny, fast run (< 1 min on CPU)")
    parser.add_argument("--densities", nargs="+", choices=DENSITIES, default=list(DENSITIES))
    parser.add_argument("--epochs", type=int, help="default: 50 (smoke: 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--run-root", default=None, help="default: runs/toy_2d (smoke: runs/toy_2d_smoke)"
    )
    args = parser.parse_args(argv)
    root = pathlib.Path(args.run_root or ("runs/toy_2d_smoke" if args.smoke else "runs/toy_2d"))

    rows = []
    for name in args.densities:
        run_dir = root / name
        code = tfflow(["train", "--dataset", name, "--run-dir", str(run_dir), *train_options(args)])
        if code:
            return code
        model = load_trained_run(run_dir).model
        data = load_arrays(name, seed=args.seed).test

        def log_prob_fn(points: np.ndarray, model=model) -> np.ndarray:
            return np.asarray(model.log_prob(tf.constant(points)))

        rows.append((name, log_prob_fn, data))
    out = root / "toy_2d.png"
    plot_toy_2d_table(rows).savefig(out)
    print(f"wrote {out} (per-density panels in {root}/<density>/samples/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
