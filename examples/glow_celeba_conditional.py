"""Glow on CelebA faces, in the spirit of the paper's CelebA experiments (arXiv:1807.03039).

NOT class-conditional yet. The Glow paper also trains class-conditional models and
manipulates faces along attribute directions; tfflow cannot do that here: `tfflow.data`
loads CelebA without its 40 binary attributes (no labels), and the command line has no
conditioning option. So this example trains an UNCONDITIONAL Glow on CelebA and samples
from it. Once labelled CelebA and a conditional `tfflow train` option exist, this is the
place to add them.

Configuration: the paper's CelebA-HQ settings where they carry over (5-bit pixels, K = 32
steps per level, samples at temperature 0.7, Adam 1e-3), with 512 coupling channels and
affine couplings (tfflow's Glow defaults), at the 64x64 resolution tfflow loads (central
148x148 crop resized to 64x64, as in RealNVP) instead of CelebA-HQ's 256x256, hence L = 4
levels instead of 6, and batches of 64.

CelebA comes from tensorflow-datasets (`celeb_a`, prepared offline; `--data-dir` names the
TFDS folder). Writes the run directory and `samples_T<t>.png` grids.

Usage:
    python examples/glow_celeba_conditional.py          # unconditional Glow on CelebA 64x64
    python examples/glow_celeba_conditional.py --smoke  # under a minute on CPU, on digits
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tfflow.cli.example_runner import run_example  # noqa: E402


def train_options(args: argparse.Namespace) -> list[str]:
    """`tfflow train` options of the model and data."""
    options = ["--model", "glow", "--n-bits", "5", "--temperature", "0.7"]
    if args.smoke:
        # CelebA is not available offline everywhere: a tiny 5-bit Glow on 8x8 digits.
        options += ["--dataset", "digits", "--levels", "2", "--steps-per-level", "2"]
        options += ["--hidden", "16", "--steps-per-epoch", "10"]
        return options + ["--num-samples", "16", "--no-export", "--verbose", "0"]
    options += ["--dataset", "celeb_a", "--levels", "4", "--steps-per-level", "32"]
    options += ["--hidden", "512", "--lr", "1e-3", "--batch-size", "64"]
    return options + (["--data-dir", args.data_dir] if args.data_dir else [])


def main(argv: list[str] | None = None) -> int:
    return run_example(
        __doc__,
        "glow_celeba",
        train_options,
        temperatures=(0.0, 0.6, 0.7, 1.0),
        epochs=50,
        smoke_epochs=2,
        data_dir_help="TFDS data folder holding celeb_a",
        argv=argv,
    )


if __name__ == "__main__":
    sys.exit(main())
