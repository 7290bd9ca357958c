"""`FlowModel`: the `keras.Model` base shared by NICE, RealNVP and Glow."""

from __future__ import annotations

import math
from collections.abc import Iterable

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfflow.bijectors.actnorm import ActNorm, data_dependent_init
from tfflow.bijectors.class_conditional_prior import ClassConditionalPrior
from tfflow.bijectors.flow_bijector import (
    collect_keras_layers,
    forward_and_log_det,
    inverse_and_log_det,
    walk_bijectors,
)
from tfflow.bijectors.scaling import Scaling
from tfflow.callbacks.divergence_guard import DivergenceGuard
from tfflow.models.cpu_kind import xla_pays_for_vector_models_on_cpu
from tfflow.optimizers.fused_adam import FusedAdam
from tfflow.optimizers.linear_warmup import LinearWarmup

tfb = tfp.bijectors
tfd = tfp.distributions

__all__ = ["FlowModel"]

_LOG_2PI = math.log(2.0 * math.pi)


# The density methods below carry `do_not_convert`: their Python control flow is static, and
# letting autograph convert every bijector beneath them made the first traced step ~30% slower.


class FlowModel(keras.Model):
    """A normalizing flow `x = f^-1(z)`, `z ~ base`, trained by maximum likelihood.

    Subclasses implement `build_flow()`, returning a bijector whose `forward` maps data
    (event shape `input_shape`) to a flat latent vector of `D = prod(input_shape)` values.

    `log_prob(x) = log p_base(f(x)) + log|det df/dx|`, evaluated in one pass over the flow
    (each conditioner network runs once). `bits_per_dim(x) = -log_prob(x) / (D ln 2)`.
    For image models (`pixels=True`) `x` holds pixel values in `[0, 2**n_bits)`, so bits/dim
    are those of published tables; inputs outside that range get `log_prob = -inf`.

    Args:
        input_shape: shape of one example, e.g. `(28, 28, 1)` or `(2,)`.
        prior: `"normal"` (standard normal) or `"logistic"` (NICE) base distribution.
        pixels: whether inputs are pixel values in `[0, 2**n_bits)`.
        n_bits: bits per pixel of the data.
        learning_rate: default learning rate of `compile()`.
        num_classes: makes the model class-conditional: a learned per-class prior
            (`ClassConditionalPrior`) ends the flow, and `log_prob`, `sample`, `encode`,
            `decode` and `fit` take integer `labels` (fit: `(x, labels)` pairs).
        **kwargs: `keras.Model` arguments (`name`, ...).
    """

    def __init__(
        self,
        input_shape: Iterable[int],
        prior: str = "normal",
        pixels: bool = False,
        n_bits: int = 8,
        learning_rate: float = 1e-3,
        num_classes: int | None = None,
        **kwargs,
    ):
        # Never let Keras cast inputs to a mixed-precision compute dtype: pixel values and
        # dequantization noise must reach the flow in float32 (bfloat16 rounds 255.9 to 256).
        kwargs["autocast"] = False
        super().__init__(**kwargs)
        shape = tuple(int(d) for d in input_shape)
        if not shape or any(d < 1 for d in shape):
            raise ValueError(
                f"`input_shape` must be a non-empty shape of positive sizes; "
                f"received {tuple(input_shape)!r}."
            )
        if prior not in ("normal", "logistic"):
            raise ValueError(f"`prior` must be 'normal' or 'logistic'; received {prior!r}.")
        self.data_shape = shape
        self.prior = prior
        self.pixels = bool(pixels)
        self.n_bits = int(n_bits)
        self.learning_rate = float(learning_rate)
        if num_classes is not None and int(num_classes) < 2:
            raise ValueError(f"`num_classes` must be None or >= 2; received {num_classes!r}.")
        self.num_classes = None if num_classes is None else int(num_classes)
        self.event_size = int(np.prod(shape))
        # Flow states, log-dets and the prior use the policy's variable dtype (float32 under
        # mixed precision); conditioner networks compute in the policy's compute dtype.
        self.flow_dtype = self.dtype_policy.variable_dtype
        flow = self.build_flow()
        if self.num_classes is not None:
            prior = ClassConditionalPrior(self.event_size, self.num_classes, name="class_prior")
            flow = tfb.Chain([prior, flow], name=f"{flow.name}_conditional")
        self.flow = flow
        # Keras 3 does not track TFP bijectors (tf.Modules); owning their layers here makes
        # `fit`, checkpoints and `model.save` see every parameter.
        self.flow_layers = collect_keras_layers(self.flow)
        self.guard_state = None
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.bpd_tracker = keras.metrics.Mean(name="bits_per_dim")
        # Create every weight now (one pass on a dummy batch) so that loading saved weights,
        # distribution strategies and `summary()` see the full model before training.
        dummy_value = 0.5 * 2.0**self.n_bits if self.pixels else 0.0
        dummy_labels = None if self.num_classes is None else tf.zeros([1], tf.int32)
        self.log_prob(
            tf.fill((1,) + shape, tf.constant(dummy_value, self.flow_dtype)), labels=dummy_labels
        )
        self.built = True

    # ----- subclass API -------------------------------------------------------------------------
    def build_flow(self) -> tfb.Bijector:
        """Returns the bijector mapping data to the flat latent (normalizing direction)."""
        raise NotImplementedError

    # ----- TFP views ----------------------------------------------------------------------------
    @property
    def base_distribution(self) -> tfd.Distribution:
        """The latent distribution over `(D,)`: standard normal or standard logistic."""
        dtype = self.flow_dtype
        zero, one = tf.constant(0.0, dtype), tf.constant(1.0, dtype)
        base = tfd.Normal(zero, one) if self.prior == "normal" else tfd.Logistic(zero, one)
        return tfd.Sample(base, sample_shape=[self.event_size])

    @property
    def bijector(self) -> tfb.Bijector:
        """Latent -> data bijector (TFP convention: `forward` generates)."""
        return tfb.Invert(self.flow)

    @property
    def distribution(self) -> tfd.TransformedDistribution:
        """`tfd.TransformedDistribution(base, bijector)`, usable anywhere TFP takes one."""
        return tfd.TransformedDistribution(self.base_distribution, self.bijector)

    # ----- inputs -------------------------------------------------------------------------------
    def _as_data(self, x, arg: str = "x") -> tf.Tensor:
        x = tf.convert_to_tensor(x)
        if x.dtype.is_integer or x.dtype == tf.bool:
            if not self.pixels:
                raise TypeError(
                    f"`{arg}` must be floating point for a model of real-valued data; "
                    f"received dtype {x.dtype.name}."
                )
            # Integer pixels are the centres of their quantisation bins: k -> k + 0.5.
            x = tf.cast(x, self.flow_dtype) + 0.5
        elif not x.dtype.is_floating:
            raise TypeError(f"`{arg}` must be a float or integer tensor; received {x.dtype.name}.")
        else:
            x = tf.cast(x, self.flow_dtype)
        rank = len(self.data_shape)
        static = x.shape
        if static.rank is not None:
            trailing = tuple(static[max(static.rank - rank, 0) :])
            if static.rank < rank or any(
                g is not None and int(g) != w
                for g, w in zip(trailing, self.data_shape, strict=False)
            ):
                raise ValueError(
                    f"`{arg}` must have shape (batch, {', '.join(map(str, self.data_shape))}) "
                    f"for this {type(self).__name__}; received shape {tuple(static)}."
                )
        return x

    def _as_latent(self, z, arg: str = "z") -> tf.Tensor:
        z = tf.convert_to_tensor(z)
        if not z.dtype.is_floating:
            raise TypeError(f"`{arg}` must be floating point; received dtype {z.dtype.name}.")
        z = tf.cast(z, self.flow_dtype)
        if z.shape.rank is not None and (
            z.shape.rank < 1 or (z.shape[-1] is not None and int(z.shape[-1]) != self.event_size)
        ):
            raise ValueError(
                f"`{arg}` must have shape (batch, {self.event_size}); received {tuple(z.shape)}."
            )
        return z

    def _conditions(self, labels, batch_shape=None) -> dict:
        """Keyword arguments routing `labels` to the class prior (empty if unconditional)."""
        if self.num_classes is None:
            if labels is not None:
                raise ValueError(
                    "`labels` given to a model without classes; build it with "
                    "`num_classes=...` to condition on labels."
                )
            return {}
        if labels is None:
            raise ValueError(
                f"This model is class-conditional: pass `labels` (integers in "
                f"[0, {self.num_classes}))."
            )
        labels = tf.convert_to_tensor(labels)
        if not labels.dtype.is_integer:
            raise TypeError(f"`labels` must be integers; received dtype {labels.dtype.name}.")
        if tf.executing_eagerly():
            values = labels.numpy()
            if values.size and (values.min() < 0 or values.max() >= self.num_classes):
                raise ValueError(
                    f"`labels` must lie in [0, {self.num_classes}); received values from "
                    f"{values.min()} to {values.max()}."
                )
        labels = tf.cast(labels, tf.int32)
        if batch_shape is not None:
            labels = tf.broadcast_to(labels, batch_shape)
        return {"class_prior": {"labels": labels}}

    # ----- densities ----------------------------------------------------------------------------
    def _base_log_prob(self, z: tf.Tensor) -> tf.Tensor:
        z = tf.cast(z, tf.float32 if z.dtype in (tf.float16, tf.bfloat16) else z.dtype)
        if self.prior == "normal":
            return -0.5 * tf.reduce_sum(tf.square(z), -1) - 0.5 * self.event_size * _LOG_2PI
        return -tf.reduce_sum(tf.nn.softplus(z) + tf.nn.softplus(-z), -1)

    @tf.autograph.experimental.do_not_convert
    def log_prob(self, x, labels=None, training: bool | None = None) -> tf.Tensor:
        """Exact `log p(x)` (or `log p(x | labels)`) in nats, one value per example."""
        x = self._as_data(x)
        conditions = self._conditions(labels, tf.shape(x)[: tf.rank(x) - len(self.data_shape)])
        in_support = None
        if self.pixels:
            axes = list(range(-len(self.data_shape), 0))
            high = tf.cast(2.0**self.n_bits, x.dtype)
            in_support = tf.reduce_all((x >= 0) & (x < high), axis=axes)
            # Evaluate out-of-support examples at a harmless point, then report -inf for them
            # (a NaN there would also poison gradients of the whole batch).
            mask = tf.reshape(in_support, tf.concat([tf.shape(in_support), [1] * len(axes)], 0))
            x = tf.where(mask, x, tf.fill(tf.shape(x), tf.cast(0.5 * high, x.dtype)))
        z, log_det = forward_and_log_det(self.flow, x, **conditions)
        log_prob = self._base_log_prob(z) + tf.cast(
            log_det, tf.float32 if z.dtype in (tf.float16, tf.bfloat16) else z.dtype
        )
        if in_support is not None:
            log_prob = tf.where(in_support, log_prob, tf.cast(-np.inf, log_prob.dtype))
        return log_prob

    def bits_per_dim(self, x, labels=None) -> tf.Tensor:
        """`-log_prob(x) / (D ln 2)`: bits per dimension on the data's scale."""
        return -self.log_prob(x, labels) / (self.event_size * math.log(2.0))

    @tf.autograph.experimental.do_not_convert
    def encode(self, x, labels=None) -> tf.Tensor:
        """Data -> latent `z` of shape `(batch, D)`."""
        x = self._as_data(x)
        conditions = self._conditions(labels, tf.shape(x)[: tf.rank(x) - len(self.data_shape)])
        return forward_and_log_det(self.flow, x, **conditions)[0]

    @tf.autograph.experimental.do_not_convert
    def decode(self, z, labels=None) -> tf.Tensor:
        """Latent `(batch, D)` -> data."""
        z = self._as_latent(z)
        conditions = self._conditions(labels, tf.shape(z)[:-1])
        return inverse_and_log_det(self.flow, z, **conditions)[0]

    @tf.autograph.experimental.do_not_convert
    def sample(
        self,
        num_samples: int,
        temperature: float = 1.0,
        seed: int | None = None,
        labels=None,
    ) -> tf.Tensor:
        """Draws `num_samples` examples, with latent noise scaled by `temperature`.

        Args:
            num_samples: number of samples (> 0).
            temperature: scale of the latent noise (Glow samples at 0.7); >= 0 and finite.
            seed: integer seed; the same seed gives the same samples (stateless RNG).
            labels: class labels for class-conditional models (a scalar or one per sample).
        """
        if isinstance(num_samples, int | np.integer) and num_samples <= 0:
            raise ValueError(f"`num_samples` must be a positive integer; received {num_samples}.")
        if isinstance(temperature, int | float) and not (
            math.isfinite(temperature) and temperature >= 0
        ):
            raise ValueError(f"`temperature` must be finite and >= 0; received {temperature!r}.")
        dtype = self.flow_dtype
        shape = tf.stack([tf.cast(num_samples, tf.int32), self.event_size])
        seed_pair = (
            tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])
            if seed is not None
            else None
        )
        if self.prior == "normal":
            z = (
                tf.random.stateless_normal(shape, seed_pair, dtype=dtype)
                if seed_pair is not None
                else tf.random.normal(shape, dtype=dtype)
            )
        else:
            u = (
                tf.random.stateless_uniform(
                    shape, seed_pair, minval=1e-7, maxval=1 - 1e-7, dtype=dtype
                )
                if seed_pair is not None
                else tf.random.uniform(shape, 1e-7, 1 - 1e-7, dtype=dtype)
            )
            z = tf.math.log(u) - tf.math.log1p(-u)
        return self.decode(z * tf.cast(temperature, dtype), labels=labels)

    # ----- Keras --------------------------------------------------------------------------------
    def call(self, inputs, training=None):
        if isinstance(inputs, tuple | list):
            return self.log_prob(inputs[0], inputs[1], training=training)
        return self.log_prob(inputs, training=training)

    @property
    def metrics(self):
        return [self.loss_tracker, self.bpd_tracker]

    #: Optimizer recipe of the paper (overridden per model): Keras optimizer class name and
    #: its keyword arguments, linear warmup steps, and optionally a per-step learning-rate
    #: decay with its floor (`"decay_per_step"`, `"floor_fraction"`; see `LinearWarmup`).
    optimizer_recipe: dict = {"optimizer": "adam", "options": {}, "warmup_steps": 0}

    def compile(
        self,
        optimizer=None,
        *,
        learning_rate: float | None = None,
        warmup_steps: int | None = None,
        clipnorm: float | None = None,
        ema_momentum: float | None = None,
        **kwargs,
    ):
        """`keras.Model.compile` with the model's training recipe as default.

        Args:
            optimizer: a Keras optimizer, a name (`"adam"`, `"adamax"`, ...) built with the
                recipe's learning rate and warmup, or None for the recipe's optimizer.
                `"adam"` builds `tfflow.optimizers.FusedAdam` (Keras' Adam update in one
                fused kernel per variable).
            learning_rate: overrides the model's `learning_rate`.
            warmup_steps: linear warmup steps (default: the recipe's).
            clipnorm: clip the global gradient norm to this value (off by default).
            ema_momentum: keep an exponential moving average of the weights with this
                momentum (e.g. 0.999); Keras swaps it into the model at the end of `fit`.
            **kwargs: other `keras.Model.compile` arguments (`jit_compile`: default
                `default_jit_compile()`, ...).
        """
        if optimizer is None or isinstance(optimizer, str):
            recipe = self.optimizer_recipe
            name = optimizer or recipe["optimizer"]
            options = dict(recipe["options"]) if name == recipe["optimizer"] else {}
            warmup = recipe["warmup_steps"] if warmup_steps is None else warmup_steps
            rate = self.learning_rate if learning_rate is None else float(learning_rate)
            decay = recipe.get("decay_per_step", 1.0)
            floor = recipe.get("floor_fraction", 0.0)
            schedule = LinearWarmup(rate, warmup, decay, floor) if warmup or decay != 1 else rate
            if clipnorm is not None:
                options["global_clipnorm"] = float(clipnorm)
            if ema_momentum is not None:
                options.update(use_ema=True, ema_momentum=float(ema_momentum))
            if name.lower() == "adam":  # same math, one fused kernel per variable
                optimizer = FusedAdam(learning_rate=schedule, **options)
            else:
                optimizer = keras.optimizers.get(
                    {"class_name": name, "config": {"learning_rate": schedule, **options}}
                )
        kwargs.setdefault("jit_compile", self.default_jit_compile())
        super().compile(optimizer=optimizer, **kwargs)

    def default_jit_compile(self) -> bool:
        """`compile()`'s default `jit_compile`: XLA where it was measured faster.

        On a GPU, always. On CPU, for vector models only and not on AMD CPUs (MLP
        conditioners: training steps 1.41x faster for RealNVP on 64-d data, 1.14x for NICE on
        MNIST on an Intel Xeon; 0.86x on an AMD EPYC, `cpu_kind`), never for image models,
        whose convolutions XLA runs without oneDNN (Glow trained at 0.64x on the Xeon, 0.43x on
        the EPYC). Off inside a `tf.distribute` strategy scope, where the train step holds
        cross-replica calls. `predict` (and so `evaluate_bits_per_dim`) uses the same setting.
        """
        if tf.distribute.has_strategy():
            return False
        if tf.config.list_logical_devices("GPU"):
            return True
        return len(self.data_shape) == 1 and xla_pays_for_vector_models_on_cpu()

    def get_compile_config(self) -> dict | None:
        """The optimizer and compile options, so `load_model` recompiles the model."""
        return super().get_compile_config()

    def compile_from_config(self, config: dict) -> None:
        """Recompiles from `get_compile_config()` (called by `keras.models.load_model`)."""
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if getattr(self, "optimizer", None) is not None and self.built:
            self.optimizer.build(self.trainable_variables)

    def _unpack(self, data):
        """`x`, or `(x, labels)` for class-conditional models, from a `fit` element."""
        if isinstance(data, tuple | list):
            if self.num_classes is not None:
                return (data[0], data[1])
            return data[0]
        if self.num_classes is not None:
            raise ValueError(
                "A class-conditional model trains on `(x, labels)` pairs; received `x` only."
            )
        return data

    def _nll(self, x, training: bool) -> tf.Tensor:
        log_prob = self(x, training=training)
        return -tf.reduce_mean(tf.cast(log_prob, tf.float32))

    def _update_metrics(self, nll: tf.Tensor) -> dict:
        self.loss_tracker.update_state(nll)
        self.bpd_tracker.update_state(nll / (self.event_size * math.log(2.0)))
        results = {m.name: m.result() for m in self.metrics}
        if _in_multi_worker_mode():
            # Keras 3.15 reduces step outputs across workers with `axis=0`, which fails on
            # scalars; give them a leading axis of 1 that the reduction removes.
            results = {k: tf.reshape(v, [1]) for k, v in results.items()}
        return results

    def train_step(self, data):
        x = self._unpack(data)
        if self.guard_state is not None:
            self.guard_state.record_inputs(x[0] if isinstance(x, tuple) else x)
        with tf.GradientTape() as tape:
            nll = self._nll(x, training=True)
            loss = nll
            if self.losses:
                loss = loss + tf.add_n([tf.cast(term, tf.float32) for term in self.losses])
            # Gradients are summed over replicas by tf.distribute: average the loss over them.
            loss = loss / tf.distribute.get_strategy().num_replicas_in_sync
            scaled = self.optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        if self.guard_state is not None:
            self.guard_state.batch_loss.assign(nll)
        return self._update_metrics(nll)

    def test_step(self, data):
        return self._update_metrics(self._nll(self._unpack(data), training=False))

    # ----- data-dependent initialisation -------------------------------------------------------
    def _data_initialised_bijectors(self) -> list:
        """The ActNorm and Scaling bijectors of the flow (initialised from data once)."""
        return [b for b in walk_bijectors(self.flow) if isinstance(b, ActNorm | Scaling)]

    def needs_initialization(self) -> bool:
        return any(not b.initialized for b in self._data_initialised_bijectors())

    def initialize(self, x, labels=None) -> None:
        """Data-dependent initialisation (ActNorm) from a batch `x`; a no-op once done."""
        if self.num_classes is not None and labels is None:
            labels = tf.zeros(tf.shape(tf.convert_to_tensor(x))[:1], tf.int32)
        with data_dependent_init():
            self.encode(x, labels)

    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        *args,
        init_examples: int = 512,
        guard: DivergenceGuard | bool = True,
        **kwargs,
    ):
        """`keras.Model.fit` with data-dependent init and a divergence guard.

        ActNorm layers are first initialised on up to `init_examples` training examples.
        Unless `guard=False`, a `DivergenceGuard` (or the one given) watches every batch:
        a non-finite or spiking loss rolls back to the last good weights and lowers the
        learning rate; non-finite input data stops training with `NonFiniteInputError`
        after restoring the last good weights.
        """
        if self.needs_initialization() and x is not None:
            self.initialize(_first_examples(x, init_examples, batch_size))
            self._synchronise_actnorm()
        callbacks = list(kwargs.pop("callbacks", None) or [])
        if guard is True:
            guard = DivergenceGuard()
        if guard:
            callbacks.append(guard)
            if self.guard_state is None:
                with self.distribute_strategy.scope():
                    self.guard_state = _GuardState()
        history = super().fit(x, y, batch_size, *args, callbacks=callbacks, **kwargs)
        if guard and guard.error is not None:
            raise guard.error
        return history

    def make_train_function(self, force: bool = False):
        """Keras' train function, with the optimizer built before the step is traced.

        Keras (TF backend, no explicit strategy) builds the optimizer inside the first trace
        of the train step; creating variables there makes `tf.function` trace the whole step
        twice and keep both graphs (+370 MiB for Glow K=32). `fit`, `train_on_batch` and
        direct callers all come through here.
        """
        if self.built and self.optimizer is not None and not self.optimizer.built:
            with self.distribute_strategy.scope():
                self.optimizer.build(self.trainable_variables)
        return super().make_train_function(force=force)

    def _synchronise_actnorm(self) -> None:
        """Makes every worker hold the same ActNorm statistics (their mean over workers).

        Mirrored replicas on one machine share one assignment already; workers of a
        MultiWorkerMirroredStrategy each initialised from their own first batch.
        """
        strategy = self.distribute_strategy
        if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
            return
        for b in self._data_initialised_bijectors():
            for v in b.params.trainable_variables:
                value = v.value
                per_replica = strategy.run(lambda value=value: tf.identity(value))
                v.assign(strategy.reduce(tf.distribute.ReduceOp.MEAN, per_replica, axis=None))

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "input_shape": list(self.data_shape),
            "prior": self.prior,
            "learning_rate": self.learning_rate,
            "num_classes": self.num_classes,
        }


