"""Building a flow model from a `TrainConfig` and the shape of its data."""

from __future__ import annotations

import dataclasses

from tfflow.models import NICE, FlowModel, Glow, RealNVP
from tfflow.training.config import TrainConfig
from tfflow.training.errors import RunConfigurationError

__all__ = ["MODEL_DEFAULTS", "build_model", "model_input_shape", "resolve_config"]

# Per-model defaults of the size options (`None` in `TrainConfig`), keyed by data kind.
# Glow's are sized for the one-minute CPU run on 8x8 digits (the paper uses L=3, K=32,
# 512 channels on CIFAR-10); NICE's are the paper's MNIST model; RealNVP's are a small
# version of the paper's (8 residual blocks of 64 channels on CIFAR-10).
MODEL_DEFAULTS: dict[tuple[str, str], dict[str, int]] = {
    ("glow", "image"): {"levels": 2, "steps_per_level": 4, "hidden": 64},
    ("realnvp", "image"): {"levels": 2, "hidden": 64, "residual_blocks": 4},
    ("realnvp", "tabular"): {"coupling_layers": 8, "hidden": 64, "hidden_layers": 2},
    ("nice", "image"): {"coupling_layers": 4, "hidden": 1000, "hidden_layers": 5},
    ("nice", "tabular"): {"coupling_layers": 4, "hidden": 1000, "hidden_layers": 5},
}
_SIZE_FIELDS = (
    "levels",
    "steps_per_level",
    "hidden",
    "hidden_layers",
    "coupling_layers",
    "residual_blocks",
)


def _option(field: str) -> str:
    return "--" + field.replace("_", "-")


def resolve_config(config: TrainConfig, kind: str) -> TrainConfig:
    """Fills the model-size fields left `None` with `MODEL_DEFAULTS` for the data `kind`.

    Args:
        config: The run's settings.
        kind: `"image"` or `"tabular"` (`DatasetArrays.kind`).

    Returns:
        A copy of `config` with every size option of the model set.

    Raises:
        RunConfigurationError: If the model cannot take data of this kind (Glow needs
            images), or a size option is given that this model does not use.
    """
    key = (config.model, kind)
    if key not in MODEL_DEFAULTS:
        raise RunConfigurationError(
            f"--model {config.model} needs image data, but dataset {config.dataset!r} is "
            f"{kind}; use --model realnvp or --model nice for tabular data."
        )
    defaults = MODEL_DEFAULTS[key]
    unused = [
        _option(field)
        for field in _SIZE_FIELDS
        if field not in defaults and getattr(config, field) is not None
    ]
    if unused:
        raise RunConfigurationError(
            f"{', '.join(unused)} does not apply to --model {config.model} on {kind} data; "
            f"its size options are {', '.join(_option(field) for field in defaults)}."
        )
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


def build_model(config: TrainConfig, data_shape: tuple[int, ...], kind: str) -> FlowModel:
    """Builds the flow described by a resolved `config` for data of `data_shape`.

    Args:
        config: Settings passed through `resolve_config`.
        data_shape: Shape of one example, e.g. `(8, 8, 1)` or `(2,)`.
        kind: `"image"` (pixel values in `[0, 2**n_bits)`) or `"tabular"`.

    Returns:
        The uncompiled model.

    Raises:
        RunConfigurationError: If the model rejects the shape or sizes (e.g. an image side not
            divisible by `2**levels`); the message names the options to change.
    """
    config = resolve_config(config, kind)
    shape = model_input_shape(config.model, data_shape)
    image = kind == "image"
    try:
        if config.model == "glow":
            return Glow(
                shape,
                levels=config.levels,
                steps_per_level=config.steps_per_level,
                hidden_channels=config.hidden,
                n_bits=config.n_bits,
                seed=config.seed,
                learning_rate=config.lr,
            )
        if config.model == "realnvp" and image:
            return RealNVP(
                shape,
                num_scales=config.levels,
                hidden_channels=config.hidden,
                residual_blocks=config.residual_blocks,
                n_bits=config.n_bits,
                learning_rate=config.lr,
            )
        if config.model == "realnvp":
            return RealNVP(
                shape,
                coupling_layers=config.coupling_layers,
                hidden_units=config.hidden,
                hidden_layers=config.hidden_layers,
                learning_rate=config.lr,
            )
        return NICE(
            shape,
            coupling_layers=config.coupling_layers,
            hidden_layers=config.hidden_layers,
            hidden_units=config.hidden,
            pixels=image,
            n_bits=config.n_bits,
            learning_rate=config.lr,
        )
    except ValueError as err:
        message = " ".join(str(err).split())
        hint = " Use fewer --levels or another dataset." if image and "divisible" in message else ""
        raise RunConfigurationError(
            f"cannot build {config.model} for dataset {config.dataset!r} with examples of shape "
            f"{tuple(data_shape)}: {message}{hint}"
        ) from err
