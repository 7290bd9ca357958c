"""`tfflow sample`: draw samples from a trained run into a picture (or a .npy file)."""

from __future__ import annotations

import argparse
import pathlib

from tfflow.cli.errors import CommandLineError, run_reporting_errors
from tfflow.cli.options import non_negative_float, non_negative_int, positive_int

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Adds the `sample` subcommand to `subparsers`."""
    parser = subparsers.add_parser(
        "sample",
        help="draw samples from a trained run",
        description="Draw samples from a trained run: an image grid for image data, data / "
        "density / samples panels for 2-D data, or the raw samples when --out ends in .npy.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a finished run directory")
    parser.add_argument(
        "--num", type=positive_int, default=64, metavar="N", help="samples (default 64)"
    )
    parser.add_argument(
        "--temperature",
        type=non_negative_float,
        metavar="T",
        help="scale of the latent noise (default: the run's, 0.7 for glow)",
    )
    parser.add_argument(
        "--out", metavar="PATH", help="a .png or .npy file (default: RUN_DIR/samples.png)"
    )
    parser.add_argument("--seed", type=non_negative_int, metavar="S", help="seed (default: random)")
    parser.add_argument(
        "--label",
        type=non_negative_int,
        metavar="K",
        help="class of the samples of a class-conditional run (default: every class, a class "
        "per block of grid rows)",
    )
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Runs `tfflow sample`; returns the exit status."""

    def body() -> int:
        import numpy as np

        from tfflow.cli.run_loading import load_run
        from tfflow.training import load_run_data, render_samples, write_png
        from tfflow.training.sampling import sample_labels

        trained = load_run(args.run_dir)
        classes = trained.model.num_classes
        if args.label is not None and classes is None:
            raise CommandLineError(
                f"--label needs a class-conditional run; {args.run_dir!r} was trained without "
                "--conditional."
            )
        if args.label is not None and args.label >= classes:
            raise CommandLineError(
                f"--label {args.label} is out of range: {args.run_dir!r} has {classes} classes "
                f"(0..{classes - 1})."
            )
        labels, _ = sample_labels(trained.model, args.num, args.label)
        num = args.num if labels is None else labels.shape[0]
        out = pathlib.Path(args.out) if args.out else trained.run_dir.path / "samples.png"
        if out.suffix.lower() not in (".png", ".npy"):
            raise CommandLineError(f"--out must end in .png or .npy; received {str(out)!r}.")
        temperature = (
            trained.config.sample_temperature if args.temperature is None else args.temperature
        )
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            if out.suffix.lower() == ".npy":
                samples = trained.model.sample(
                    num, temperature=temperature, seed=args.seed, labels=labels
                )
                np.save(out, np.asarray(samples).reshape((num,) + trained.data_shape))
                if labels is not None:
                    np.save(out.with_name(out.stem + "_labels.npy"), labels)
            else:
                reference = None
                if trained.kind == "tabular":
                    config = trained.config
                    reference = load_run_data(
                        config.dataset, data_dir=config.data_dir, seed=config.seed
                    ).test[:5000]
                picture = render_samples(
                    trained.model,
                    data_shape=trained.data_shape,
                    kind=trained.kind,
                    n_bits=trained.n_bits,
                    num=args.num,
                    temperature=temperature,
                    seed=args.seed,
                    reference=reference,
                    title=f"{trained.config.model} on {trained.config.dataset}",
                    label=args.label,
                )
                write_png(picture, out)
        except OSError as err:
            blocker = next((p for p in out.parents if p.exists() and not p.is_dir()), None)
            if blocker is not None:
                raise CommandLineError(
                    f"cannot write {str(out)!r}: {str(blocker)!r} is a file, not a folder."
                ) from err
            raise CommandLineError(
                f"cannot write {str(out)!r} ({err.strerror or err}); pass a writable --out."
            ) from err
        what = "samples" if trained.kind == "image" or out.suffix == ".npy" else "2-D samples"
        if classes is not None:
            what += f" of class {args.label}" if args.label is not None else " of every class"
        print(f"wrote {num} {what} (temperature {temperature:g}) to {out}", flush=True)
        return 0

    return run_reporting_errors(body)
