"""Adam whose per-variable update is TensorFlow's fused kernel instead of ~45 small ops."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf

from tfflow._compat.keras import adam_slots, learning_rate_schedule
from tfflow.optimizers.linear_warmup import LinearWarmup

__all__ = ["FusedAdam"]

_SCALE_KEY = "lr_scale"  # where a LinearWarmup scale is saved beside the optimizer state


@keras.saving.register_keras_serializable(package="tfflow")
class FusedAdam(keras.optimizers.Adam):
    """`keras.optimizers.Adam` with the same update, computed by `ResourceApplyAdam`.

    For gradient `g` at step `t` (Kingma and Ba, Algorithm 1, with the efficient ordering of
    Sec. 2; the math of `keras.optimizers.Adam`):

        m <- m + (1 - beta_1) (g - m)
        v <- v + (1 - beta_2) (g^2 - v)
        w <- w - lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)

    Keras 3 writes this as ~45 graph ops per variable (casts, powers, three assignments);
    flows have many small variables (ActNorm, 1x1 convolutions, scales), so the optimizer's
    ops dominated the kernel count and the graph's memory (benchmarks/README.md). Here it is
    one kernel per variable, with the step scalars computed once per dtype and step.

    Which path runs where (each tested against `keras.optimizers.Adam`):

    - one device, float32/float64, eager, `tf.function` or XLA: the fused kernel;
    - mixed precision (`mixed_float16`, `mixed_bfloat16`): the fused kernel on the float32
      variables; under `mixed_float16` Keras wraps it in its `LossScaleOptimizer`, which
      unscales the gradients before they reach it;
    - inside any `tf.distribute` strategy (`MirroredStrategy`, `MultiWorkerMirroredStrategy`):
      Keras' own update (a distributed variable has no single handle to hand the kernel),
      with the same math; likewise for `amsgrad=True` and sparse (`IndexedSlices`)
      gradients.
    """

    @property
    def learning_rate(self) -> tf.Variable:
        return keras.optimizers.Optimizer.learning_rate.fget(self)

    @learning_rate.setter
    def learning_rate(self, value: float | Callable[[Any], Any]) -> None:
        """Like Keras', and also settable when built on a `LinearWarmup` schedule (the recipes
        of `FlowModel.compile()`): the schedule is rescaled to give `value` now, so Keras'
        `ReduceLROnPlateau` and `LearningRateScheduler` work on tfflow's default optimizer."""
        schedule = learning_rate_schedule(self)
        if isinstance(schedule, LinearWarmup) and not callable(value):
            schedule.set_current_rate(value, self.iterations)
        else:
            keras.optimizers.Optimizer.learning_rate.fset(self, value)

    def save_own_variables(self, store: dict) -> None:
        """Keras' optimizer state, plus a `LinearWarmup` schedule's `scale` under its own key,
        so a run resumed after `ReduceLROnPlateau` or a `DivergenceGuard` rollback lowered
        the rate keeps the lowered rate. (A separate key, not a tracked variable: that would
        give a schedule optimizer as many variables as a float-rate one, whose extra
        `learning_rate` variable Keras would then load into the wrong slots.)"""
        super().save_own_variables(store)
        schedule = learning_rate_schedule(self)
        if isinstance(schedule, LinearWarmup) and self.built:
            store[_SCALE_KEY] = schedule.scale.numpy()

    def load_own_variables(self, store: dict) -> None:
        # Keras' mismatch warnings are re-raised on our caller, as if Keras' own method had
        # been called directly.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self._load_state(store)
        for warning in caught:
            warnings.warn(warning.message, warning.category, stacklevel=2)

    def _load_state(self, store: dict) -> None:
        if store is None or _SCALE_KEY not in store.keys():
            super().load_own_variables(store)  # Keras' own format, untouched
            return
        keys = [key for key in store.keys() if key != _SCALE_KEY]
        super().load_own_variables({key: store[key] for key in keys})
        schedule = learning_rate_schedule(self)
        if isinstance(schedule, LinearWarmup) and len(keys) == len(self.variables):
            schedule.scale.assign(store[_SCALE_KEY])  # the rest loaded too

    def _backend_update_step(
        self,
        grads: list[tf.Tensor],
        trainable_variables: list[tf.Variable],
        learning_rate: tf.Tensor,
    ) -> None:
        self._step_scalars = {}  # per-dtype (beta_1^t, beta_2^t, lr, ...) of this step
        try:
            super()._backend_update_step(grads, trainable_variables, learning_rate)
        finally:
            self._step_scalars = {}

    def update_step(
        self, gradient: tf.Tensor, variable: tf.Variable, learning_rate: tf.Tensor
    ) -> None:
        handle = _resource_handle(variable)
        if (
            self.amsgrad
            or handle is None
            or isinstance(gradient, tf.IndexedSlices)
            or tf.distribute.has_strategy()
        ):
            return super().update_step(gradient, variable, learning_rate)
        momentum, velocity = adam_slots(self, variable)
        dtype = variable.dtype
        scalars = getattr(self, "_step_scalars", {}).get(dtype)
        if scalars is None:
            scalars = self._scalars(learning_rate, dtype)
            if hasattr(self, "_step_scalars"):
                self._step_scalars[dtype] = scalars
        beta_1_power, beta_2_power, lr, beta_1, beta_2, epsilon = scalars
        tf.raw_ops.ResourceApplyAdam(
            var=handle,
            m=_resource_handle(momentum),
            v=_resource_handle(velocity),
            beta1_power=beta_1_power,
            beta2_power=beta_2_power,
            lr=lr,
            beta1=beta_1,
            beta2=beta_2,
            epsilon=epsilon,
            grad=tf.cast(gradient, dtype),
            use_locking=False,
        )

    def _scalars(self, learning_rate: tf.Tensor, dtype: tf.DType) -> tuple[tf.Tensor, ...]:
        step = tf.cast(self.iterations + 1, dtype)
        beta_1 = tf.cast(self.beta_1, dtype)
        beta_2 = tf.cast(self.beta_2, dtype)
        return (
            tf.pow(beta_1, step),
            tf.pow(beta_2, step),
            tf.cast(learning_rate, dtype),
            beta_1,
            beta_2,
            tf.cast(self.epsilon, dtype),
        )


def _resource_handle(variable: tf.Variable) -> tf.Tensor | None:
    """The resource handle of a plain (not distributed) TF variable, else None."""
    if isinstance(variable, keras.Variable):
        variable = variable.value
    if not isinstance(variable, tf.Variable) or isinstance(
        variable, tf.distribute.DistributedValues
    ):
        return None
    return getattr(variable, "handle", None)
