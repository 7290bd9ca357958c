"""NICE on MNIST with the paper's configuration (Dinh, Krueger, Bengio 2014, arXiv:1410.8516).

The paper's MNIST model: 4 additive coupling layers, each coupling function an MLP of
5 hidden layers x 1000 ReLU units, a diagonal scaling layer, a standard logistic prior, and
Adam with learning rate 1e-3 for 1500 epochs (the paper's other Adam settings, beta2 = 0.01
and epsilon = 1e-4, are not replicated: Keras defaults are used). Images are dequantized with
uniform noise and flattened to 784 values (tfflow rescales pixels inside the flow, so
bits/dim are on the 0..255 pixel scale).

MNIST is read from `--data-dir` (MNIST IDX files; default `../shared/data/mnist` beside this
repository) when that folder exists, else from tensorflow-datasets (`mnist`, prepared
offline). Writes the run directory (samples per epoch, metrics, training curve, model,
SavedModel) and `samples_T1.0.png` / `samples_T0.7.png` grids.

Usage:
    python examples/nice_mnist.py                  # paper configuration (long on CPU)
    python examples/nice_mnist.py --smoke          # under a minute on CPU
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tfflow.cli.main import main as tfflow  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO.parent / "shared" / "data" / "mnist"


def dataset_option(data_dir: pathlib.Path, smoke: bool) -> str:
    """The local IDX folder if present; else TFDS `mnist` (or `digits` for a smoke run)."""
    if data_dir.is_dir():
        return str(data_dir)
    if smoke:
        print(f"{data_dir} not found: the smoke run uses scikit-learn digits instead of MNIST")
        return "digits"
    return "mnist"


def train_argv(args: argparse.Namespace, run_dir: str) -> list[str]:
    dataset = dataset_option(pathlib.Path(args.data_dir), args.smoke)
    argv = ["train", "--model", "nice", "--dataset", dataset, "--run-dir", run_dir]
    argv += ["--coupling-layers", "4", "--seed", str(args.seed)]
    if args.smoke:
        # Same architecture, narrower and shallower, on a few thousand images.
        argv += ["--hidden-layers", "2", "--hidden", "64", "--num-examples", "5000"]
        argv += ["--epochs", str(args.epochs or 2), "--steps-per-epoch", "20", "--no-export"]
        argv += ["--verbose", "0"]
    else:
        # The paper: 5 x 1000 ReLU units per coupling, Adam 1e-3, 1500 epochs.
        argv += ["--hidden-layers", "5", "--hidden", "1000", "--lr", "1e-3"]
        argv += ["--epochs", str(args.epochs or 1500), "--batch-size", str(args.batch_size)]
    return argv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny, fast run (< 1 min on CPU)")
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="MNIST IDX folder")
    parser.add_argument("--epochs", type=int, help="default: 1500 (smoke: 2)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--run-dir", help="default: runs/nice_mnist (smoke: runs/nice_mnist_smoke)")
    args = parser.parse_args(argv)
    run_dir = args.run_dir or ("runs/nice_mnist_smoke" if args.smoke else "runs/nice_mnist")
    code = tfflow(train_argv(args, run_dir))
    for temperature in ("1.0", "0.7"):
        if code == 0:
            out = f"{run_dir}/samples_T{temperature}.png"
            code = tfflow(["sample", run_dir, "--temperature", temperature, "--out", out])
    return code


if __name__ == "__main__":
    sys.exit(main())
