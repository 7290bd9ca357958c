"""`TrainConfig`: every setting of one training run, as the command line spells it."""

from __future__ import annotations

import dataclasses
import math
import shlex
from typing import Any

from tfflow.models.couplings import COUPLINGS
from tfflow.models.permutations import PERMUTATIONS

__all__ = [
    "COUPLINGS",
    "MIXED_PRECISION_POLICIES",
    "MODEL_NAMES",
    "OPTIMIZERS",
    "PERMUTATIONS",
    "STRATEGIES",
    "TrainConfig",
]

MODEL_NAMES: tuple[str, ...] = ("nice", "realnvp", "glow")
# Keras optimizer names `FlowModel.compile(optimizer=...)` builds with the model's learning
# rate and warmup (`"adam"`: `tfflow.optimizers.FusedAdam`).
OPTIMIZERS: tuple[str, ...] = (
    "adam",
    "adamax",
    "adamw",
    "nadam",
    "lion",
    "rmsprop",
    "sgd",
    "adagrad",
    "adadelta",
    "adafactor",
    "ftrl",
)
STRATEGIES: tuple[str, ...] = ("default", "mirrored", "multiworker")
# `--mixed-precision` choice -> Keras dtype policy.
MIXED_PRECISION_POLICIES: dict[str, str] = {
    "off": "float32",
    "float16": "mixed_float16",
    "bfloat16": "mixed_bfloat16",
}
# Settings that define the model, its data and its optimizer: a run directory may only be
# resumed with the same values (the checkpoint restores Adam's learning rate, so a new `lr`
# would be silently ignored, and another optimizer or architecture would not match the
# checkpoint's variables). The others (epochs, progress, export, init_examples, ...) may change
# between invocations.
_IDENTITY_FIELDS = (
    "model",
    "dataset",
    "lr",
    "n_bits",
    "levels",
    "steps_per_level",
    "hidden",
    "hidden_layers",
    "coupling_layers",
    "residual_blocks",
    "num_examples",
    "seed",
    "conditional",
    "label_attribute",
    "coupling",
    "num_bins",
    "lu_decomposed",
    "learn_prior",
    "permutation",
    "learn_top_prior",
    "recompute",
    "optimizer",
    "warmup_steps",
    "clipnorm",
    "ema_momentum",
)