class _GuardState:
    """Per-batch values `DivergenceGuard` reads: not Keras weights, never saved."""

    def __init__(self):
        def variable(value, aggregation):
            return tf.Variable(
                value,
                trainable=False,
                synchronization=tf.VariableSynchronization.ON_READ,
                aggregation=aggregation,
            )

        self.batch_loss = variable(0.0, tf.VariableAggregation.MEAN)
        self.nonfinite_inputs = variable(0.0, tf.VariableAggregation.SUM)
        self.input_min = variable(0.0, tf.VariableAggregation.MEAN)
        self.input_max = variable(0.0, tf.VariableAggregation.MEAN)

    def record_inputs(self, x: tf.Tensor) -> None:
        x = tf.cast(x, tf.float32)
        finite = tf.math.is_finite(x)
        self.nonfinite_inputs.assign(tf.reduce_sum(tf.cast(~finite, tf.float32)))
        self.input_min.assign(tf.reduce_min(tf.where(finite, x, np.inf)))
        self.input_max.assign(tf.reduce_max(tf.where(finite, x, -np.inf)))


def _in_multi_worker_mode() -> bool:
    strategy = tf.distribute.get_strategy()
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return False
    in_mode = getattr(strategy.extended, "_in_multi_worker_mode", None)
    return bool(in_mode()) if callable(in_mode) else True


def _first_examples(x, count: int, batch_size: int | None) -> tf.Tensor:
    if isinstance(x, tf.data.Dataset):
        batches, seen = [], 0
        for element in x:
            batch = element[0] if isinstance(element, tuple | list) else element
            batches.append(batch)
            seen += int(batch.shape[0])
            if seen >= count:
                break
        return tf.concat(batches, 0)[:count]
    return tf.convert_to_tensor(np.asarray(x)[:count])
