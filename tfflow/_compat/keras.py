"""Private Keras names tfflow relies on.

- `learning_rate_schedule`: Keras optimizers keep the `LearningRateSchedule` they were built
  with in `_learning_rate` (a float rate becomes a variable there); the public
  `learning_rate` property only gives the current value.
- `adam_slots`: Keras' Adam keeps its first and second moments in `_momentums` and
  `_velocities`, indexed by `_get_variable_index(variable)`.
- `current_call_training`, `keras_call_context`: the `training` flag of the enclosing Keras
  layer call (`keras.src.backend.common.global_state`'s `current_call_ctx`, a
  `keras.src.layers.layer.CallContext`); `Recompute` replays a step in the backward pass,
  outside the model's call, and must run batch normalisation as the forward pass did.
- `no_autocast`: `keras.src.backend.AutocastScope(None)`, reading variables in their own
  dtype under a mixed-precision policy.
- `set_initial_epoch`: `fit` starts at `model._initial_epoch` when a callback sets it in
  `on_train_begin`, which is how Keras' own `BackupAndRestore` resumes;
  `tfflow.callbacks.AtomicBackupAndRestore` also overrides that callback's `_load_model` and
  `_save_model` (pinned by `tests/compat`).
- `tfflow.optimizers.FusedAdam` also overrides `Optimizer._backend_update_step` (to share one
  step's scalars between variables); `tests/compat` pins that method's existence.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import keras
from keras.src.backend import AutocastScope
from keras.src.backend.common import global_state
from keras.src.layers.layer import CallContext

__all__ = [
    "adam_slots",
    "current_call_training",
    "keras_call_context",
    "learning_rate_schedule",
    "no_autocast",
    "set_initial_epoch",
]


def learning_rate_schedule(
    optimizer: keras.optimizers.Optimizer,
) -> Callable[[Any], Any] | None:
    """The optimizer's `LearningRateSchedule`, or None for a float (variable) rate.

    Args:
        optimizer: a Keras optimizer (not a `LossScaleOptimizer`: pass its `inner_optimizer`).

    Returns:
        The schedule (or callable) object, or None when the rate is a plain value (or not
        set yet).
    """
    rate = getattr(optimizer, "_learning_rate", None)  # absent while __init__ sets it
    if isinstance(rate, keras.optimizers.schedules.LearningRateSchedule) or callable(rate):
        return rate
    return None


def adam_slots(optimizer: keras.optimizers.Adam, variable: keras.Variable) -> tuple:
    """`(m, v)`: the first- and second-moment slot variables of `variable` in Keras' Adam."""
    index = optimizer._get_variable_index(variable)
    return optimizer._momentums[index], optimizer._velocities[index]


def current_call_training() -> bool | None:
    """The `training` flag of the enclosing Keras layer call (None outside one)."""
    context = global_state.get_global_attribute("current_call_ctx")
    return None if context is None else getattr(context, "training", None)


@contextlib.contextmanager
def keras_call_context(training: bool | None) -> Iterator[None]:
    """Runs Keras layers inside as if called with `training` (e.g. batch norm's mode)."""
    previous = global_state.get_global_attribute("current_call_ctx")
    context = CallContext(entry_layer=None)
    context.training = training
    global_state.set_global_attribute("current_call_ctx", context)
    try:
        yield
    finally:
        global_state.set_global_attribute("current_call_ctx", previous)


def no_autocast() -> contextlib.AbstractContextManager:
    """A scope in which Keras variables read in their own dtype (no mixed-precision cast)."""
    return AutocastScope(None)


def set_initial_epoch(model: keras.Model, epoch: int) -> None:
    """Makes the running `fit` start at `epoch` (from a callback's `on_train_begin`)."""
    model._initial_epoch = int(epoch)
