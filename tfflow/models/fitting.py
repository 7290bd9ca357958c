"""How a `FlowModel` is compiled and fitted: `FittingMixin`.

`compile()` builds the model's training recipe (`tfflow.models.recipe`) unless given an
optimizer; `fit()` first initialises data-dependent layers (ActNorm, NICE's Scaling; see
`tfflow.models.data_init`) on the training data, then trains under a `DivergenceGuard`, on
integer pixels dequantized with fresh noise every step (`dequantize`). The mixin relies on
the attributes and `encode` method of `FlowModel`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf
from numpy.typing import ArrayLike

from tfflow.bijectors.actnorm import data_dependent_init
from tfflow.callbacks.divergence_guard import DivergenceGuard
from tfflow.callbacks.guard_state import GuardState
from tfflow.dequantization import dequantize_pixels
from tfflow.models import recipe
from tfflow.models.data_init import (
    data_initialised_bijectors,
    first_conditioned_examples,
    first_examples,
    synchronise_across_workers,
)

__all__ = ["FittingMixin"]


class FittingMixin:
    """`compile`, `fit`, dequantization and data-dependent initialisation of a flow model.

    Mixed into `FlowModel` ahead of `keras.Model`, whose `compile`, `fit` and
    `make_train_function` it extends.
    """

    #: Optimizer recipe of the paper (overridden per model): Keras optimizer class name and
    #: its keyword arguments, linear warmup steps, and optionally a per-step learning-rate
    #: decay with its floor (`"decay_per_step"`, `"floor_fraction"`; see `LinearWarmup`).
    optimizer_recipe: dict = {"optimizer": "adam", "options": {}, "warmup_steps": 0}

    def compile(
        self,
        optimizer: keras.optimizers.Optimizer | str | None = None,
        *,
        learning_rate: float | None = None,
        warmup_steps: int | None = None,
        clipnorm: float | None = None,
        ema_momentum: float | None = None,
        **kwargs: Any,
    ) -> None:
        """`keras.Model.compile` with the model's training recipe as default.

        Args:
            optimizer: a Keras optimizer, a name (`"adam"`, `"adamax"`, ...) built with the
                recipe's learning rate and warmup, or None for the recipe's optimizer.
                `"adam"` builds `tfflow.optimizers.FusedAdam` (Keras' Adam update in one
                fused kernel per variable).
            learning_rate: overrides the model's `learning_rate` (optimizers built here).
            warmup_steps: linear warmup steps (default: the recipe's; optimizers built here).
            clipnorm: clip the global gradient norm to this value (off by default). Also
                applied to an optimizer object that is not built yet.
            ema_momentum: keep an exponential moving average of the weights with this
                momentum (e.g. 0.999); Keras swaps it into the model at the end of `fit`.
                Also applied to an optimizer object that is not built yet.
            **kwargs: other `keras.Model.compile` arguments (`jit_compile`: default
                `default_jit_compile()`, ...).

        Raises:
            ValueError: `learning_rate` or `warmup_steps` with an optimizer object (they
                belong to its constructor), or `clipnorm`/`ema_momentum` that the given
                optimizer cannot take (already built, or clipping set otherwise).
        """
        if optimizer is None or isinstance(optimizer, str):
            optimizer = recipe.build_optimizer(
                self.optimizer_recipe,
                optimizer,
                learning_rate=self.learning_rate if learning_rate is None else learning_rate,
                warmup_steps=warmup_steps,
                clipnorm=clipnorm,
                ema_momentum=ema_momentum,
            )
        else:
            recipe.apply_options(
                optimizer,
                learning_rate=learning_rate,
                warmup_steps=warmup_steps,
                clipnorm=clipnorm,
                ema_momentum=ema_momentum,
            )
        kwargs.setdefault("jit_compile", self.default_jit_compile())
        super().compile(optimizer=optimizer, **kwargs)

    def default_jit_compile(self) -> bool:
        """`compile()`'s default `jit_compile` (`tfflow.models.recipe.default_jit_compile`)."""
        return recipe.default_jit_compile(self.data_shape)

    def get_compile_config(self) -> dict | None:
        """The optimizer and compile options, so `load_model` recompiles the model."""
        return super().get_compile_config()

    def compile_from_config(self, config: dict) -> None:
        """Recompiles from `get_compile_config()` (called by `keras.models.load_model`)."""
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if getattr(self, "optimizer", None) is not None and self.built:
            self.optimizer.build(self.trainable_variables)

    def needs_initialization(self) -> bool:
        """Whether a data-initialised bijector (ActNorm, Scaling) is still uninitialised."""
        return any(not b.initialized for b in data_initialised_bijectors(self.flow))

    def initialize(
        self,
        x: tf.Tensor | ArrayLike,
        labels: tf.Tensor | ArrayLike | None = None,
        *,
        context: tf.Tensor | ArrayLike | None = None,
    ) -> None:
        """Data-dependent initialisation (ActNorm) from a batch `x` (with its `context` for
        a context-conditional model); a no-op once done."""
        if self.num_classes is not None and labels is None:
            labels = tf.zeros(tf.shape(tf.convert_to_tensor(x))[:1], tf.int32)
        with data_dependent_init():
            self.encode(x, labels, context=context)

    def initialize_from(
        self, x: tf.Tensor | ArrayLike | tf.data.Dataset | tuple | None, init_examples: int = 512
    ) -> None:
        """Data-dependent init from the first `init_examples` examples of `x` (an array, or a
        `tf.data.Dataset` of batches or `(x, ...)` batches), agreed across the workers of a
        multi-worker strategy; a no-op once initialised or for `x=None`."""
        if self.needs_initialization() and x is not None:
            if self.context_shape is not None:
                examples, context = first_conditioned_examples(x, init_examples)
                self.initialize(examples, context=context)
            else:
                self.initialize(first_examples(x, init_examples))
            synchronise_across_workers(
                data_initialised_bijectors(self.flow), self.distribute_strategy
            )

    def dequantize(self, x: tf.Tensor | ArrayLike) -> tf.Tensor:
        """`fit`'s view of a batch: integer pixels `x` plus noise `u ~ U[0, 1)^D`.

        Trained on `x + u`, new noise every step and replica, the loss is the dequantized
        objective `E_u[-log p(x + u)]` (a continuous density fitted to the integer lattice
        itself could put unbounded mass on its points). The noise is stateless, seeded by
        the model's seed plus the replica id and by the optimizer step, so every step and
        every replica of a `tf.distribute` strategy draws new noise, and a rerun from the
        same seed draws the same. Values stay below `2**n_bits` (float32 would round
        `255 + 0.99999997` up to 256). Returns `x` unchanged when it is floating point, for
        models of real-valued data, and with `dequantization="none"`.
        """
        x = tf.convert_to_tensor(x)
        is_integer = x.dtype.is_integer or x.dtype == tf.bool
        if not (self.pixels and is_integer) or self.dequantization == "none":
            return x
        replica = tf.distribute.get_replica_context()
        replica_id = 0 if replica is None else replica.replica_id_in_sync_group
        step = 0 if self.optimizer is None else self.optimizer.iterations
        seed = tf.stack(
            [
                tf.cast(self._noise_seed, tf.int64) + tf.cast(replica_id, tf.int64),
                tf.cast(step, tf.int64),
            ]
        )
        return dequantize_pixels(x, self.n_bits, seed, self.flow_dtype)

    def fit(
        self,
        x: tf.Tensor | ArrayLike | tf.data.Dataset | None = None,
        y: tf.Tensor | ArrayLike | None = None,
        batch_size: int | None = None,
        *args: Any,
        init_examples: int = 512,
        guard: DivergenceGuard | bool = True,
        **kwargs: Any,
    ) -> keras.callbacks.History:
        """`keras.Model.fit` with data-dependent init and a divergence guard.

        ActNorm layers are first initialised on up to `init_examples` training examples
        (`initialize_from`; call it yourself first to initialise from other data, e.g. a
        pipeline without a random state that this read-ahead would advance). Unless
        `guard=False`, a `DivergenceGuard` (or the one given) watches every batch: a
        non-finite or spiking loss rolls back to the last good weights and lowers the
        learning rate; non-finite input data, or the guard's `max_rollbacks`-th rollback,
        restores the last good weights and raises `NonFiniteInputError` or
        `TrainingDivergedError` out of `fit`, before Keras ends the epoch.
        """
        pairs = self.context_shape is not None and y is not None
        self.initialize_from((x, y) if pairs else x, init_examples)
        callbacks = list(kwargs.pop("callbacks", None) or [])
        if guard is True:
            guard = DivergenceGuard()
        if guard:
            callbacks.insert(0, guard)  # before checkpoints and loggers see the batch
            with self.distribute_strategy.scope():
                if self.guard_state is None:
                    self.guard_state = GuardState()
                    self.train_function = None  # a step traced without one records nothing
                self.guard_state.track_metrics(self.metrics_variables)
        return super().fit(x, y, batch_size, *args, callbacks=callbacks, **kwargs)

    def make_train_function(self, force: bool = False) -> Callable:
        """Keras' train function, with the optimizer built before the step is traced.

        Keras (TF backend, no explicit strategy) builds the optimizer inside the first trace
        of the train step; creating variables there makes `tf.function` trace the whole step
        twice and keep both graphs in memory. `fit`, `train_on_batch` and direct callers all
        come through here.
        """
        if self.built and self.optimizer is not None and not self.optimizer.built:
            with self.distribute_strategy.scope():
                self.optimizer.build(self.trainable_variables)
        return super().make_train_function(force=force)
