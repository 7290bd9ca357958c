"""`tfflow train`: train a flow into a resumable run directory."""

from __future__ import annotations

import argparse
from typing import Any

from tfflow.cli.config_file import ConfigFileAction
from tfflow.cli.errors import run_reporting_errors
from tfflow.cli.options import (
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    spline_bins,
    unit_interval_float,
)
from tfflow.training.builders import MODEL_SPECS, SIZE_FIELDS, option_uses
from tfflow.training.config import (
    COUPLINGS,
    MIXED_PRECISION_POLICIES,
    MODEL_NAMES,
    OPTIMIZERS,
    PERMUTATIONS,
    STRATEGIES,
    TrainConfig,
)
from tfflow.training.run_dir import default_run_dir

__all__ = ["add_parser", "config_from_args", "run"]

_DEFAULTS = TrainConfig()
DESCRIPTION = """\
Train a flow by maximum likelihood and write a run directory: config.json, a resumable
checkpoint (backup/), metrics.csv, TensorBoard logs, samples/epoch_XXX.png,
training_curve.png, model.keras, evaluation.json and a SavedModel in export/<version>/.
Rerunning the same command resumes from the last completed epoch.

`--config FILE` (TOML or JSON) sets options by name, e.g. `epochs = 10` or
`"warmup_steps": 0`; options on the command line override the file.

With no options, trains a small Glow on the scikit-learn 8x8 digits (offline) in about a
minute on 2 CPU cores and writes runs/glow-digits."""


_DATASETS_HELP = (
    "digits, digits_flat, moons, circles, checkerboard, 8gaussians, spirals, mnist, "
    "fashion_mnist, cifar10, celeb_a, imagenet_resized/32x32|64x64, or a path to an IDX folder, "
    ".npz/.npy file, image folder, or TFRecord files (a folder or a quoted pattern such as "
    "'data/*.tfrecord', see tfflow.data.write_tfrecords); TFDS names, image folders and "
    "TFRecords are streamed from disk, never loaded whole"
)
# Metavars of the model-size options; which models each configures comes from the table that
# builds the models (`tfflow.training.builders.MODEL_SPECS`).
_SIZE_METAVARS = {
    "levels": "L",
    "steps_per_level": "K",
    "hidden": "H",
    "hidden_layers": "N",
    "coupling_layers": "N",
    "residual_blocks": "N",
}
_SIZE_OPTIONS = tuple(
    (field, {"type": positive_int, "metavar": _SIZE_METAVARS[field]}, option_uses(field))
    for field in SIZE_FIELDS
)


