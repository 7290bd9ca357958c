"""`run_example`: the command line shared by the paper-configuration scripts in `examples/`.

Each script (`examples/glow_cifar10.py`, ...) only says which `tfflow train` options make its
model and data, for the paper's configuration and for `--smoke`; this runner parses the common
flags, trains through `tfflow train` (so every example gets a full, resumable run directory)
and writes `RUN_DIR/samples_T<t>.png` grids with `tfflow sample` (and, for class-conditional
models, `RUN_DIR/samples_T<t>_<class>.png` grids of one class each).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence

from tfflow.cli.main import main as tfflow

__all__ = ["run_example"]


def _parser(
    doc: str,
    name: str,
    *,
    epochs: int,
    smoke_epochs: int,
    data_dir_help: str,
    data_dir_default: str | None,
) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny, fast run (< 1 min on CPU)")
    parser.add_argument(
        "--data-dir",
        default=data_dir_default,
        help=data_dir_help + (" (default: %(default)s)" if data_dir_default else ""),
    )
    parser.add_argument("--epochs", type=int, help=f"default: {epochs} (smoke: {smoke_epochs})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--run-dir", help=f"default: runs/{name} (smoke: runs/{name}_smoke)")
    return parser


def run_example(
    doc: str,
    name: str,
    train_options: Callable[[argparse.Namespace], list[str]],
    *,
    temperatures: Sequence[float],
    epochs: int,
    smoke_epochs: int,
    data_dir_help: str,
    data_dir_default: str | None = None,
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
    class_names: Callable[[argparse.Namespace], Mapping[int, str]] | None = None,
    class_temperature: float = 0.7,
    argv: Sequence[str] | None = None,
) -> int:
    """Parses an example's flags, runs `tfflow train`, then one `tfflow sample` per temperature.

    Common flags: `--smoke` (a tiny run on offline data, under a minute on CPU),
    `--data-dir`, `--epochs` (default `epochs`, or `smoke_epochs` with `--smoke`), `--seed` and
    `--run-dir` (default `runs/<name>`, or `runs/<name>_smoke`). Rerunning resumes an
    unfinished run.

    Args:
        doc: The script's docstring; its first line describes the script in `--help`.
        name: The example's name, used for the default run directory.
        train_options: `train_options(args)` returns the `tfflow train` options that choose
            the model and data (everything but `--run-dir`, `--seed` and `--epochs`), for the
            paper's configuration or, when `args.smoke`, the smoke run.
        temperatures: Temperatures of the `RUN_DIR/samples_T<t>.png` grids written at the end.
        epochs: Default number of epochs of the paper's configuration.
        smoke_epochs: Default number of epochs with `--smoke`.
        data_dir_help: Help of `--data-dir`.
        data_dir_default: Default of `--data-dir`.
        add_arguments: Adds the script's own flags to the parser.
        class_names: For class-conditional examples, `class_names(args)` maps each label to
            a name; a grid of that class alone is written to
            `RUN_DIR/samples_T<class_temperature>_<name>.png`.
        class_temperature: Temperature of the one-class grids.
        argv: The arguments (default: `sys.argv[1:]`).

    Returns:
        The exit status: 0, or that of the first `tfflow` command that failed.
    """
    parser = _parser(
        doc,
        name,
        epochs=epochs,
        smoke_epochs=smoke_epochs,
        data_dir_help=data_dir_help,
        data_dir_default=data_dir_default,
    )
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args(argv)
    run_dir = args.run_dir or (f"runs/{name}_smoke" if args.smoke else f"runs/{name}")
    total = args.epochs or (smoke_epochs if args.smoke else epochs)
    train = ["train", "--run-dir", run_dir, "--seed", str(args.seed), "--epochs", str(total)]
    code = tfflow([*train, *train_options(args)])
    for temperature in temperatures:
        if code == 0:
            out = f"{run_dir}/samples_T{temperature:.1f}.png"
            code = tfflow(["sample", run_dir, "--temperature", str(temperature), "--out", out])
    for label, class_name in (class_names(args) if class_names else {}).items():
        if code == 0:
            out = f"{run_dir}/samples_T{class_temperature:.1f}_{class_name}.png"
            sample = ["sample", run_dir, "--temperature", str(class_temperature)]
            code = tfflow([*sample, "--label", str(label), "--out", out])
    return code
