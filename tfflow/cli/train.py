"""`tfflow train`: train a flow into a resumable run directory."""

from __future__ import annotations

import argparse

from tfflow.cli.errors import run_reporting_errors
from tfflow.cli.options import (
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
)
from tfflow.training.config import MIXED_PRECISION_POLICIES, MODEL_NAMES, STRATEGIES, TrainConfig
from tfflow.training.run_dir import default_run_dir

__all__ = ["add_parser", "config_from_args", "run"]

_DEFAULTS = TrainConfig()
DESCRIPTION = """\
Train a flow by maximum likelihood and write a run directory: config.json, a resumable
checkpoint (backup/), metrics.csv, TensorBoard logs, samples/epoch_XXX.png,
training_curve.png, model.keras, evaluation.json and a SavedModel in export/<version>/.
Rerunning the same command resumes from the last completed epoch.

With no options, trains a small Glow on the scikit-learn 8x8 digits (offline) in about a
minute on 2 CPU cores and writes runs/glow-digits."""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Adds the `train` subcommand to `subparsers`."""
    parser = subparsers.add_parser(
        "train",
        help="train a flow into a run directory",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data = parser.add_argument_group("model and data")
    data.add_argument(
        "--model", choices=MODEL_NAMES, default=_DEFAULTS.model, help="default: %(default)s"
    )
    data.add_argument(
        "--dataset",
        default=_DEFAULTS.dataset,
        metavar="NAME",
        help="digits, digits_flat, moons, circles, checkerboard, 8gaussians, spirals, mnist, "
        "fashion_mnist, cifar10, celeb_a, imagenet_resized/32x32|64x64, or a path to an IDX "
        "folder, .npz/.npy file or image folder (default: %(default)s)",
    )
    data.add_argument("--data-dir", metavar="DIR", help="TFDS data folder (never downloads)")
    data.add_argument(
        "--n-bits",
        type=positive_int,
        default=_DEFAULTS.n_bits,
        metavar="N",
        help="bits per pixel, 1-8 (default: %(default)s)",
    )
    data.add_argument(
        "--num-examples", type=positive_int, metavar="N", help="use at most N training examples"
    )
    data.add_argument("--flip", action="store_true", help="random left-right flips of images")

    size = parser.add_argument_group(
        "model size (unset: per-model defaults, see tfflow.training.MODEL_DEFAULTS)"
    )
    size.add_argument(
        "--levels", type=positive_int, metavar="L", help="Glow levels / RealNVP image scales"
    )
    size.add_argument(
        "--steps-per-level", type=positive_int, metavar="K", help="Glow flow steps per level"
    )
    size.add_argument(
        "--hidden", type=positive_int, metavar="H", help="channels or units of the couplings"
    )
    size.add_argument(
        "--hidden-layers", type=positive_int, metavar="N", help="MLP depth (NICE, RealNVP 1-D)"
    )
    size.add_argument(
        "--coupling-layers",
        type=positive_int,
        metavar="N",
        help="couplings (NICE, RealNVP on vectors)",
    )
    size.add_argument(
        "--residual-blocks", type=positive_int, metavar="N", help="ResNet blocks (RealNVP images)"
    )

    training = parser.add_argument_group("training")
    training.add_argument(
        "--run-dir", metavar="DIR", help="run directory (default: runs/<model>-<dataset>)"
    )
    training.add_argument(
        "--epochs",
        type=positive_int,
        default=_DEFAULTS.epochs,
        metavar="N",
        help="total epochs; a resumed run continues up to N (default: %(default)s)",
    )
    training.add_argument(
        "--batch-size",
        type=positive_int,
        default=_DEFAULTS.batch_size,
        metavar="B",
        help="default: %(default)s",
    )
    training.add_argument(
        "--lr",
        type=positive_float,
        default=_DEFAULTS.lr,
        metavar="LR",
        help="Adam learning rate (default: %(default)s)",
    )
    training.add_argument(
        "--steps-per-epoch",
        type=positive_int,
        metavar="N",
        help="training batches per epoch (default: one pass over the data)",
    )
    training.add_argument(
        "--seed",
        type=non_negative_int,
        default=_DEFAULTS.seed,
        metavar="S",
        help="default: %(default)s",
    )
    training.add_argument(
        "--jit",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="XLA compilation (default: on with a GPU, off on CPU)",
    )
    training.add_argument(
        "--mixed-precision",
        choices=tuple(MIXED_PRECISION_POLICIES),
        default=_DEFAULTS.mixed_precision,
        help="default: %(default)s",
    )
    training.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default=_DEFAULTS.strategy,
        help="tf.distribute strategy; multiworker reads TF_CONFIG (default: %(default)s)",
    )
    training.add_argument(
        "--temperature",
        type=non_negative_float,
        metavar="T",
        help="temperature of the sample grids (default: 0.7 for glow, else 1.0)",
    )
    training.add_argument(
        "--num-samples",
        type=positive_int,
        default=_DEFAULTS.num_samples,
        metavar="N",
        help="samples per grid (default: %(default)s)",
    )
    training.add_argument(
        "--export",
        action=argparse.BooleanOptionalAction,
        default=_DEFAULTS.export,
        help="export a SavedModel to RUN_DIR/export at the end (default: on)",
    )
    training.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        default=_DEFAULTS.verbose,
        help="Keras progress: 0 none, 1 bar, 2 a line per epoch (default: %(default)s)",
    )
    parser.set_defaults(handler=run)
    return parser


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The `TrainConfig` of parsed `train` arguments."""
    fields = TrainConfig.__dataclass_fields__
    return TrainConfig(**{name: getattr(args, name) for name in fields if hasattr(args, name)})


def run(args: argparse.Namespace) -> int:
    """Runs `tfflow train`; returns the exit status."""
    from tfflow.training.trainer import train

    config = config_from_args(args)
    run_dir = config.run_dir or str(default_run_dir(config.model, config.dataset))

    def body() -> int:
        train(config)
        return 0

    return run_reporting_errors(
        body,
        interrupted_hint=(
            f"rerun the same command to resume from the last completed epoch (checkpoint "
            f"in {run_dir}/backup)."
        ),
        batch_size=config.batch_size,
    )
