"""`tfflow export`: write a trained run as a TF Serving SavedModel."""

from __future__ import annotations

import argparse
from typing import Any

from tfflow.cli.errors import CommandLineError, run_reporting_errors
from tfflow.cli.options import non_negative_int, positive_int
from tfflow.serving.serving_module import DEFAULT_MAX_SAMPLES

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Adds the `export` subcommand to `subparsers`."""
    parser = subparsers.add_parser(
        "export",
        help="export a trained run as a TF Serving SavedModel",
        description="Write EXPORT_DIR/<version>/, a SavedModel with log_prob, sample, encode "
        "and decode signatures, ready for TF Serving (model base path EXPORT_DIR).",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a finished run directory")
    parser.add_argument("export_dir", metavar="EXPORT_DIR", help="the model's base path")
    parser.add_argument(
        "--version", type=non_negative_int, metavar="N", help="version number (default: latest + 1)"
    )
    parser.add_argument(
        "--max-samples",
        type=positive_int,
        metavar="N",
        default=DEFAULT_MAX_SAMPLES,
        help="largest num_samples one request to the sample signature may ask for; larger "
        "requests fail with INVALID_ARGUMENT (default: %(default)s)",
    )
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Runs `tfflow export`; returns the exit status."""

    def body() -> int:
        import importlib.util

        from tfflow.cli.run_loading import load_run
        from tfflow.serving import export
        from tfflow.training import timed_step

        trained = load_run(args.run_dir)
        evaluation = {}
        if trained.run_dir.evaluation_path.is_file():
            import json

            evaluation = json.loads(trained.run_dir.evaluation_path.read_text())
        metadata = {
            "dataset": trained.config.dataset,
            "command": trained.config.command_line(),
            "run_dir": str(trained.run_dir.path),
        }
        if "bits_per_dim" in evaluation:
            metadata["test_bits_per_dim"] = evaluation["bits_per_dim"]
            metadata["test_log_prob"] = -evaluation["nll_nats"]
        # TF Serving warm-up requests need the optional tensorflow-serving-api package.
        warmup = importlib.util.find_spec("tensorflow_serving") is not None
        try:
            with timed_step(f"exporting SavedModel to {args.export_dir}") as step:
                path = export(
                    trained.model,
                    args.export_dir,
                    args.version,
                    metadata=metadata,
                    warmup=warmup,
                    max_samples=args.max_samples,
                )
                step["detail"] = f"wrote {path}"
        except FileExistsError as err:
            raise CommandLineError(
                f"version {args.version} already exists in {args.export_dir!r} and versions are "
                "never overwritten; choose another --version, or omit it for the next one."
            ) from err
        except OSError as err:
            raise CommandLineError(
                f"cannot write to {args.export_dir!r} ({err.strerror or err}); pass a writable "
                "EXPORT_DIR."
            ) from err
        print(path, flush=True)
        return 0

    return run_reporting_errors(body)
