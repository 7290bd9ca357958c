"""`FlowModel`: the `keras.Model` base shared by NICE, RealNVP and Glow."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from numpy.typing import ArrayLike

from tfflow._compat.tf import in_multi_worker_mode
from tfflow.bijectors.actnorm import data_dependent_init
from tfflow.bijectors.class_conditional_prior import ClassConditionalPrior
from tfflow.bijectors.context_prior import ContextPrior
from tfflow.bijectors.flow_bijector import (
    collect_keras_layers,
    forward_and_log_det,
    inverse_and_log_det,
    walk_bijectors,
)
from tfflow.bijectors.pixel_support import PixelSupport
from tfflow.bijectors.recompute import Recompute
from tfflow.callbacks.divergence_guard import DivergenceGuard
from tfflow.callbacks.guard_state import GuardState
from tfflow.dequantization import dequantize_pixels
from tfflow.models import recipe
from tfflow.models.context import context_conditions, context_encoder
from tfflow.models.data_init import (
    data_initialised_bijectors,
    first_conditioned_examples,
    first_examples,
    synchronise_across_workers,
)
from tfflow.models.graph_calls import run_as_graph
from tfflow.models.inputs import as_data, as_latent, label_conditions
from tfflow.models.priors import PRIORS, base_distribution, base_log_prob, latent_noise
from tfflow.units import nats_to_bits_per_dim

tfb = tfp.bijectors
tfd = tfp.distributions

__all__ = ["FlowModel"]


# The density methods below carry `do_not_convert`: their Python control flow is static, and
# letting autograph convert every bijector beneath them only slows down tracing.


class FlowModel(keras.Model):
    """A normalizing flow `x = f^-1(z)`, `z ~ base`, trained by maximum likelihood.

    Subclasses implement `build_flow()`, returning a bijector whose `forward` maps data
    (event shape `input_shape`) to a flat latent vector of `D = prod(input_shape)` values.
    The base density and noise draw are `latent_log_prob` and `draw_latent` (the `prior`
    named here; `tfflow.Flow` overrides them with any TFP distribution).

    `log_prob(x) = log p_base(f(x)) + log|det df/dx|`, evaluated in one pass over the flow
    (each conditioner network runs once). `bits_per_dim(x) = -log_prob(x) / (D ln 2)`.
    For image models (`pixels=True`) `x` holds pixel values in `[0, 2**n_bits)`, so bits/dim
    are those of published tables; inputs outside that range get `log_prob = -inf` (the flow
    begins with `PixelSupport`, so `model.distribution.log_prob` agrees).

    Integer pixels: `fit` (and `train_step`) dequantizes integer input, `x + u` with
    `u ~ U[0, 1)^D` drawn in-graph, new noise every step and replica, so the training loss
    is the dequantized objective `E_u[-log p(x + u)]` (a continuous density fitted to the
    integer lattice itself could put unbounded mass on its points). `log_prob`,
    `bits_per_dim` and `evaluate` read integer input deterministically, at the bin centres
    `k + 0.5`. Float input in `[0, 2**n_bits)` is taken as already dequantized.

    Training recipe (`compile()`'s optimizer and XLA default): `tfflow.models.recipe`;
    input coercion: `tfflow.models.inputs`; the latent density and noise draw:
    `tfflow.models.priors`; data-dependent initialisation: `tfflow.models.data_init`.

    Attributes:
        flow: the normalizing bijector (data -> flat latent).
        flow_layers: the Keras layers holding the flow's parameters.
        guard_state: the `tfflow.callbacks.GuardState` that `train_step` fills for a
            `DivergenceGuard` (created by `fit` when a guard is used; None before).

    Args:
        input_shape: shape of one example, e.g. `(28, 28, 1)` or `(2,)`.
        prior: `"normal"` (standard normal) or `"logistic"` (NICE) base distribution.
        pixels: whether inputs are pixel values in `[0, 2**n_bits)`.
        n_bits: bits per pixel of the data.
        learning_rate: default learning rate of `compile()`.
        num_classes: makes the model class-conditional: a learned per-class prior
            (`ClassConditionalPrior`) ends the flow, and `log_prob`, `sample`, `encode`,
            `decode` and `fit` take integer `labels` (fit: `(x, labels)` pairs).
        dequantization: how `fit` treats integer pixels: `"uniform"` (add `U[0, 1)` noise
            each step) or `"none"` (train on the bin centres `k + 0.5`: a fit to the
            lattice, whose loss is not a likelihood of the data).
        context_shape: makes the model context-conditional, `p(x | c)`: the shape of one
            context, a vector `(k,)` or (image models) an image `(h, w, c)`. A shared
            `ContextEncoder` encodes the context once per call and every coupling's
            conditioner reads it (`tfflow.models.context`); `log_prob`, `bits_per_dim`,
            `sample`, `encode`, `decode` take `context=` (one per example, or a single one
            for all) and `fit` takes `(x, context)` pairs. Not combinable with `num_classes`
            (pass a one-hot context instead) nor with `recompute=True`.
        context_features: width of the context encoder (None: the raw context).
        context_prior: end the flow with a learned context-dependent Gaussian prior
            (`ContextPrior`, Glow's `ycond` generalised to any context).
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
        dequantization: str = "uniform",
        context_shape: Iterable[int] | None = None,
        context_features: int | None = 32,
        context_prior: bool = False,
        **kwargs: Any,
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
        if prior not in PRIORS:
            raise ValueError(f"`prior` must be 'normal' or 'logistic'; received {prior!r}.")
        if dequantization not in ("uniform", "none"):
            raise ValueError(
                f"`dequantization` must be 'uniform' or 'none'; received {dequantization!r}."
            )
        self.dequantization = dequantization
        # Base of the stateless seeds of `fit`'s dequantization noise (seeded by
        # `keras.utils.set_random_seed`, like Keras' own initialisers).
        self._noise_seed = int(np.random.randint(0, 2**31 - 1))
        self.data_shape = shape
        self.prior = prior
        self.pixels = bool(pixels)
        self.n_bits = int(n_bits)
        self.learning_rate = float(learning_rate)
        if num_classes is not None and int(num_classes) < 2:
            raise ValueError(f"`num_classes` must be None or >= 2; received {num_classes!r}.")
        self.num_classes = None if num_classes is None else int(num_classes)
        self.context_shape = None if context_shape is None else tuple(int(d) for d in context_shape)
        self.context_features = None if context_features is None else int(context_features)
        self.context_prior = bool(context_prior)
        if self.context_prior and context_shape is None:
            raise ValueError("`context_prior=True` needs a `context_shape`; received None.")
        self.context_encoder = context_encoder(
            self.context_shape, self.context_features, data_shape=shape, num_classes=num_classes
        )
        self.event_size = int(np.prod(shape))
        # Flow states, log-dets and the prior use the policy's variable dtype (float32 under
        # mixed precision); conditioner networks compute in the policy's compute dtype.
        self.flow_dtype = self.dtype_policy.variable_dtype
        flow = self.build_flow()
        if self.pixels:
            flow = tfb.Chain([flow, PixelSupport(shape, self.n_bits)], name=flow.name)
        if self.num_classes is not None:
            prior = ClassConditionalPrior(self.event_size, self.num_classes, name="class_prior")
            flow = tfb.Chain([prior, flow], name=f"{flow.name}_conditional")
        if self.context_prior:
            prior = ContextPrior(self.event_size, name="context_prior")
            flow = tfb.Chain([prior, flow], name=f"{flow.name}_conditional")
        self.flow = flow
        if self.context_shape is not None and any(
            isinstance(b, Recompute) for b in walk_bijectors(flow)
        ):
            raise ValueError(
                "`recompute=True` cannot be combined with `context_shape`: recomputed steps "
                "pass no gradient to the context encoder."
            )
        # Keras 3 does not track TFP bijectors (tf.Modules); owning their layers here makes
        # `fit`, checkpoints and `model.save` see every parameter.
        self.flow_layers = collect_keras_layers(self.flow)
        self.guard_state: GuardState | None = None
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.bpd_tracker = keras.metrics.Mean(name="bits_per_dim")
        # Create every weight now (one pass on a dummy batch) so that loading saved weights,
        # distribution strategies and `summary()` see the full model before training.
        dummy_value = 0.5 * 2.0**self.n_bits if self.pixels else 0.0
        dummy_labels = None if self.num_classes is None else tf.zeros([1], tf.int32)
        dummy_context = None
        if self.context_shape is not None:
            dummy_context = tf.zeros((1,) + self.context_shape, self.flow_dtype)
        self.log_prob(
            tf.fill((1,) + shape, tf.constant(dummy_value, self.flow_dtype)),
            labels=dummy_labels,
            context=dummy_context,
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
        return base_distribution(self.prior, self.event_size, self.flow_dtype)

    @property
    def bijector(self) -> tfb.Bijector:
        """Latent -> data bijector (TFP convention: `forward` generates)."""
        return tfb.Invert(self.flow)

    @property
    def distribution(self) -> tfd.TransformedDistribution:
        """`tfd.TransformedDistribution(base, bijector)`, usable anywhere TFP takes one."""
        return tfd.TransformedDistribution(self.base_distribution, self.bijector)

    # ----- inputs -------------------------------------------------------------------------------
    def _as_data(self, x: tf.Tensor | ArrayLike, arg: str = "x") -> tf.Tensor:
        return as_data(
            x,
            data_shape=self.data_shape,
            pixels=self.pixels,
            dtype=self.flow_dtype,
            owner=type(self).__name__,
            arg=arg,
        )

    def _conditions(
        self,
        labels: tf.Tensor | ArrayLike | None,
        batch_shape: tf.Tensor | None = None,
        context: tf.Tensor | ArrayLike | None = None,
        x: tf.Tensor | None = None,
    ) -> dict:
        """Flat per-bijector keyword arguments routing `labels` and `context`."""
        size = x.shape[0] if x is not None and x.shape.rank else None
        return label_conditions(labels, self.num_classes, batch_shape) | context_conditions(
            self, context, batch_size=None if size is None else int(size)
        )

    def bijector_kwargs(
        self,
        labels: tf.Tensor | ArrayLike | None = None,
        context: tf.Tensor | ArrayLike | None = None,
    ) -> dict:
        """Conditional keyword arguments for `self.flow`, `self.bijector` and
        `self.distribution` in TFP's layout (nested by `Chain` part names), so that
        `model.distribution.log_prob(x, bijector_kwargs=model.bijector_kwargs(context=c))`
        equals `model.log_prob(x, context=c)` (likewise `labels=`).

        Args:
            labels: class labels of a class-conditional model.
            context: the context of a context-conditional model (one per example, or a
                single one for all).

        Raises:
            ValueError, TypeError: as `log_prob` does for bad `labels` or `context`.
        """
        return label_conditions(labels, self.num_classes) | context_conditions(
            self, context, nested=True
        )

    # ----- densities ----------------------------------------------------------------------------
    @tf.autograph.experimental.do_not_convert
    def log_prob(
        self,
        x: tf.Tensor | ArrayLike,
        labels: tf.Tensor | ArrayLike | None = None,
        training: bool | None = None,
        *,
        context: tf.Tensor | ArrayLike | None = None,
    ) -> tf.Tensor:
        """Exact `log p(x)` (`log p(x | labels)`, `log p(x | context)`) in nats per example."""
        x = self._as_data(x)
        conditions = self._conditions(
            labels, tf.shape(x)[: tf.rank(x) - len(self.data_shape)], context, x
        )
        return run_as_graph(self, _log_prob, x, conditions)

    def bits_per_dim(
        self,
        x: tf.Tensor | ArrayLike,
        labels: tf.Tensor | ArrayLike | None = None,
        *,
        context: tf.Tensor | ArrayLike | None = None,
    ) -> tf.Tensor:
        """`-log_prob(x) / (D ln 2)`: bits per dimension on the data's scale."""
        return nats_to_bits_per_dim(-self.log_prob(x, labels, context=context), self.event_size)

    @tf.autograph.experimental.do_not_convert
    def encode(
        self,
        x: tf.Tensor | ArrayLike,
        labels: tf.Tensor | ArrayLike | None = None,
        *,
        context: tf.Tensor | ArrayLike | None = None,
    ) -> tf.Tensor:
        """Data -> latent `z` of shape `(batch, D)`."""
        x = self._as_data(x)
        conditions = self._conditions(
            labels, tf.shape(x)[: tf.rank(x) - len(self.data_shape)], context, x
        )
        return run_as_graph(self, _encode, x, conditions)

    @tf.autograph.experimental.do_not_convert
    def decode(
        self,
        z: tf.Tensor | ArrayLike,
        labels: tf.Tensor | ArrayLike | None = None,
        *,
        context: tf.Tensor | ArrayLike | None = None,
    ) -> tf.Tensor:
        """Latent `(batch, D)` -> data."""
        z = as_latent(z, event_size=self.event_size, dtype=self.flow_dtype)
        conditions = self._conditions(labels, tf.shape(z)[:-1], context, z)
        return run_as_graph(self, _decode, z, conditions)

    @tf.autograph.experimental.do_not_convert
    def sample(
        self,
        num_samples: int,
        temperature: float = 1.0,
        seed: int | None = None,
        labels: tf.Tensor | ArrayLike | None = None,
        *,
        context: tf.Tensor | ArrayLike | None = None,
    ) -> tf.Tensor:
        """Draws `num_samples` examples, with latent noise scaled by `temperature`.

        Args:
            num_samples: number of samples (> 0).
            temperature: scale of the latent noise (Glow samples at 0.7); >= 0 and finite.
            seed: integer seed; the same seed gives the same samples (stateless RNG).
            labels: class labels for class-conditional models (a scalar or one per sample).
            context: the context of a context-conditional model: one per sample
                (`(num_samples,) + context_shape`) or a single one for all samples
                (`context_shape` or `(1,) + context_shape`).
        """
        if isinstance(num_samples, int | np.integer) and num_samples <= 0:
            raise ValueError(f"`num_samples` must be a positive integer; received {num_samples}.")
        if isinstance(temperature, int | float) and not (
            math.isfinite(temperature) and temperature >= 0
        ):
            raise ValueError(f"`temperature` must be finite and >= 0; received {temperature!r}.")
        z = self.draw_latent(num_samples, temperature, seed)
        return self.decode(z, labels=labels, context=context)

    def latent_log_prob(self, z: tf.Tensor) -> tf.Tensor:
        """`log p_base(z)` of flat latents `(batch, D)`, one value per example."""
        return base_log_prob(z, self.prior)

    def draw_latent(
        self,
        num_samples: int | tf.Tensor,
        temperature: float | tf.Tensor = 1.0,
        seed: int | tf.Tensor | None = None,
    ) -> tf.Tensor:
        """The latent noise `sample` decodes: `(num_samples, D)` base draws times
        `temperature`, stateless for an integer `seed` (also in the exported `sample`)."""
        return latent_noise(
            self.prior, num_samples, self.event_size, temperature, seed, self.flow_dtype
        )

    # ----- Keras --------------------------------------------------------------------------------
    def call(
        self, inputs: tf.Tensor | ArrayLike | tuple | list, training: bool | None = None
    ) -> tf.Tensor:
        if isinstance(inputs, tuple | list):
            if self.context_shape is not None:
                return self.log_prob(inputs[0], training=training, context=inputs[1])
            return self.log_prob(inputs[0], inputs[1], training=training)
        return self.log_prob(inputs, training=training)

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return [self.loss_tracker, self.bpd_tracker]

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

    def _unpack(self, data: tf.Tensor | tuple | list) -> tf.Tensor | tuple[tf.Tensor, tf.Tensor]:
        """`x`, or `(x, labels)` / `(x, context)` for conditional models, from a `fit`
        element (`fit((x, context))` hands the pair as a one-element tuple)."""
        if isinstance(data, tuple | list) and len(data) == 1 and isinstance(data[0], tuple | list):
            data = data[0]
        conditional = self.num_classes is not None or self.context_shape is not None
        if isinstance(data, tuple | list):
            if conditional:
                if len(data) < 2:
                    data = data[0]
                else:
                    return (data[0], data[1])
            else:
                return data[0]
        if self.num_classes is not None:
            raise ValueError(
                "A class-conditional model trains on `(x, labels)` pairs; received `x` only."
            )
        if self.context_shape is not None:
            raise ValueError(
                "A context-conditional model trains on `(x, context)` pairs; received `x` only."
            )
        return data

    def _nll(self, x: tf.Tensor | tuple[tf.Tensor, tf.Tensor], training: bool) -> tf.Tensor:
        """`-log p(x)` per example, in float32."""
        return -tf.cast(self(x, training=training), tf.float32)

    def dequantize(self, x: tf.Tensor | ArrayLike) -> tf.Tensor:
        """`fit`'s view of a batch: integer pixels plus `U[0, 1)` noise (see the class doc).

        The noise is stateless, seeded by the model's seed plus the replica id and by the
        optimizer step, so every step and every replica of a `tf.distribute` strategy draws
        new noise, and a rerun from the same seed draws the same. Values stay below
        `2**n_bits` (float32 would round `255 + 0.99999997` up to 256). Returns `x` unchanged
        when it is floating point, for models of real-valued data, and with
        `dequantization="none"`.
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

    def _update_metrics(self, nll: tf.Tensor) -> dict:
        """Accumulates per-example `nll`, so epoch values weight every example equally."""
        self.loss_tracker.update_state(nll)
        self.bpd_tracker.update_state(nats_to_bits_per_dim(nll, self.event_size))
        results = {m.name: m.result() for m in self.metrics}
        if in_multi_worker_mode(tf.distribute.get_strategy()):
            # Keras 3.15 reduces step outputs across workers with `axis=0`, which fails on
            # scalars; give them a leading axis of 1 that the reduction removes.
            results = {k: tf.reshape(v, [1]) for k, v in results.items()}
        return results

    def train_step(self, data: tf.Tensor | tuple | list) -> dict[str, tf.Tensor]:
        x = self._unpack(data)
        if isinstance(x, tuple):
            x = (self.dequantize(x[0]), x[1])
        else:
            x = self.dequantize(x)
        if self.guard_state is not None:
            self.guard_state.record_inputs(x[0] if isinstance(x, tuple) else x)
        with tf.GradientTape() as tape:
            nll = self._nll(x, training=True)
            loss = tf.reduce_mean(nll)
            if self.losses:
                loss = loss + tf.add_n([tf.cast(term, tf.float32) for term in self.losses])
            # Gradients are summed over replicas by tf.distribute: average the loss over them.
            loss = loss / tf.distribute.get_strategy().num_replicas_in_sync
            scaled = self.optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        if self.guard_state is not None:
            self.guard_state.batch_loss.assign(tf.reduce_mean(nll))
        return self._update_metrics(nll)

    def test_step(self, data: tf.Tensor | tuple | list) -> dict[str, tf.Tensor]:
        return self._update_metrics(self._nll(self._unpack(data), training=False))

    # ----- data-dependent initialisation -------------------------------------------------------
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
            if self.guard_state is None:
                with self.distribute_strategy.scope():
                    self.guard_state = GuardState()
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

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "input_shape": list(self.data_shape),
            "prior": self.prior,
            "learning_rate": self.learning_rate,
            "num_classes": self.num_classes,
            "dequantization": self.dequantization,
            "context_shape": None if self.context_shape is None else list(self.context_shape),
            "context_features": self.context_features,
            "context_prior": self.context_prior,
        }


def _log_prob(model: FlowModel, x: tf.Tensor, conditions: dict) -> tf.Tensor:
    z, log_det = forward_and_log_det(model.flow, x, **conditions)
    return model.latent_log_prob(z) + tf.cast(
        log_det, tf.float32 if z.dtype in (tf.float16, tf.bfloat16) else z.dtype
    )


def _encode(model: FlowModel, x: tf.Tensor, conditions: dict) -> tf.Tensor:
    return forward_and_log_det(model.flow, x, **conditions)[0]


def _decode(model: FlowModel, z: tf.Tensor, conditions: dict) -> tf.Tensor:
    return inverse_and_log_det(model.flow, z, **conditions)[0]