def _spoken(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def _model_default(field: str) -> str:
    """`default: ...` of a model option or recipe field, from the models' own defaults."""
    defaults: dict[str, str] = {}
    for (model, _), spec in MODEL_SPECS.items():
        if field in spec.options:
            defaults.setdefault(_spoken(spec.option_defaults()[field]), model)
        elif field in spec.model_class.optimizer_recipe:
            defaults.setdefault(_spoken(spec.model_class.optimizer_recipe[field]), model)
    if len(set(defaults)) == 1:
        return f"default: {next(iter(defaults))}"
    by_model: dict[str, list[str]] = {}
    for (model, _), spec in MODEL_SPECS.items():
        if field in spec.options:
            value = _spoken(spec.option_defaults()[field])
        else:
            value = _spoken(spec.model_class.optimizer_recipe.get(field))
        if model not in by_model.get(value, []):
            by_model.setdefault(value, []).append(model)
    return "default: " + ", ".join(f"{v} for {' and '.join(m)}" for v, m in by_model.items())


def _model_option_help(field: str, text: str) -> str:
    return f"{text}; {option_uses(field)} ({_model_default(field)})"


_BOOLEAN = argparse.BooleanOptionalAction
_COUNT = {"type": positive_int, "metavar": "N"}
# (group title, ((TrainConfig field, add_argument keywords, help), ...)).
_OPTIONS = (
    ("model and data", (
        ("model", {"choices": MODEL_NAMES}, ""),
        ("dataset", {"metavar": "NAME"}, _DATASETS_HELP),
        ("data_dir", {"metavar": "DIR"}, "TFDS data folder (never downloads)"),
        ("n_bits", _COUNT, "bits per pixel, 1-8"),
        ("num_examples", _COUNT, "use at most N training examples"),
        ("flip", {"action": "store_true"}, "random left-right flips of images"),
        ("conditional", {"action": "store_true"},
         "class-conditional model (a learned prior per class) trained on the dataset's labels"),
        ("label_attribute", {"metavar": "NAME"},
         "with --conditional on celeb_a: the attribute used as the 0/1 label, e.g. Smiling or "
         "Male (see tfflow.data.CELEBA_ATTRIBUTES)"),
    )),
    ("model size (unset: per-model defaults, see tfflow.training.MODEL_DEFAULTS)", _SIZE_OPTIONS),
    ("model options (unset: the model's defaults)", (
        ("coupling", {"choices": COUPLINGS}, _model_option_help("coupling", "coupling type")),
        ("num_bins", {"type": spline_bins, "metavar": "K"}, _model_option_help(
            "num_bins", "bins of each rational-quadratic spline (--coupling spline)")),
        ("permutation", {"choices": PERMUTATIONS}, _model_option_help(
            "permutation",
            "channel mixing of each flow step: a learned invertible 1x1 convolution, a fixed "
            "random shuffle or the reversal (openai/glow's --flow_permutation 2, 1, 0)")),
        ("lu_decomposed", {"action": _BOOLEAN}, _model_option_help(
            "lu_decomposed",
            "--permutation conv1x1: LU-parameterised invertible 1x1 convolution, or a plain one "
            "with --no-lu-decomposed")),
        ("learn_prior", {"action": _BOOLEAN}, _model_option_help(
            "learn_prior", "learned prior of each factored-out half (openai/glow's split prior)")),
        ("learn_top_prior", {"action": _BOOLEAN}, _model_option_help(
            "learn_top_prior",
            "learned mean and log-scale of the top latent's prior, starting at the standard "
            "normal (openai/glow's --learntop)")),
        ("recompute", {"action": _BOOLEAN}, _model_option_help(
            "recompute", "recompute activations in the backward pass, trading time for memory")),
    )),
    ("optimizer (unset: the model's recipe, see FlowModel.optimizer_recipe)", (
        ("optimizer", {"choices": OPTIMIZERS},
         f"Keras optimizer; adam is built as tfflow.optimizers.FusedAdam "
         f"({_model_default('optimizer')})"),
        ("warmup_steps", {"type": non_negative_int, "metavar": "N"},
         f"linear learning-rate warmup steps ({_model_default('warmup_steps')})"),
        ("clipnorm", {"type": positive_float, "metavar": "C"},
         "clip the global gradient norm to C (default: off)"),
        ("ema_momentum", {"type": unit_interval_float, "metavar": "M"},
         "exponential moving average of the weights with momentum M, e.g. 0.999, swapped "
         "in at the end (default: off)"),
        ("init_examples", _COUNT,
         "training examples of the data-dependent (ActNorm) initialisation"),
    )),
    ("training", (
        ("run_dir", {"metavar": "DIR"}, "run directory (default: runs/<model>-<dataset>)"),
        ("epochs", _COUNT, "total epochs; a resumed run continues up to N"),
        ("batch_size", {"type": positive_int, "metavar": "B"}, ""),
        ("lr", {"type": positive_float, "metavar": "LR"}, "learning rate (after warmup)"),
        ("steps_per_epoch", _COUNT,
         "training batches per epoch (default: one pass over the data)"),
        ("seed", {"type": non_negative_int, "metavar": "S"}, ""),
        ("jit", {"action": _BOOLEAN},
         "XLA (default: on a GPU; on CPU for vector models on non-AMD CPUs only)"),
        ("mixed_precision", {"choices": tuple(MIXED_PRECISION_POLICIES)}, ""),
        ("strategy", {"choices": STRATEGIES},
         "tf.distribute strategy; multiworker reads TF_CONFIG"),
        ("temperature", {"type": non_negative_float, "metavar": "T"},
         "temperature of the sample grids (default: 0.7 for glow, else 1.0)"),
        ("num_samples", _COUNT, "samples per grid"),
        ("export", {"action": _BOOLEAN},
         "export a SavedModel to RUN_DIR/export at the end (default: on)"),
        ("verbose", {"type": int, "choices": (0, 1, 2)},
         "Keras progress: 0 none, 1 bar, 2 a line per epoch"),
    )),
)  # fmt: skip


# Short flags of the common options, spelled as in `tfflow sample` (-n, -o) and most tools (-v).
_SHORT_FLAGS = {"num_samples": ("-n",), "run_dir": ("-o",), "verbose": ("-v",)}


def _add(group: argparse.ArgumentParser, field: str, help: str, **kwargs: Any) -> None:
    """Adds the option `--field-name` of `TrainConfig.field`.

    Options left out are left out of the parsed namespace (`argparse.SUPPRESS`), so that
    `config_from_args` can tell them from options given: those override `--config`, which
    overrides `TrainConfig`'s defaults. `(default: ...)` is appended to `help` unless the
    field defaults to `None` or a boolean, or `help` already names its default.
    """
    default = getattr(_DEFAULTS, field)
    if default is not None and not isinstance(default, bool) and "default:" not in help:
        help = f"{help} (default: {default})" if help else f"default: {default}"
    flags = [*_SHORT_FLAGS.get(field, ()), "--" + field.replace("_", "-")]
    group.add_argument(*flags, default=argparse.SUPPRESS, help=help, **kwargs)


def _option_table() -> dict[str, dict[str, Any]]:
    """`TrainConfig` field -> its `add_argument` keywords, for checking config-file values."""
    return {field: kwargs for _, options in _OPTIONS for field, kwargs, _ in options}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Adds the `train` subcommand to `subparsers`."""
    parser = subparsers.add_parser(
        "train",
        help="train a flow into a run directory",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config",
        dest="config_file",
        metavar="FILE",
        action=ConfigFileAction,
        options=_option_table(),
        defaults=_DEFAULTS.to_dict(),
        help="a TOML (.toml) or JSON file of options by name (`epochs = 10`, `warmup_steps = "
        "0`, ...); options given on the command line override it",
    )
    for title, options in _OPTIONS:
        group = parser.add_argument_group(title)
        for field, kwargs, help in options:
            _add(group, field, help, **kwargs)
    parser.set_defaults(handler=run)
    return parser


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The `TrainConfig` of parsed `train` arguments: `TrainConfig`'s defaults, overridden
    by the `--config` file's values, overridden by the options given."""
    fields = TrainConfig.__dataclass_fields__
    values = dict(getattr(args, "config_file", None) or {})
    values.update({name: getattr(args, name) for name in fields if hasattr(args, name)})
    return TrainConfig(**values)


def run(args: argparse.Namespace) -> int:
    """Runs `tfflow train`; returns the exit status."""
    from tfflow.training.datasets import check_conditioning
    from tfflow.training.trainer import train

    config = config_from_args(args)
    run_dir = config.run_dir or str(default_run_dir(config.model, config.dataset))

    def body() -> int:
        check_conditioning(conditional=config.conditional, label_attribute=config.label_attribute)
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
