"""Toy-size models for the model test suite, and data drawn for them."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

import tfflow

__all__ = ["MODELS", "make_model", "sample_data"]

MODELS = {
    "nice": lambda: tfflow.NICE((8,), coupling_layers=3, hidden_layers=2, hidden_units=16),
    "nice_pixels": lambda: tfflow.NICE(
        (16,), coupling_layers=2, hidden_layers=1, hidden_units=16, pixels=True, prior="normal"
    ),
    "realnvp_vector": lambda: tfflow.RealNVP((6,), coupling_layers=4, hidden_units=16),
    "realnvp_image": lambda: tfflow.RealNVP(
        (4, 4, 2), num_scales=2, residual_blocks=1, hidden_channels=8
    ),
    "glow": lambda: tfflow.Glow((4, 4, 2), levels=2, steps_per_level=2, hidden_channels=8),
    "glow_shift": lambda: tfflow.Glow(
        (4, 4, 1), levels=1, steps_per_level=2, hidden_channels=8, preprocessing="shift"
    ),
    "glow_additive": lambda: tfflow.Glow(
        (4, 4, 1), levels=1, steps_per_level=2, hidden_channels=8, coupling="additive"
    ),
    "glow_spline": lambda: tfflow.Glow(
        (4, 4, 1), levels=1, steps_per_level=2, hidden_channels=8, coupling="spline", num_bins=3
    ),
    # openai/glow's --flow_permutation 1 and --learntop.
    "glow_shuffle_top_prior": lambda: tfflow.Glow(
        (4, 4, 2),
        levels=2,
        steps_per_level=2,
        hidden_channels=8,
        permutation="shuffle",
        learn_top_prior=True,
    ),
    "glow_reverse": lambda: tfflow.Glow(
        (4, 4, 1), levels=1, steps_per_level=2, hidden_channels=8, permutation="reverse"
    ),
    "nice_spline": lambda: tfflow.NICE(
        (8,), coupling_layers=2, hidden_layers=1, hidden_units=16, coupling="spline", num_bins=3
    ),
    "realnvp_vector_spline": lambda: tfflow.RealNVP(
        (6,), coupling_layers=2, hidden_units=16, coupling="spline", num_bins=4, spline_bound=2.0
    ),
}


def make_model(name: str, seed: int = 0, scale: float = 0.1):
    """Builds a toy model and randomises its trainable weights away from the identity."""
    model = MODELS[name]()
    rng = np.random.RandomState(seed)
    for v in model.trainable_variables:
        v.assign(rng.normal(scale=scale, size=v.shape).astype(v.dtype))
    return model


def sample_data(model, batch: int, seed: int = 0) -> tf.Tensor:
    rng = np.random.RandomState(seed)
    shape = (batch,) + model.data_shape
    if model.pixels:
        values = rng.uniform(0.0, 2.0**model.n_bits, size=shape)
    else:
        values = rng.normal(size=shape)
    return tf.constant(values, dtype=model.dtype_policy.variable_dtype)
