"""Activation recomputation: keep a flow step's activations out of memory during training."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_probability as tfp

from tfflow.bijectors.flow_bijector import (
    FlowBijector,
    collect_keras_layers,
    forward_and_log_det,
    inverse_and_log_det,
)

tfb = tfp.bijectors

__all__ = ["Recompute"]


class Recompute(FlowBijector):
    """Wraps a bijector so its forward pass is recomputed in the backward pass.

    `tf.recompute_grad` stores only the wrapped block's input; the intermediate activations
    of its conditioner networks are recomputed when gradients are taken. Wrapping each flow
    step makes training memory grow with the number of steps only through the step inputs
    and outputs, not through every hidden activation. Values and log-dets are unchanged.

    Args:
        bijector: the block to wrap (e.g. one Glow step: ActNorm, 1x1 conv, coupling).
        name: bijector name.
    """

    def __init__(self, bijector: tfb.Bijector, name: str | None = None):
        parameters = dict(locals())
        self.bijector = bijector
        self.keras_layers = tuple(collect_keras_layers(bijector))
        super().__init__(
            forward_min_event_ndims=bijector.forward_min_event_ndims,
            inverse_min_event_ndims=bijector.inverse_min_event_ndims,
            is_constant_jacobian=bijector.is_constant_jacobian,
            validate_args=bijector.validate_args,
            parameters=parameters,
            name=name or f"recompute_{bijector.name}",
        )

    def _forward_and_log_det(self, x, **kwargs):
        @tf.recompute_grad
        def block(x):
            return forward_and_log_det(self.bijector, x, **kwargs)

        return block(x)

    def _inverse_and_log_det(self, y, **kwargs):
        return inverse_and_log_det(self.bijector, y, **kwargs)

    def _forward_event_shape(self, input_shape):
        return self.bijector.forward_event_shape(input_shape)

    def _inverse_event_shape(self, output_shape):
        return self.bijector.inverse_event_shape(output_shape)

    def _forward_event_shape_tensor(self, input_shape):
        return self.bijector.forward_event_shape_tensor(input_shape)

    def _inverse_event_shape_tensor(self, output_shape):
        return self.bijector.inverse_event_shape_tensor(output_shape)
