"""Building a flow model from a `TrainConfig` and the shape of its data."""

from __future__ import annotations

import dataclasses
import inspect

from tfflow.models import NICE, FlowModel, Glow, RealNVP
from tfflow.training.config import TrainConfig
from tfflow.training.errors import RunConfigurationError

__all__ = [
    "MODEL_DEFAULTS",
    "MODEL_OPTION_FIELDS",
    "MODEL_SPECS",
    "SIZE_FIELDS",
    "ModelSpec",
    "build_model",
    "model_input_shape",
    "option_uses",
    "resolve_config",
    "size_option_uses",
]

# The model-size fields of `TrainConfig` (command-line options `--levels`, ...), in the order
# the command line lists them.
SIZE_FIELDS: tuple[str, ...] = (
    "levels",
    "steps_per_level",
    "hidden",
    "hidden_layers",
    "coupling_layers",
    "residual_blocks",
)
# The fields of `TrainConfig` that choose a model's architecture beyond its size (`--coupling`,
# ...); unset, they take the model constructor's default.
MODEL_OPTION_FIELDS: tuple[str, ...] = (
    "coupling",
    "num_bins",
    "lu_decomposed",
    "learn_prior",
    "permutation",
    "learn_top_prior",
    "recompute",
)


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """How the `TrainConfig` of a run becomes one model's constructor arguments.

    Attributes:
        model_class: The `FlowModel` subclass.
        sizes: Size field of `TrainConfig` -> (constructor argument, default when unset).
        settings: Other `TrainConfig` fields passed on -> constructor argument.
        fixed: Constructor arguments that do not depend on the config.
        options: Model-option field of `TrainConfig` (`MODEL_OPTION_FIELDS`) -> constructor
            argument; unset, the constructor's default applies.
    """

    model_class: type[FlowModel]
    sizes: dict[str, tuple[str, int]]
    settings: dict[str, str]
    fixed: dict[str, object] = dataclasses.field(default_factory=dict)
    options: dict[str, str] = dataclasses.field(default_factory=dict)

    def option_defaults(self) -> dict[str, object]:
        """Model-option field -> the model constructor's default for it."""
        parameters = inspect.signature(self.model_class.__init__).parameters
        return {field: parameters[argument].default for field, argument in self.options.items()}


_NICE_SIZES = {
    "coupling_layers": ("coupling_layers", 4),
    "hidden": ("hidden_units", 1000),
    "hidden_layers": ("hidden_layers", 5),
}
# (model, data kind) -> its `ModelSpec`: the one table from command-line options to model
# arguments. The size defaults of Glow are sized for the one-minute CPU run on 8x8 digits
# (the paper uses L=3, K=32, 512 channels on CIFAR-10); NICE's are the paper's MNIST model;
# RealNVP's are a small version of the paper's (8 residual blocks of 64 channels on CIFAR-10).
MODEL_SPECS: dict[tuple[str, str], ModelSpec] = {
    ("glow", "image"): ModelSpec(
        Glow,
        sizes={
            "levels": ("levels", 2),
            "steps_per_level": ("steps_per_level", 4),
            "hidden": ("hidden_channels", 64),
        },
        settings={"n_bits": "n_bits", "seed": "seed", "lr": "learning_rate"},
        options={
            "coupling": "coupling",
            "num_bins": "num_bins",
            "lu_decomposed": "lu_decomposed",
            "learn_prior": "learn_prior",
            "permutation": "permutation",
            "learn_top_prior": "learn_top_prior",
            "recompute": "recompute",
        },
    ),
    ("realnvp", "image"): ModelSpec(
        RealNVP,
        sizes={
            "levels": ("num_scales", 2),
            "hidden": ("hidden_channels", 64),
            "residual_blocks": ("residual_blocks", 4),
        },
        settings={"n_bits": "n_bits", "lr": "learning_rate"},
        options={"coupling": "coupling", "num_bins": "num_bins", "recompute": "recompute"},
    ),
    ("realnvp", "tabular"): ModelSpec(
        RealNVP,
        sizes={
            "coupling_layers": ("coupling_layers", 8),
            "hidden": ("hidden_units", 64),
            "hidden_layers": ("hidden_layers", 2),
        },
        settings={"lr": "learning_rate"},
        options={"coupling": "coupling", "num_bins": "num_bins"},
    ),
    ("nice", "image"): ModelSpec(
        NICE,
        sizes=_NICE_SIZES,
        settings={"n_bits": "n_bits", "lr": "learning_rate"},
        fixed={"pixels": True},
        options={"coupling": "coupling", "num_bins": "num_bins"},
    ),
    ("nice", "tabular"): ModelSpec(
        NICE,
        sizes=_NICE_SIZES,
        settings={"n_bits": "n_bits", "lr": "learning_rate"},
        fixed={"pixels": False},
        options={"coupling": "coupling", "num_bins": "num_bins"},
    ),
}
# Per-model defaults of the size options (`None` in `TrainConfig`), keyed by data kind.
MODEL_DEFAULTS: dict[tuple[str, str], dict[str, int]] = {
    key: {field: default for field, (_, default) in spec.sizes.items()}
    for key, spec in MODEL_SPECS.items()
}


