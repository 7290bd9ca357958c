"""Activation recomputation: keep a flow step's activations out of memory during training."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfflow._compat.keras import current_call_training, keras_call_context, no_autocast
from tfflow._compat.tfp import CHAIN_TYPES, INVERT_TYPES
from tfflow.bijectors.data_dependent import is_initializing
from tfflow.bijectors.flow_bijector import (
    FlowBijector,
    collect_keras_layers,
    forward_and_log_det,
    inverse_and_log_det,
    walk_bijectors,
)

tfb = tfp.bijectors

__all__ = ["Recompute", "RecomputeTemplates"]


def _read(variables: Sequence[keras.Variable]) -> list[tf.Tensor]:
    """Current values of Keras variables in their own dtype (never autocast: the traced step
    autocasts where the unwrapped step would, when its layers read the mapped values)."""
    with no_autocast():
        return [tf.convert_to_tensor(v) for v in variables]


def _after(x: tf.Tensor, dy: tf.Tensor) -> tf.Tensor:
    """`x`, made to depend on the value of `dy` (so it cannot be read before `dy` exists).

    A data dependency rather than `tf.control_dependencies`, which XLA does not honour: adds
    a zero computed from the first element of `dy` (a NaN there propagates, as it would
    through the gradient anyway).
    """
    first = tf.reduce_max(tf.reshape(dy, [-1])[:1])
    flag = tf.cast(first, tf.bool)
    zero = tf.where(tf.equal(flag, flag), 0.0, float("nan"))
    return x + tf.cast(zero, x.dtype)


def _constants(bijector: tfb.Bijector) -> tuple:
    """The constructor values of a plain TFP bijector (e.g. `tfb.Permute`'s permutation),
    which a traced step holds as constants; empty for tfflow bijectors (their parameters are
    weights) and for `Chain`/`Invert` (their parts are walked on their own)."""
    if isinstance(bijector, (FlowBijector, *CHAIN_TYPES, *INVERT_TYPES)):
        return ()
    values = []
    for key, value in sorted(bijector.parameters.items()):
        if key == "name" or isinstance(value, tfb.Bijector):
            continue
        static = tf.get_static_value(value) if tf.is_tensor(value) else value
        if isinstance(static, np.ndarray | np.generic | list | tuple):
            static = np.asarray(static).tolist()
        elif not isinstance(static, bool | int | float | str | type(None)):
            static = type(value).__name__
        values.append((key, static))
    return tuple(values)


class _Traced:
    """The traced forward and backward functions of a step (a plain object: not tracked by
    `tf.Module`, so exports never try to serialise them)."""

    def __init__(self, owner: Recompute):
        self.owner = owner
        options = dict(
            autograph=False, reduce_retracing=True, experimental_attributes={"_noinline": True}
        )

        # Fresh closures, so TensorFlow's retracing heuristic (keyed on the Python function)
        # does not count the first traces of many steps as one function retracing.
        def forward(*args: Any) -> tuple[tf.Tensor, tf.Tensor, dict[str, tf.Tensor]]:
            return self._forward(*args)

        def backward(*args: Any) -> tuple[tf.Tensor, list[tf.Tensor]]:
            return self._backward(*args)

        self.forward = tf.function(forward, **options)
        self.backward = tf.function(backward, **options)

    def _mapping(
        self, trainable: list[tf.Tensor], frozen: list[tf.Tensor]
    ) -> list[tuple[keras.Variable, tf.Tensor]]:
        owned_trainable, owned_frozen = self.owner.step_variables()
        return list(zip(owned_trainable, trainable, strict=True)) + list(
            zip(owned_frozen, frozen, strict=True)
        )

    def _forward(
        self,
        x: tf.Tensor,
        trainable: list[tf.Tensor],
        frozen: list[tf.Tensor],
        kwargs: dict,
        training: bool | None,
    ) -> tuple[tf.Tensor, tf.Tensor, dict[str, tf.Tensor]]:
        # `training` is a Python value: one trace per Keras training mode.
        owned_frozen = self.owner.step_variables()[1]
        mapping = self._mapping(trainable, frozen)
        with keras_call_context(training), keras.StatelessScope(mapping) as scope:
            before = dict(scope.state_mapping)
            y, log_det = forward_and_log_det(self.owner.bijector, x, **kwargs)
        # State updates made in the forward pass (batch-norm moving statistics) are returned,
        # so that the caller assigns them to its own variables.
        updates = {}
        for i, v in enumerate(owned_frozen):
            value = scope.get_current_value(v)
            if value is not before[id(v)]:
                updates[str(i)] = tf.convert_to_tensor(value)
        return y, log_det, updates

    def _backward(
        self,
        x: tf.Tensor,
        trainable: list[tf.Tensor],
        frozen: list[tf.Tensor],
        kwargs: dict,
        dy: tf.Tensor,
        dlog_det: tf.Tensor,
        training: bool | None,
    ) -> tuple[tf.Tensor, list[tf.Tensor]]:
        x = _after(x, dy)
        with tf.GradientTape() as tape:
            tape.watch(x)
            tape.watch(trainable)
            # Recomputed in the forward pass's training mode; its state updates are
            # discarded (the forward pass made them).
            mapping = self._mapping(trainable, frozen)
            with keras_call_context(training), keras.StatelessScope(mapping):
                y, log_det = forward_and_log_det(self.owner.bijector, x, **kwargs)
        grads = tape.gradient(
            [y, log_det],
            [x, *trainable],
            output_gradients=[dy, dlog_det],
            unconnected_gradients=tf.UnconnectedGradients.ZERO,
        )
        return grads[0], grads[1:]


class Recompute(FlowBijector):
    """Wraps a flow step so its activations are recomputed in the backward pass.

    Training a flow keeps, for the backward pass, every intermediate activation of every
    conditioner network: memory grows with depth by about the size of one step's hidden
    feature maps per step. `Recompute` keeps only the step's input `x`. Its gradient
    re-runs the step from `x` once the upstream gradients `(dL/dy, dL/dlog|det J|)` exist and
    differentiates that recomputation:

        dL/dx     = (dL/dy) dy/dx + (dL/dldj) dldj/dx
        dL/dtheta = (dL/dy) dy/dtheta + (dL/dldj) dldj/dtheta

    for the step's parameters `theta` (the values of its Keras weights, read once by the
    caller). Values, log-determinants and gradients equal those of the unwrapped step; the
    price is a second forward pass of each step in the backward pass (about a third more
    arithmetic per training step).

    Two details make this effective and cheap inside a `tf.function`:

    - The recomputed input is tied to the upstream gradient by a data dependency (a zero
      computed from `dL/dy`, which XLA also honours), so the recomputation can neither be
      merged with the forward pass nor scheduled before the gradient of its output arrives.
    - The forward pass and the recompute-and-differentiate step are each one traced,
      non-inlined function (`_noinline`) taking the step's weights as inputs. Steps built by
      the same code share them (`template=`), so a deep flow's training graph holds each
      distinct step body once plus one call per step: TensorFlow's per-operation cost of
      graph construction, optimisation and executor state (see benchmarks/README.md, "Memory
      with depth") stops multiplying with depth.

    Keras weight reads are redirected to the inputs with `keras.StatelessScope`; state
    updates in the forward pass (batch-norm moving statistics) are applied once, and those
    of the recomputation are discarded, so moving averages advance once per step as without
    recomputation. Data-dependent initialisation (`ActNorm`) and unbuilt layers run the
    step directly. Keyword arguments reach the wrapped bijectors but get no gradient.

    Args:
        bijector: the block to wrap (e.g. one Glow step: ActNorm, 1x1 conv, coupling).
        name: bijector name.
        template: another `Recompute` whose bijector has exactly this one's structure (same
            classes, shapes and settings; only the weight values differ, e.g. the steps of
            one Glow level). This step then runs through the template's traced functions
            with its own weights. Checked on first use: the weight shapes and dtypes, the
            classes of the bijector trees and the constructor values of their plain TFP
            bijectors (e.g. a `tfb.Permute`'s permutation, traced in as a constant) must
            match.

    Raises:
        ValueError: if `template` does not have this step's structure.

    Example:
        >>> import tensorflow as tf
        >>> import tfflow
        >>> model = tfflow.Glow((8, 8, 1), levels=1, steps_per_level=2, hidden_channels=8,
        ...                     recompute=True)
        >>> model.log_prob(tf.fill([2, 8, 8, 1], 100.0)).shape
        TensorShape([2])

    References:
        Chen et al. 2016, "Training Deep Nets with Sublinear Memory Cost", arXiv:1604.06174.
    """

    def __init__(
        self,
        bijector: tfb.Bijector,
        name: str | None = None,
        template: Recompute | None = None,
    ):
        parameters = dict(locals())
        if template is not None and not isinstance(template, Recompute):
            raise ValueError(
                f"`template` must be a `Recompute` bijector or None; received {template!r}."
            )
        self.bijector = bijector
        self.template = template
        self.keras_layers = tuple(collect_keras_layers(bijector))
        self._traced_functions = None
        self._checked_template = template is None
        super().__init__(
            forward_min_event_ndims=bijector.forward_min_event_ndims,
            inverse_min_event_ndims=bijector.inverse_min_event_ndims,
            is_constant_jacobian=bijector.is_constant_jacobian,
            validate_args=bijector.validate_args,
            parameters=parameters,
            name=name or f"recompute_{bijector.name}",
        )

    def step_variables(self) -> tuple[list, list]:
        """(trainable, other) Keras weights of the wrapped step, in a fixed order."""
        trainable, frozen, seen = [], [], set()
        for layer in self.keras_layers:
            for v in layer.weights:
                if id(v) in seen:
                    continue
                seen.add(id(v))
                (trainable if v.trainable else frozen).append(v)
        return trainable, frozen

    def _signature(self) -> tuple:
        trainable, frozen = self.step_variables()
        classes = tuple(
            (type(b).__name__, repr(_constants(b))) for b in walk_bijectors(self.bijector)
        )
        layers = tuple(type(layer).__name__ for layer in self.keras_layers)
        weights = tuple((tuple(v.shape), str(v.dtype)) for v in trainable + frozen)
        return classes, layers, weights, len(trainable)

    def _traced(self, shared: bool) -> _Traced:
        owner = self.template if shared and self.template is not None else self
        if owner is not self and not self._checked_template:
            if owner._signature() != self._signature():
                raise ValueError(
                    f"`template` {owner.name!r} does not have the structure of {self.name!r}: "
                    f"received {owner._signature()} and {self._signature()}."
                )
            self._checked_template = True
        if owner._traced_functions is None:
            owner._traced_functions = _Traced(owner)
        return owner._traced_functions

    def _forward_and_log_det(self, x: tf.Tensor, **kwargs: Any) -> tuple[tf.Tensor, tf.Tensor]:
        if is_initializing() or not all(layer.built for layer in self.keras_layers):
            return forward_and_log_det(self.bijector, x, **kwargs)
        traced = self._traced(shared=not kwargs)
        training = current_call_training()
        trainable, frozen = self.step_variables()
        trainable_values, frozen_values = _read(trainable), _read(frozen)
        updates = {}

        # The weights enter as inputs (read above), so the custom gradient returns their
        # gradients as input gradients and the tape carries them on to the variables.
        @tf.custom_gradient
        def step(
            x: tf.Tensor, *trainable_values: tf.Tensor
        ) -> tuple[tuple[tf.Tensor, tf.Tensor], Callable]:
            y, log_det, new_state = traced.forward(
                x, list(trainable_values), frozen_values, kwargs, training
            )
            updates.update(new_state)

            def grad(dy: tf.Tensor, dlog_det: tf.Tensor) -> tuple[tf.Tensor, ...]:
                dx, dtheta = traced.backward(
                    x, list(trainable_values), frozen_values, kwargs, dy, dlog_det, training
                )
                return (dx, *dtheta)

            return (y, log_det), grad

        y, log_det = step(x, *trainable_values)
        for index, value in updates.items():
            frozen[int(index)].assign(value)
        return y, log_det

    def _inverse_and_log_det(self, y: tf.Tensor, **kwargs: Any) -> tuple[tf.Tensor, tf.Tensor]:
        return inverse_and_log_det(self.bijector, y, **kwargs)

    def _forward_event_shape(self, input_shape: tf.TensorShape) -> tf.TensorShape:
        return self.bijector.forward_event_shape(input_shape)

    def _inverse_event_shape(self, output_shape: tf.TensorShape) -> tf.TensorShape:
        return self.bijector.inverse_event_shape(output_shape)

    def _forward_event_shape_tensor(self, input_shape: tf.Tensor) -> tf.Tensor:
        return self.bijector.forward_event_shape_tensor(input_shape)

    def _inverse_event_shape_tensor(self, output_shape: tf.Tensor) -> tf.Tensor:
        return self.bijector.inverse_event_shape_tensor(output_shape)


class RecomputeTemplates:
    """Wraps flow steps in `Recompute`, sharing traced functions among steps of one structure.

    Steps given the same `key` (e.g. a coupling's partition kind, shape and parity, or one
    Glow level's step shape) must differ only in their weights: the first becomes the
    `template` of the others, so the training graph holds one forward and one backward
    function per key rather than per step.

    Example:
        >>> import tensorflow_probability as tfp
        >>> templates = RecomputeTemplates()
        >>> a = templates.wrap(tfp.bijectors.Identity(), "step", "a_recompute")
        >>> b = templates.wrap(tfp.bijectors.Identity(), "step", "b_recompute")
        >>> b.template is a, a.template is None
        (True, True)
    """

    def __init__(self) -> None:
        self._templates: dict[Hashable, Recompute] = {}

    def wrap(self, bijector: tfb.Bijector, key: Hashable, name: str) -> Recompute:
        """`Recompute(bijector, name=name)`, templated on the first step wrapped with `key`."""
        step = Recompute(bijector, name=name, template=self._templates.get(key))
        self._templates.setdefault(key, step)
        return step
