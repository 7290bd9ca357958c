"""Affine coupling (RealNVP, Glow): `y2 = x2 * exp(s(x1)) + t(x1)`, `y1 = x1`."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfflow.bijectors.coupling import PartitionedCoupling
from tfflow.bijectors.flow_bijector import log_det_dtype
from tfflow.bijectors.partitions import Partition
from tfflow.layers.parameter_set import ParameterSet, parameter_dtype

__all__ = ["SCALE_FUNCTIONS", "AffineCoupling"]

SCALE_FUNCTIONS = ("tanh", "sigmoid", "softclamp", "exp")


class AffineCoupling(PartitionedCoupling):
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
            With a context (the conditional keyword argument `context`, an encoded context
            tensor), the conditioner reads `concat(x1, context)` instead
            (`tfflow.bijectors.conditioning`).
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
        self.halves_event_shape = partition.event_shape if partition.splits_halves else None
        rank = len(partition.event_shape)
        super().__init__(
            forward_min_event_ndims=rank,
            validate_args=validate_args,
            parameters=parameters,
            name=name,
        )

    def _shift_and_scale(
        self, x_cond: tf.Tensor, context: tf.Tensor | None = None
    ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """`(t, s, exp(s))` from the conditioning part (restricted for masks)."""
        params = self._conditioner_output(x_cond, context)
        # tf.split's gradient is a concat, cheaper than slicing's StridedSliceGrad.
        shift, h = tf.split(params, 2, axis=-1)
        scale = None
        if self.scale_fn == "tanh":
            log_scale = tf.cast(self.scale_factor.factor, h.dtype) * tf.tanh(h)
        elif self.scale_fn == "sigmoid":
            eps = tf.cast(np.exp(-self.log_scale_bound), h.dtype)
            scale = eps + (1.0 - eps) * tf.sigmoid(h + 2.0)
            log_scale = tf.math.log(scale)
        elif self.scale_fn == "softclamp":
            bound = tf.cast(self.log_scale_bound, h.dtype)
            log_scale = bound * tf.tanh(h / bound)
        else:
            log_scale = h
        if self.partition.is_mask:
            # No change on conditioning positions: t = s = 0 there, so exp(s) = 1.
            log_scale = self.partition.restrict(log_scale)
            return self.partition.restrict(shift), log_scale, tf.exp(log_scale)
        # The sigmoid gives exp(s) directly: no exp(log(.)) round trip, which also made
        # grappler fuse log and exp into a slow CPU kernel in the inverse.
        return shift, log_scale, tf.exp(log_scale) if scale is None else scale

    def _forward_parts(
        self, x_cond: tf.Tensor, x_trans: tf.Tensor, context: tf.Tensor | None = None
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """`(y_trans, s)`: the transformed part and the per-element log-det terms."""
        shift, log_scale, scale = self._shift_and_scale(x_cond, context)
        return x_trans * scale + shift, tf.cast(log_scale, log_det_dtype(x_trans.dtype))

    def _inverse_parts(
        self, y_cond: tf.Tensor, y_trans: tf.Tensor, context: tf.Tensor | None = None
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """`(x_trans, s)`: the inverse log-det is `-sum(s)`."""
        shift, log_scale, scale = self._shift_and_scale(y_cond, context)
        # Division, not `* exp(-s)`: grappler fuses neg+exp into a slow CPU kernel.
        return (y_trans - shift) / scale, tf.cast(log_scale, log_det_dtype(y_trans.dtype))