@dataclasses.dataclass
class TrainConfig:
    """Settings of `tfflow train`, one field per command-line option.

    Model-size fields left as `None` take the per-model defaults of
    `tfflow.training.builders.MODEL_DEFAULTS`, model options (`coupling`, ...) the model
    constructor's defaults and `optimizer`/`warmup_steps` the model's `optimizer_recipe`
    (`tfflow.training.builders.resolve_config`); the resolved values are recorded in the run
    directory's `config.json`.

    Attributes:
        model: `"nice"`, `"realnvp"` or `"glow"`.
        dataset: A name of `tfflow.data.KNOWN_DATASETS` or a local path.
        run_dir: Run directory; `None` means `runs/<model>-<dataset>`.
        data_dir: TFDS data folder for the TFDS names.
        conditional: Train a class-conditional model (a learned prior per class,
            `num_classes` of the data) on the dataset's labels.
        label_attribute: The CelebA attribute used as the 0/1 class label of `celeb_a` (e.g.
            `"Smiling"`); needs `conditional`.
        epochs: Total number of epochs (a resumed run continues up to this many).
        batch_size: Examples per training batch (global batch under a distribution strategy).
        lr: Adam learning rate.
        levels: Glow levels L, or RealNVP scales for images.
        steps_per_level: Glow flow steps K per level.
        hidden: Width of the coupling networks (Glow/RealNVP channels, MLP units).
        hidden_layers: Hidden layers of the MLP conditioners (NICE, RealNVP on vectors).
        coupling_layers: Number of couplings (NICE, RealNVP on vectors).
        residual_blocks: Residual blocks per ResNet conditioner (RealNVP on images).
        coupling: Coupling type of the models that take one (`COUPLINGS`; Glow's `coupling`).
        num_bins: Bins of each spline of `coupling="spline"` (`SplineCoupling`).
        lu_decomposed: Glow's `permutation="conv1x1"`: an LU-parameterised invertible 1x1
            convolution (`True`) or a plain one (`False`).
        learn_prior: Glow's learned prior of each factored-out half (else standard normal).
        permutation: Glow's channel mixing of each step (`PERMUTATIONS`): `"conv1x1"`,
            `"shuffle"` or `"reverse"` (openai/glow's `--flow_permutation` 2, 1, 0).
        learn_top_prior: Glow's learned prior of the top latent (openai/glow's `--learntop`).
        recompute: Recompute activations in the backward pass (Glow, RealNVP on images).
        optimizer: A Keras optimizer name (`OPTIMIZERS`); `None` means the model's recipe
            (`optimizer_recipe`, Adam for all three models).
        warmup_steps: Linear learning-rate warmup steps; `None` means the model's recipe.
        clipnorm: Clip the global gradient norm to this value (`None`: no clipping).
        ema_momentum: Keep an exponential moving average of the weights with this momentum,
            swapped into the model at the end of training (`None`: no average).
        init_examples: Training examples of the data-dependent (ActNorm) initialisation.
        jit: XLA compilation (`compile(jit_compile=...)`); `None` means the model's default:
            on when a GPU is visible; on CPU, on for vector models (NICE, RealNVP on vectors)
            except on AMD CPUs, and off for image models
            (see `tfflow.models.recipe.default_jit_compile`).
        mixed_precision: `"off"`, `"float16"` or `"bfloat16"`.
        strategy: `"default"`, `"mirrored"` or `"multiworker"`.
        seed: Seed of weights, data order, dequantization noise and sample grids.
        n_bits: Bits per pixel of image data (Glow uses 5 on CelebA-HQ).
        temperature: Sampling temperature of the sample grids; `None` means 0.7 for Glow and
            1.0 otherwise.
        steps_per_epoch: Limit on the training batches per epoch (`None`: the whole split).
        num_examples: Limit on the training examples loaded (`None`: all).
        num_samples: Samples per sample grid.
        flip: Random left-right flips of training images.
        export: Whether to export a SavedModel into `RUN_DIR/export/` at the end.
        verbose: Keras progress output: 0 silent, 1 progress bar, 2 one line per epoch.
    """

    model: str = "glow"
    dataset: str = "digits"
    run_dir: str | None = None
    data_dir: str | None = None
    conditional: bool = False
    label_attribute: str | None = None
    epochs: int = 40
    batch_size: int = 64
    lr: float = 1e-3
    levels: int | None = None
    steps_per_level: int | None = None
    hidden: int | None = None
    hidden_layers: int | None = None
    coupling_layers: int | None = None
    residual_blocks: int | None = None
    coupling: str | None = None
    num_bins: int | None = None
    lu_decomposed: bool | None = None
    learn_prior: bool | None = None
    permutation: str | None = None
    learn_top_prior: bool | None = None
    recompute: bool | None = None
    optimizer: str | None = None
    warmup_steps: int | None = None
    clipnorm: float | None = None
    ema_momentum: float | None = None
    init_examples: int = 512
    jit: bool | None = None
    mixed_precision: str = "off"
    strategy: str = "default"
    seed: int = 0
    n_bits: int = 8
    temperature: float | None = None
    steps_per_epoch: int | None = None
    num_examples: int | None = None
    num_samples: int = 64
    flip: bool = False
    export: bool = True
    verbose: int = 1

    def __post_init__(self) -> None:
        if self.model not in MODEL_NAMES:
            raise ValueError(
                f"`model` must be one of {', '.join(MODEL_NAMES)}; received {self.model!r}."
            )
        if self.mixed_precision not in MIXED_PRECISION_POLICIES:
            raise ValueError(
                f"`mixed_precision` must be one of {', '.join(MIXED_PRECISION_POLICIES)}; "
                f"received {self.mixed_precision!r}."
            )
        if self.strategy not in STRATEGIES:
            raise ValueError(
                f"`strategy` must be one of {', '.join(STRATEGIES)}; received {self.strategy!r}."
            )
        for name, choices in (
            ("coupling", COUPLINGS),
            ("permutation", PERMUTATIONS),
            ("optimizer", OPTIMIZERS),
        ):
            if getattr(self, name) is not None and getattr(self, name) not in choices:
                raise ValueError(
                    f"`{name}` must be one of {', '.join(choices)}; "
                    f"received {getattr(self, name)!r}."
                )
        if self.num_bins is not None and (
            isinstance(self.num_bins, bool)
            or not isinstance(self.num_bins, int)
            or self.num_bins < 2
        ):
            raise ValueError(f"`num_bins` must be an integer >= 2; received {self.num_bins!r}.")
        for name in ("lu_decomposed", "learn_prior", "learn_top_prior", "recompute"):
            if getattr(self, name) not in (None, True, False):
                raise ValueError(
                    f"`{name}` must be None, True or False; received {getattr(self, name)!r}."
                )
        if self.warmup_steps is not None and (
            isinstance(self.warmup_steps, bool)
            or not isinstance(self.warmup_steps, int)
            or self.warmup_steps < 0
        ):
            raise ValueError(
                f"`warmup_steps` must be a non-negative integer; received {self.warmup_steps!r}."
            )
        if self.clipnorm is not None and not (
            _is_number(self.clipnorm) and math.isfinite(self.clipnorm) and self.clipnorm > 0
        ):
            raise ValueError(f"`clipnorm` must be a positive number; received {self.clipnorm!r}.")
        if self.ema_momentum is not None and not (
            _is_number(self.ema_momentum) and 0 <= self.ema_momentum <= 1
        ):
            raise ValueError(f"`ema_momentum` must lie in [0, 1]; received {self.ema_momentum!r}.")
        for name in ("epochs", "batch_size", "num_samples", "init_examples"):
            _check_positive(name, getattr(self, name))
        for name in (
            "levels",
            "steps_per_level",
            "hidden",
            "hidden_layers",
            "coupling_layers",
            "residual_blocks",
            "steps_per_epoch",
            "num_examples",
        ):
            if getattr(self, name) is not None:
                _check_positive(name, getattr(self, name))
        if not (isinstance(self.lr, int | float) and self.lr > 0):
            raise ValueError(f"`lr` must be a positive number; received {self.lr!r}.")
        if not 1 <= self.n_bits <= 8:
            raise ValueError(f"`n_bits` must be in 1..8; received {self.n_bits!r}.")
        if self.seed < 0:
            raise ValueError(f"`seed` must be a non-negative integer; received {self.seed!r}.")
        if self.temperature is not None and not self.temperature >= 0:
            raise ValueError(f"`temperature` must be >= 0; received {self.temperature!r}.")
        if self.verbose not in (0, 1, 2):
            raise ValueError(f"`verbose` must be 0, 1 or 2; received {self.verbose!r}.")

    @property
    def sample_temperature(self) -> float:
        """The temperature of the sample grids (Glow's 0.7 unless set)."""
        if self.temperature is not None:
            return float(self.temperature)
        return 0.7 if self.model == "glow" else 1.0

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-serialisable dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Builds a config from `to_dict()` output, ignoring unknown keys."""
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in names})

    def command_line(self) -> str:
        """The `tfflow train` command that reproduces this config (non-default options only).

        Example:
            >>> TrainConfig(model="realnvp", dataset="moons", epochs=5).command_line()
            'tfflow train --model realnvp --dataset moons --epochs 5'
        """
        defaults = TrainConfig()
        words = ["tfflow", "train"]
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name == "verbose" or value == getattr(defaults, field.name):
                continue
            option = "--" + field.name.replace("_", "-")
            if isinstance(value, bool):
                words.append(option if value else "--no-" + option[2:])
            elif value is not None:
                words += [option, shlex.quote(str(value))]
        return " ".join(words)

    def identity_differences(self, other: TrainConfig) -> list[str]:
        """Fields that define the run and differ from `other`, as `name: mine vs other`."""
        return [
            f"{name}: {getattr(self, name)!r} vs {getattr(other, name)!r}"
            for name in _IDENTITY_FIELDS
            if getattr(self, name) != getattr(other, name)
        ]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_positive(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer; received {value!r}.")
