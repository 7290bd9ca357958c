"""Affine coupling (RealNVP, Glow): `y2 = x2 * exp(s(x1)) + t(x1)`, `y1 = x1`."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfflow.bijectors._validation import check_event, check_float
from tfflow.bijectors.flow_bijector import FlowBijector, call_with_flat_batch, log_det_dtype
from tfflow.bijectors.partitions import Partition
from tfflow.layers.parameter_set import ParameterSet, parameter_dtype

__all__ = ["SCALE_FUNCTIONS", "AffineCoupling"]

SCALE_FUNCTIONS = ("tanh", "sigmoid", "softclamp", "exp")


class AffineCoupling(FlowBijector):
    """Affine coupling layer with a bounded log-scale.

    Forward (the normalizing direction, data -> latent):
        (x1, x2) = split(x);  (t, h) = conditioner(x1);  s = bound(h)
        y2 = x2 * exp(s) + t;  y = merge(x1, y2);  log|det J| = sum(s)

    The log-scale bound `scale_fn` keeps `exp(s)` finite; an unbounded scale is what makes
    TFP's default RealNVP blow up early in training:
        - `"tanh"`: `s = factor * tanh(h)` with a learnable per-feature `factor` (init 1),
          RealNVP's choice; `|s| <= |factor|`.
        - `"sigmoid"`: `exp(s) = eps + (1 - eps) * sigmoid(h + 2)` with
          `eps = exp(-log_scale_bound)`: Glow's official code's `sigmoid(h + 2)` with a floor,
          so `s in (-log_scale_bound, 0)`: the coupling only contracts (by at most
          `1 / eps` in the inverse, which keeps sampling at high temperature finite), and
          starts near `exp(s) = sigmoid(2) = 0.88`.
        - `"softclamp"`: `s = log_scale_bound * tanh(h / log_scale_bound)`; `|s| < bound`.
        - `"exp"`: `s = h`, unbounded (for comparison only).

    Args:
        conditioner: Keras layer mapping the conditioning part (shape
            `partition.conditioner_input_shape`) to `2 * c` channels, where `c` is the last
            dim of `partition.transformed_shape`: first half shift `t`, second half `h`.
        partition: a `Partition` (half, odd_even, checkerboard or channel).
        scale_fn: one of `SCALE_FUNCTIONS`.
        log_scale_bound: bound on `|s|` for `"softclamp"` and `"sigmoid"`.
        validate_args: TFP's `validate_args`.
        name: bijector name.

    References:
        Dinh, Sohl-Dickstein, Bengio. Density estimation using Real NVP. arXiv:1605.08803.
        Kingma, Dhariwal. Glow. arXiv:1807.03039.
    """

    def __init__(
        self,
        conditioner: keras.layers.Layer,
        partition: Partition,
        scale_fn: str = "tanh",
        log_scale_bound: float = 3.0,
        validate_args: bool = False,
        name: str = "affine_coupling",
    ):
        parameters = dict(locals())
        if scale_fn not in SCALE_FUNCTIONS:
            raise ValueError(f"`scale_fn` must be one of {SCALE_FUNCTIONS}; received {scale_fn!r}.")
        if not log_scale_bound > 0:
            raise ValueError(f"`log_scale_bound` must be positive; received {log_scale_bound!r}.")
        self.conditioner = conditioner
        self.partition = partition
        self.scale_fn = scale_fn
        self.log_scale_bound = float(log_scale_bound)
        channels = partition.transformed_shape[-1]
        self.scale_factor = None
        layers = [conditioner]
        if scale_fn == "tanh":
            self.scale_factor = ParameterSet(
                {"factor": (channels,)},
                trainable_names=("factor",),
                initial_values={"factor": np.ones(channels)},
                dtype=parameter_dtype(),
                name=f"{name}_tanh_factor",
            )
            layers.append(self.scale_factor)
        self.keras_layers = tuple(layers)
        rank = len(partition.event_shape)
        super().__init__(
            forward_min_event_ndims=rank,
            validate_args=validate_args,
            parameters=parameters,
            name=name,
        )

    def _shift_and_log_scale(self, x_cond: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        params = tf.cast(
            call_with_flat_batch(self.conditioner, x_cond, len(self.partition.event_shape)),
            x_cond.dtype,
        )
        # tf.split's gradient is a concat, cheaper than slicing's StridedSliceGrad.
        shift, h = tf.split(params, 2, axis=-1)
        if self.scale_fn == "tanh":
            log_scale = tf.cast(self.scale_factor.factor, h.dtype) * tf.tanh(h)
        elif self.scale_fn == "sigmoid":
            eps = tf.cast(np.exp(-self.log_scale_bound), h.dtype)
            log_scale = tf.math.log(eps + (1.0 - eps) * tf.sigmoid(h + 2.0))
        elif self.scale_fn == "softclamp":
            bound = tf.cast(self.log_scale_bound, h.dtype)
            log_scale = bound * tf.tanh(h / bound)
        else:
            log_scale = h
        return self.partition.restrict(shift), self.partition.restrict(log_scale)

    def _prepare(self, x: tf.Tensor, arg: str) -> tf.Tensor:
        x = check_float(x, self.name, arg)
        check_event(x, self.partition.event_shape, self.name, arg)
        return x

    def _forward_and_log_det(self, x):
        x = self._prepare(x, "x")
        x_cond, x_trans = self.partition.split(x)
        shift, log_scale = self._shift_and_log_scale(x_cond)
        y = self.partition.merge(x_cond, x_trans * tf.exp(log_scale) + shift)
        return y, self.partition.transformed_sum(tf.cast(log_scale, log_det_dtype(x.dtype)))

    def _inverse_and_log_det(self, y):
        y = self._prepare(y, "y")
        y_cond, y_trans = self.partition.split(y)
        shift, log_scale = self._shift_and_log_scale(y_cond)
        # Division, not `* exp(-s)`: grappler fuses neg+exp into a slow CPU kernel.
        x = self.partition.merge(y_cond, (y_trans - shift) / tf.exp(log_scale))
        return x, -self.partition.transformed_sum(tf.cast(log_scale, log_det_dtype(y.dtype)))
