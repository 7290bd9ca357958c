"""`tfflow` command line: `main(argv)` parses the arguments and runs a subcommand."""

from __future__ import annotations

import os

# Quieten TensorFlow's C++ INFO/WARNING logs unless the user chose a level (this only helps
# for TensorFlow imported after this point; `import tfflow` may have imported it already).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
from collections.abc import Iterator, Sequence  # noqa: E402

from tfflow._version import __version__  # noqa: E402
from tfflow.cli import evaluate, export, sample, train  # noqa: E402
from tfflow.cli.errors import EXIT_USAGE, CommandLineError, print_error  # noqa: E402
from tfflow.cli.options import Parser  # noqa: E402

__all__ = ["build_parser", "main"]

EPILOG = """\
examples:
  tfflow train                                  # Glow on 8x8 digits, ~1 min on CPU
  tfflow train --model realnvp --dataset moons  # RealNVP on a 2-D toy density
  tfflow evaluate runs/glow-digits              # test bits/dim -> evaluation.json
  tfflow sample runs/glow-digits --num-samples 64 --temperature 0.7 --out grid.png
  tfflow export runs/glow-digits savedmodels/glow-digits"""


def build_parser() -> argparse.ArgumentParser:
    """The `tfflow` argument parser with its `train`, `evaluate`, `sample` and `export`
    subcommands; each sets `handler`, a function of the parsed arguments returning the exit
    status."""
    parser = Parser(
        prog="tfflow",
        description="Exact-likelihood normalizing flows (NICE, RealNVP, Glow): train, "
        "evaluate, sample and export.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tfflow {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (train, evaluate, sample, export):
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs `tfflow` with `argv` (default: `sys.argv[1:]`) and returns the exit status.

    User-fixable errors print one line `tfflow: error: ...` to stderr and return 2; Ctrl-C
    returns 130.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except CommandLineError as err:
        print_error(err)
        return err.exit_code
    except SystemExit as exit_:  # --help and --version
        return int(exit_.code or 0)
    if getattr(args, "handler", None) is None:
        print_error("missing COMMAND: train, evaluate, sample or export (see `tfflow --help`)")
        return EXIT_USAGE
    with _quiet_python_logs():
        return int(args.handler(args))


@contextlib.contextmanager
def _quiet_python_logs() -> Iterator[None]:
    """Hides TensorFlow's and absl's Python WARNING/INFO logs (e.g. TFDS notes about
    missing folders, AutoGraph notes) for the duration of a command, so that progress and
    error lines stand out; errors still show. `TFFLOW_VERBOSE_LOGS=1` keeps them."""
    if os.environ.get("TFFLOW_VERBOSE_LOGS"):
        yield
        return
    import absl.logging

    loggers = [logging.getLogger("tensorflow"), logging.getLogger("absl")]
    levels = [logger.level for logger in loggers]
    absl_verbosity = absl.logging.get_verbosity()
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    absl.logging.set_verbosity(absl.logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
        absl.logging.set_verbosity(absl_verbosity)
