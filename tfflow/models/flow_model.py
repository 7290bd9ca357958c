"""`FlowModel`: the `keras.Model` base shared by NICE, RealNVP and Glow."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from numpy.typing import ArrayLike

from tfflow._compat.tf import in_multi_worker_mode
from tfflow.bijectors.flow_bijector import (
    collect_keras_layers,
    forward_and_log_det,
    inverse_and_log_det,
)
from tfflow.callbacks.guard_state import GuardState
from tfflow.models import construction
from tfflow.models.context import context_conditions, context_encoder
from tfflow.models.fitting import FittingMixin
from tfflow.models.graph_calls import run_as_graph
from tfflow.models.inputs import as_data, as_latent, label_conditions, unpack_batch
from tfflow.models.priors import base_log_prob, check_draw, latent_noise
from tfflow.models.tfp_views import TFPViewsMixin
from tfflow.units import nats_to_bits_per_dim

tfb = tfp.bijectors

__all__ = ["FlowModel"]


# The density methods below carry `do_not_convert`: their Python control flow is static, and
# letting autograph convert every bijector beneath them only slows down tracing.


class FlowModel(TFPViewsMixin, FittingMixin, keras.Model):
    """A normalizing flow `x = f^-1(z)`, `z ~ base`, trained by maximum likelihood.

    Subclasses implement `build_flow()`, returning a bijector whose `forward` maps data
    (event shape `input_shape`) to a flat latent vector of `D = prod(input_shape)` values.
    The base density and noise draw are `latent_log_prob` and `draw_latent` (the `prior`
    named here, `tfflow.models.priors`; `tfflow.Flow` takes any TFP distribution). In one
    pass over the flow (each conditioner network runs once):

        log p(x) = log p_base(f(x)) + log|det df/dx|
        bits_per_dim(x) = -log p(x) / (D ln 2)

    Image models (`pixels=True`) read pixel values in `[0, 2**n_bits)`, so bits/dim are those
    of published tables; the flow begins with `PixelSupport`, so inputs outside that range
    get `log_prob = -inf`. `fit` trains on integer pixels plus uniform noise (`dequantize`);
    `log_prob`, `bits_per_dim` and `evaluate` read them at the bin centres `k + 0.5`; float
    input is taken as already dequantized. Beside the model: `compile`, `fit` and
    data-dependent initialisation (`tfflow.models.fitting`), the TFP views `distribution`,
    `bijector` and `bijector_kwargs` (`tfflow.models.tfp_views`), input coercion
    (`tfflow.models.inputs`), context conditioning (`tfflow.models.context`).

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
        num_classes: makes the model class-conditional, with a learned per-class prior
            (`ClassConditionalPrior`): the methods take integer `labels`, `fit` pairs
            `(x, labels)`.
        dequantization: how `fit` treats integer pixels: `"uniform"` (add `U[0, 1)` noise
            each step) or `"none"` (train on the bin centres: a fit to the lattice, whose
            loss is not a likelihood of the data).
        context_shape: makes the model context-conditional, `p(x | c)`: the shape of one
            context, `(k,)` or (image models) `(h, w, c)`; the methods take `context=`, `fit`
            pairs `(x, context)` (`tfflow.models.context`). Not with `num_classes` (pass a
            one-hot context) nor `recompute=True`.
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
        self.data_shape = construction.check_input_shape(input_shape)
        construction.check_options(prior, dequantization, num_classes, context_shape, context_prior)
        self.dequantization = dequantization
        # Base of the stateless seeds of `fit`'s dequantization noise (seeded by
        # `keras.utils.set_random_seed`, like Keras' own initialisers).
        self._noise_seed = int(np.random.randint(0, 2**31 - 1))
        self.prior = prior
        self.pixels = bool(pixels)
        self.n_bits = int(n_bits)
        self.learning_rate = float(learning_rate)
        self.num_classes = None if num_classes is None else int(num_classes)
        self.context_shape = None if context_shape is None else tuple(int(d) for d in context_shape)
        self.context_features = None if context_features is None else int(context_features)
        self.context_prior = bool(context_prior)
        self.context_encoder = context_encoder(
            self.context_shape,
            self.context_features,
            data_shape=self.data_shape,
            num_classes=num_classes,
        )
        self.event_size = int(np.prod(self.data_shape))
        # Flow states, log-dets and the prior use the policy's variable dtype (float32 under
        # mixed precision); conditioner networks compute in the policy's compute dtype.
        self.flow_dtype = self.dtype_policy.variable_dtype
        self.flow = construction.model_flow(self)
        # Keras 3 does not track TFP bijectors (tf.Modules); owning their layers here makes
        # `fit`, checkpoints and `model.save` see every parameter.
        self.flow_layers = collect_keras_layers(self.flow)
        self.guard_state: GuardState | None = None
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.bpd_tracker = keras.metrics.Mean(name="bits_per_dim")
        # Create every weight now (one pass on a dummy batch) so that loading saved weights,
        # distribution strategies and `summary()` see the full model before training.
        self.log_prob(**construction.dummy_batch(self))
        self.built = True

    def build_flow(self) -> tfb.Bijector:
        """Returns the bijector mapping data to the flat latent (normalizing direction)."""
        raise NotImplementedError

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
        context: tf.Tensor | ArrayLike | None,
        x: tf.Tensor,
        event_rank: int,
    ) -> dict:
        """Flat per-bijector keyword arguments routing `labels` and `context` for the batch of
        `x` (events of rank `event_rank`)."""
        size = x.shape[0] if x.shape.rank else None
        # Only labels are broadcast to it; eagerly these are four ops on every call.
        batch_shape = None if labels is None else tf.shape(x)[: tf.rank(x) - event_rank]
        return label_conditions(labels, self.num_classes, batch_shape) | context_conditions(
            self, context, batch_size=None if size is None else int(size)
        )

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
        conditions = self._conditions(labels, context, x, len(self.data_shape))
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
        conditions = self._conditions(labels, context, x, len(self.data_shape))
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
        conditions = self._conditions(labels, context, z, 1)
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
        check_draw(num_samples, temperature)
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

    def _nll(self, x: tf.Tensor | tuple[tf.Tensor, tf.Tensor], training: bool) -> tf.Tensor:
        """`-log p(x)` per example, in float32."""
        return -tf.cast(self(x, training=training), tf.float32)

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
        x = unpack_batch(data, num_classes=self.num_classes, context_shape=self.context_shape)
        x = (self.dequantize(x[0]), x[1]) if isinstance(x, tuple) else self.dequantize(x)
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
            self.guard_state.save_metrics(self.metrics_variables)
        return self._update_metrics(nll)

    def test_step(self, data: tf.Tensor | tuple | list) -> dict[str, tf.Tensor]:
        x = unpack_batch(data, num_classes=self.num_classes, context_shape=self.context_shape)
        return self._update_metrics(self._nll(x, training=False))

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
