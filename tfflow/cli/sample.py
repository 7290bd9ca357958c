"""`tfflow sample`: draw samples from a trained run into a picture (or a .npy file).

Besides plain samples it draws two latent-space pictures (`tfflow.latent`): a temperature
sweep (`--temperatures 0 0.5 0.7 1`: a row per temperature, the same noise in every row) and
the interpolation between two test examples (`--interpolate A B`: their latents encoded,
the path decoded in `--steps` steps).
"""

from __future__ import annotations

import argparse
import pathlib
from typing import TYPE_CHECKING, Any

from tfflow.cli.errors import CommandLineError, run_reporting_errors
from tfflow.cli.options import non_negative_float, non_negative_int, positive_int

if TYPE_CHECKING:
    from tfflow.training.loading import TrainedRun

# Samples per row of a temperature sweep when --num-samples is not given.
SWEEP_COLUMNS = 8
# Points on an interpolation path when --steps is not given.
INTERPOLATION_STEPS = 8

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Adds the `sample` subcommand to `subparsers`."""
    parser = subparsers.add_parser(
        "sample",
        help="draw samples from a trained run",
        description="Draw samples from a trained run: an image grid for image data, data / "
        "density / samples panels for 2-D data, or the raw samples when --out ends in .npy.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a finished run directory")
    parser.add_argument(
        "-n",
        "--num-samples",
        dest="num",
        type=positive_int,
        metavar="N",
        help=f"samples (default 64; with --temperatures, per temperature, default {SWEEP_COLUMNS})",
    )
    # The spelling of earlier releases, kept working but no longer listed.
    parser.add_argument("--num", dest="num", type=positive_int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--temperature",
        type=non_negative_float,
        metavar="T",
        help="scale of the latent noise (default: the run's, 0.7 for glow)",
    )
    parser.add_argument(
        "-o", "--out", metavar="PATH", help="a .png or .npy file (default: RUN_DIR/samples.png)"
    )
    parser.add_argument("--seed", type=non_negative_int, metavar="S", help="seed (default: random)")
    parser.add_argument(
        "--label",
        type=non_negative_int,
        metavar="K",
        help="class of the samples of a class-conditional run (default: every class, a class "
        "per block of grid rows)",
    )
    latent = parser.add_mutually_exclusive_group()
    latent.add_argument(
        "--temperatures",
        type=non_negative_float,
        nargs="+",
        metavar="T",
        help="a temperature sweep: a row of --num-samples samples per temperature, the same latent "
        "noise in every row (e.g. --temperatures 0 0.5 0.7 1)",
    )
    latent.add_argument(
        "--interpolate",
        type=non_negative_int,
        nargs=2,
        metavar=("A", "B"),
        help="decode the latent path between test examples A and B (indices into the run's "
        "test split); a class-conditional run uses --label, else the class of A",
    )
    parser.add_argument(
        "--steps",
        type=positive_int,
        metavar="N",
        help=f"points on the --interpolate path, ends included (default {INTERPOLATION_STEPS})",
    )
    parser.add_argument(
        "--interpolation",
        choices=("linear", "spherical"),
        default="linear",
        help="the latent path of --interpolate: a straight line (default) or the great circle",
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

        if args.temperatures is not None and args.temperature is not None:
            raise CommandLineError("--temperature and --temperatures cannot be used together.")
        if args.interpolate is not None and args.temperature is not None:
            raise CommandLineError("--temperature does not apply to --interpolate.")
        if args.steps is not None and args.interpolate is None:
            raise CommandLineError("--steps needs --interpolate A B.")
        if args.steps is not None and args.steps < 2:
            raise CommandLineError(f"--steps must be at least 2; received {args.steps}.")
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
        out = pathlib.Path(args.out) if args.out else trained.run_dir.path / "samples.png"
        if out.suffix.lower() not in (".png", ".npy"):
            raise CommandLineError(f"--out must end in .png or .npy; received {str(out)!r}.")
        if args.temperatures is not None or args.interpolate is not None:
            if trained.kind != "image" and out.suffix.lower() == ".png":
                raise CommandLineError(
                    f"a picture of --temperatures or --interpolate needs an image run; "
                    f"{args.run_dir!r} was trained on tabular data: pass --out PATH.npy."
                )
            return _write_latent_picture(args, trained, out)
        num = 64 if args.num is None else args.num
        labels, _ = sample_labels(trained.model, num, args.label)
        num = num if labels is None else labels.shape[0]
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
                    num=num,
                    temperature=temperature,
                    seed=args.seed,
                    reference=reference,
                    title=f"{trained.config.model} on {trained.config.dataset}",
                    label=args.label,
                )
                write_png(picture, out)
        except OSError as err:
            raise _write_error(out, err) from err
        what = "samples" if trained.kind == "image" or out.suffix == ".npy" else "2-D samples"
        if classes is not None:
            what += f" of class {args.label}" if args.label is not None else " of every class"
        print(f"wrote {num} {what} (temperature {temperature:g}) to {out}", flush=True)
        return 0

    return run_reporting_errors(body)


def _write_error(out: pathlib.Path, err: OSError) -> CommandLineError:
    blocker = next((p for p in out.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        return CommandLineError(
            f"cannot write {str(out)!r}: {str(blocker)!r} is a file, not a folder."
        )
    return CommandLineError(
        f"cannot write {str(out)!r} ({err.strerror or err}); pass a writable --out."
    )


def _write_latent_picture(args: argparse.Namespace, trained: TrainedRun, out: pathlib.Path) -> int:
    """Writes a temperature sweep or an interpolation path as a grid (.png) or array (.npy)."""
    import numpy as np

    from tfflow.data import image_grid
    from tfflow.latent import interpolate, temperature_sweep
    from tfflow.training import load_run_data, timed_step, write_png
    from tfflow.training.sampling import MIN_TILE_PIXELS

    model, shape = trained.model, trained.data_shape
    classes = model.num_classes
    if args.temperatures is not None:
        columns = SWEEP_COLUMNS if args.num is None else args.num
        label = args.label
        if classes is not None and label is None:
            raise CommandLineError(
                "--temperatures on a class-conditional run needs --label K (the class of "
                "every sample)."
            )
        images = temperature_sweep(
            model, args.temperatures, columns, seed=args.seed or 0, labels=label
        )
        images = np.asarray(images).reshape((len(args.temperatures), columns) + shape)
        temps = ", ".join(f"{t:g}" for t in args.temperatures)
        what = f"{len(args.temperatures)} x {columns} samples at temperatures {temps}"
    else:
        config = trained.config
        with timed_step(f"loading dataset {config.dataset!r}") as step:
            arrays = load_run_data(
                config.dataset,
                data_dir=config.data_dir,
                n_bits=trained.n_bits,
                seed=config.seed,
                label_attribute=config.label_attribute,
                progress=None,
            )
            step["detail"] = f"{arrays.test.shape[0]:,} test examples"
        count = arrays.test.shape[0]
        a, b = args.interpolate
        for index in (a, b):
            if index >= count:
                raise CommandLineError(
                    f"--interpolate {index} is out of range: the test split of "
                    f"{config.dataset!r} has {count} examples (0..{count - 1})."
                )
        label = args.label
        if classes is not None and label is None:
            label = int(arrays.test_labels[a])
        steps = INTERPOLATION_STEPS if args.steps is None else args.steps
        model_shape = tuple(model.data_shape)
        pair = arrays.test[[a, b]].reshape((2,) + model_shape)
        images = interpolate(
            model, pair[0], pair[1], steps, method=args.interpolation, labels=label
        )
        images = np.asarray(images).reshape((1, steps) + shape)
        what = (
            f"the {args.interpolation} interpolation between test examples {a} and {b} "
            f"in {steps} steps"
        )
    if classes is not None:
        what += f" of class {label}"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".npy":
            np.save(out, images if args.temperatures is not None else images[0])
        else:
            rows, columns = images.shape[:2]
            grid = image_grid(
                images.reshape((rows * columns,) + shape), columns, n_bits=trained.n_bits
            )
            zoom = max(1, MIN_TILE_PIXELS // max(shape[0], shape[1]))
            write_png(np.repeat(np.repeat(grid, zoom, axis=0), zoom, axis=1), out)
    except OSError as err:
        raise _write_error(out, err) from err
    print(f"wrote {what} to {out}", flush=True)
    return 0
