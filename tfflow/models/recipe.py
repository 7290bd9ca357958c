"""Training recipes: the optimizer `FlowModel.compile()` builds by default, how it treats an
optimizer it is given, and where it turns XLA on."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfflow.models.cpu_kind import xla_pays_for_vector_models_on_cpu
from tfflow.optimizers.fused_adam import FusedAdam
from tfflow.optimizers.linear_warmup import LinearWarmup

__all__ = ["apply_options", "build_optimizer", "default_jit_compile"]


def build_optimizer(
    recipe: dict,
    name: str | None,
    *,
    learning_rate: float,
    warmup_steps: int | None = None,
    clipnorm: float | None = None,
    ema_momentum: float | None = None,
) -> keras.optimizers.Optimizer:
    """The optimizer of a model's `recipe`, or of the Keras optimizer called `name`.

    Args:
        recipe: a model's `optimizer_recipe`: `{"optimizer": name, "options": {...},
            "warmup_steps": w}`, optionally with `"decay_per_step"` and `"floor_fraction"`
            (see `LinearWarmup`). Its options apply only to its own optimizer.
        name: a Keras optimizer name, or None for the recipe's. `"adam"` builds
            `FusedAdam` (Keras' Adam update in one fused kernel per variable).
        learning_rate: the rate reached after warmup.
        warmup_steps: linear warmup steps (None: the recipe's).
        clipnorm: global gradient-norm clipping (Keras' `global_clipnorm`).
        ema_momentum: Keras' exponential moving average of the weights.

    Example:
        >>> recipe = {"optimizer": "adam", "options": {}, "warmup_steps": 200}
        >>> optimizer = build_optimizer(recipe, None, learning_rate=1e-3)
        >>> type(optimizer).__name__, type(optimizer.get_config()["learning_rate"]).__name__
        ('FusedAdam', 'dict')
    """
    name = name or recipe["optimizer"]
    options = dict(recipe["options"]) if name == recipe["optimizer"] else {}
    warmup = recipe["warmup_steps"] if warmup_steps is None else warmup_steps
    decay = recipe.get("decay_per_step", 1.0)
    floor = recipe.get("floor_fraction", 0.0)
    rate = float(learning_rate)
    schedule = LinearWarmup(rate, warmup, decay, floor) if warmup or decay != 1 else rate
    if clipnorm is not None:
        options["global_clipnorm"] = float(clipnorm)
    if ema_momentum is not None:
        options.update(use_ema=True, ema_momentum=float(ema_momentum))
    if name.lower() == "adam":
        return FusedAdam(learning_rate=schedule, **options)
    return keras.optimizers.get(
        {"class_name": name, "config": {"learning_rate": schedule, **options}}
    )


def apply_options(
    optimizer: keras.optimizers.Optimizer,
    *,
    learning_rate: float | None = None,
    warmup_steps: int | None = None,
    clipnorm: float | None = None,
    ema_momentum: float | None = None,
) -> None:
    """Applies `compile()`'s recipe options to a given optimizer object, or refuses them.

    `clipnorm` and `ema_momentum` are set on an optimizer that is not built yet (on a
    `LossScaleOptimizer`'s inner one); `learning_rate` and `warmup_steps` belong to its
    constructor.

    Raises:
        ValueError: naming the option that cannot be applied and how to set it.
    """
    kind = type(optimizer).__name__
    for name, value in (("learning_rate", learning_rate), ("warmup_steps", warmup_steps)):
        if value is not None:
            raise ValueError(
                f"`{name}` configures the optimizer that compile() builds; with an optimizer "
                f"object ({kind}) set the rate or schedule in its constructor (e.g. "
                f"`learning_rate=tfflow.optimizers.LinearWarmup(1e-3, warmup_steps=200)`), or "
                f"pass the optimizer by name; received {name}={value!r}."
            )
    if clipnorm is None and ema_momentum is None:
        return
    target = getattr(optimizer, "inner_optimizer", optimizer)
    if target.built:
        raise ValueError(
            f"`clipnorm` and `ema_momentum` can only be applied to an optimizer that has not "
            f"been built; {kind} has been. Pass `global_clipnorm=`/`use_ema=True, "
            f"ema_momentum=` to its constructor instead."
        )
    if clipnorm is not None:
        if target.clipnorm is not None or target.clipvalue is not None:
            raise ValueError(
                f"`clipnorm={clipnorm!r}` (global norm) conflicts with the {kind}'s own "
                f"clipping (clipnorm={target.clipnorm!r}, clipvalue={target.clipvalue!r}); "
                f"set one of them."
            )
        if not clipnorm > 0:
            raise ValueError(f"`clipnorm` must be positive; received {clipnorm!r}.")
        target.global_clipnorm = float(clipnorm)
    if ema_momentum is not None:
        if not 0 <= ema_momentum <= 1:
            raise ValueError(f"`ema_momentum` must lie in [0, 1]; received {ema_momentum!r}.")
        target.use_ema = True
        target.ema_momentum = float(ema_momentum)


def default_jit_compile(data_shape: tuple[int, ...]) -> bool:
    """`compile()`'s default `jit_compile` for a model of examples of shape `data_shape`.

    On a GPU, on. On CPU, on for vector models (MLP conditioners) where XLA was measured
    faster for them (Intel Xeon; not AMD EPYC: `tfflow.models.cpu_kind`), and off for image
    models, whose convolutions XLA's CPU backend runs without oneDNN. Off inside a
    `tf.distribute` strategy scope, where the train step holds cross-replica calls.
    `predict` (and so `evaluate_bits_per_dim`) uses the same setting. The measurements are
    in `benchmarks/RESULTS.md`.
    """
    if tf.distribute.has_strategy():
        return False
    if tf.config.list_logical_devices("GPU"):
        return True
    return len(data_shape) == 1 and xla_pays_for_vector_models_on_cpu()
