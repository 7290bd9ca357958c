"""The `tfflow` command line: `tfflow train | evaluate | sample | export`.

`main(argv)` is the console script's entry point (also `python -m tfflow`). Each subcommand
lives in its own module with `add_parser(subparsers)` and `run(args) -> int`; the work is done
by `tfflow.training` (and `tfflow.serving`).
"""

from tfflow.cli.errors import EXIT_INTERRUPTED, EXIT_USAGE, CommandLineError
from tfflow.cli.main import build_parser, main

__all__ = ["EXIT_INTERRUPTED", "EXIT_USAGE", "CommandLineError", "build_parser", "main"]
