"""`tfflow evaluate`: exact bits per dimension of a trained run on a test split."""

from __future__ import annotations

import argparse
from typing import Any

from tfflow.cli.errors import CommandLineError, run_reporting_errors
from tfflow.cli.options import positive_int

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Adds the `evaluate` subcommand to `subparsers`."""
    parser = subparsers.add_parser(
        "evaluate",
        help="bits/dim of a trained run on the test split",
        description="Compute the exact negative log-likelihood in bits per dimension on the "
        "test split (deterministic dequantization), print it and write RUN_DIR/evaluation.json.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a finished run directory")
    parser.add_argument(
        "--dataset",
        metavar="NAME",
        help="evaluate on another dataset of the same shape (default: the training dataset)",
    )
    parser.add_argument("--data-dir", metavar="DIR", help="TFDS data folder")
    parser.add_argument("--batch-size", type=positive_int, metavar="B", help="default: the run's")
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Runs `tfflow evaluate`; returns the exit status."""

    def body() -> int:
        from tfflow.cli.run_loading import load_run
        from tfflow.training import (
            check_dataset_name,
            evaluate_bits_per_dim,
            evaluation_pipeline,
            load_run_data,
            timed_step,
        )
        from tfflow.training.datasets import conditioning_classes

        trained = load_run(args.run_dir)
        config = trained.config
        name = args.dataset or config.dataset
        check_dataset_name(name)
        with timed_step(f"loading dataset {name!r}") as step:
            arrays = load_run_data(
                name,
                data_dir=args.data_dir or config.data_dir,
                n_bits=trained.n_bits,
                seed=config.seed,
                label_attribute=config.label_attribute,
            )
            step["detail"] = f"{arrays.num_test:,} test examples"
        if arrays.event_shape != trained.data_shape or arrays.kind != trained.kind:
            raise CommandLineError(
                f"dataset {name!r} has {arrays.kind} examples of shape {arrays.event_shape}, "
                f"but the run was trained on {trained.kind} examples of shape "
                f"{trained.data_shape}."
            )
        classes = conditioning_classes(
            arrays, conditional=config.conditional, label_attribute=config.label_attribute
        )
        if classes != trained.model.num_classes:
            raise CommandLineError(
                f"dataset {name!r} has {classes} classes, but the run's class-conditional "
                f"model has {trained.model.num_classes}."
            )
        data = evaluation_pipeline(
            arrays,
            config.model,
            batch_size=args.batch_size or config.batch_size,
            seed=config.seed,
            labels=config.conditional,
        )
        with timed_step("computing test bits/dim"):
            result = evaluate_bits_per_dim(trained.model, data)
        result.update({"dataset": arrays.name, "split": "test"})
        path = trained.run_dir.write_json(trained.run_dir.EVALUATION, result)
        print(
            f"test bits/dim: {result['bits_per_dim']:.4f} ({result['num_examples']} examples "
            f"of {arrays.name}; written to {path})",
            flush=True,
        )
        return 0

    return run_reporting_errors(body, batch_size=args.batch_size)