def option_uses(field: str) -> str:
    """Which models a size or model-option field configures, and as which argument, for `--help`.

    A model's kind of data is named where the field does not apply to all the kinds it takes.

    Example:
        >>> option_uses("levels")
        'glow levels, realnvp num_scales (images)'
        >>> option_uses("recompute")
        'glow, realnvp (images)'
    """
    kinds_of: dict[str, set[str]] = {}
    uses: dict[str, set[str]] = {}
    for (model, kind), spec in MODEL_SPECS.items():
        kinds_of.setdefault(model, set()).add(kind)
        if field in spec.sizes:
            use = f"{model} {spec.sizes[field][0]}"
        elif field in spec.options:  # named like the argument: the model alone says it
            argument = spec.options[field]
            use = model if argument == field else f"{model} {argument}"
        else:
            continue
        uses.setdefault(use, set()).add(kind)
    words = []
    for use, kinds in uses.items():
        partial = kinds != kinds_of[use.split()[0]]
        words.append(f"{use} ({'images' if 'image' in kinds else 'vectors'})" if partial else use)
    return ", ".join(words)


size_option_uses = option_uses


def _option(field: str) -> str:
    return "--" + field.replace("_", "-")


def resolve_config(config: TrainConfig, kind: str) -> TrainConfig:
    """Fills the fields left `None` with the model's defaults for the data `kind`.

    Size fields take `MODEL_DEFAULTS`, model options (`MODEL_OPTION_FIELDS`) the model
    constructor's defaults, `optimizer` and `warmup_steps` the model's `optimizer_recipe`.
    A config saved before an option existed resolves to the option's default, so its run
    directory resumes.

    Args:
        config: The run's settings.
        kind: `"image"` or `"tabular"` (`DatasetArrays.kind`).

    Returns:
        A copy of `config` with every size option, model option and recipe option set.

    Raises:
        RunConfigurationError: If the model cannot take data of this kind (Glow needs
            images), or a size or model option is given that this model does not use.
    """
    key = (config.model, kind)
    if key not in MODEL_SPECS:
        raise RunConfigurationError(
            f"--model {config.model} needs image data, but dataset {config.dataset!r} is "
            f"{kind}; use --model realnvp or --model nice for tabular data."
        )
    spec = MODEL_SPECS[key]
    for fields, defaults, what in (
        (SIZE_FIELDS, MODEL_DEFAULTS[key], "size options"),
        (MODEL_OPTION_FIELDS, spec.option_defaults(), "model options"),
    ):
        unused = [
            _option(field)
            for field in fields
            if field not in defaults and getattr(config, field) is not None
        ]
        if unused:
            known = ", ".join(_option(field) for field in defaults) or "none"
            raise RunConfigurationError(
                f"{', '.join(unused)} does not apply to --model {config.model} on {kind} "
                f"data; its {what} are: {known}."
            )
    recipe = spec.model_class.optimizer_recipe
    defaults = {
        **MODEL_DEFAULTS[key],
        **spec.option_defaults(),
        "optimizer": recipe["optimizer"],
        "warmup_steps": recipe["warmup_steps"],
    }
    values = {
        field: default if getattr(config, field) is None else getattr(config, field)
        for field, default in defaults.items()
    }
    return dataclasses.replace(config, **values)


def model_input_shape(model_name: str, data_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The model's `input_shape` for data of `data_shape`: NICE flattens images."""
    if model_name == "nice" and len(data_shape) > 1:
        size = 1
        for dim in data_shape:
            size *= int(dim)
        return (size,)
    return tuple(int(dim) for dim in data_shape)


def build_model(
    config: TrainConfig,
    data_shape: tuple[int, ...],
    kind: str,
    *,
    num_classes: int | None = None,
) -> FlowModel:
    """Builds the flow described by a resolved `config` for data of `data_shape`.

    Args:
        config: Settings passed through `resolve_config`.
        data_shape: Shape of one example, e.g. `(8, 8, 1)` or `(2,)`.
        kind: `"image"` (pixel values in `[0, 2**n_bits)`) or `"tabular"`.
        num_classes: Makes the model class-conditional on this many classes (see
            `tfflow.training.datasets.conditioning_classes`); `None`: unconditional.

    Returns:
        The uncompiled model.

    Raises:
        RunConfigurationError: If the model rejects the shape or sizes (e.g. an image side not
            divisible by `2**levels`); the message names the options to change.
    """
    config = resolve_config(config, kind)
    shape = model_input_shape(config.model, data_shape)
    spec = MODEL_SPECS[(config.model, kind)]
    kwargs = {argument: getattr(config, field) for field, (argument, _) in spec.sizes.items()}
    kwargs.update({argument: getattr(config, field) for field, argument in spec.settings.items()})
    kwargs.update({argument: getattr(config, field) for field, argument in spec.options.items()})
    kwargs.update(spec.fixed)
    if num_classes is not None:
        kwargs["num_classes"] = num_classes
    image = kind == "image"
    try:
        return spec.model_class(shape, **kwargs)
    except ValueError as err:
        message = " ".join(str(err).split())
        hint = " Use fewer --levels or another dataset." if image and "divisible" in message else ""
        raise RunConfigurationError(
            f"cannot build {config.model} for dataset {config.dataset!r} with examples of shape "
            f"{tuple(data_shape)}: {message}{hint}"
        ) from err
