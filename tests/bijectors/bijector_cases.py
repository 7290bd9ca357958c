"""Factories of every tfflow bijector at small sizes, for the shared contract suite."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfflow import bijectors as tb
from tfflow import layers as tl

tfb = tfp.bijectors

__all__ = ["CASES", "Case"]


@dataclass
class Case:
    """A bijector factory plus how to draw valid inputs for it."""

    make: Callable[[], tfb.Bijector]
    event_shape: tuple[int, ...]
    low: float | None = None  # uniform inputs in [low, high) when set, else standard normal
    high: float | None = None
    trainable: bool = True

    def sample(self, batch_shape: tuple[int, ...], dtype, seed: int = 0) -> tf.Tensor:
        rng = np.random.RandomState(seed)
        shape = tuple(batch_shape) + self.event_shape
        if self.low is None:
            values = rng.normal(size=shape)
        else:
            values = rng.uniform(self.low, self.high, size=shape)
        return tf.constant(values, dtype=dtype)


def _affine(kind: str, shape, parity: int, scale_fn: str, conv: bool) -> Callable:
    def make():
        partition = tb.Partition(kind, shape, parity)
        out = 2 * partition.transformed_shape[-1]
        net = tl.GlowBlock(out, 8) if conv else tl.MLP(out, 16, 2)
        return tb.AffineCoupling(net, partition, scale_fn=scale_fn)

    return make


def _additive(kind: str, shape, parity: int, conv: bool) -> Callable:
    def make():
        partition = tb.Partition(kind, shape, parity)
        out = partition.transformed_shape[-1]
        net = tl.GlowBlock(out, 8) if conv else tl.MLP(out, 16, 2)
        return tb.AdditiveCoupling(net, partition)

    return make


def _spline(kind: str, shape, parity: int, conv: bool, num_bins: int = 4) -> Callable:
    def make():
        partition = tb.Partition(kind, shape, parity)
        out = tb.spline_parameter_count(num_bins) * partition.transformed_shape[-1]
        net = tl.GlowBlock(out, 8) if conv else tl.MLP(out, 16, 2)
        # A small bound, so standard-normal inputs cover both the spline and its linear tails.
        return tb.SplineCoupling(net, partition, num_bins=num_bins, bound=1.5)

    return make


def _resnet_affine():
    partition = tb.Partition("checkerboard", (4, 4, 2), 0)
    net = tl.ResNet(4, hidden_channels=8, residual_blocks=1)
    return tb.AffineCoupling(net, partition, scale_fn="tanh")


def _factor_out(learned: bool) -> Callable:
    def make():
        inner = tb.AffineCoupling(
            tl.GlowBlock(2, 8), tb.Partition("channel", (2, 2, 2), 0), scale_fn="softclamp"
        )
        flatten = tfb.Reshape([8], [2, 2, 2])
        return tb.FactorOut((2, 2, 4), tfb.Chain([flatten, inner]), learned_prior=learned)

    return make


def _recompute_glow_step():
    """A Glow step (ActNorm, 1x1 convolution, affine coupling) with activation recomputation."""
    shape = (2, 2, 4)
    partition = tb.Partition("channel", shape, 0)
    coupling = tb.AffineCoupling(tl.GlowBlock(4, 8), partition, scale_fn="sigmoid")
    step = tfb.Chain([coupling, tb.InvertibleConv1x1(shape, seed=2), tb.ActNorm(shape)])
    return tb.Recompute(step)


def _glow_step_shuffle():
    """A Glow step with a fixed channel shuffle instead of the 1x1 convolution."""
    shape = (2, 2, 4)
    partition = tb.Partition("channel", shape, 0)
    coupling = tb.AffineCoupling(tl.GlowBlock(4, 8), partition, scale_fn="sigmoid")
    return tfb.Chain([coupling, tb.random_permutation(4, seed=5), tb.ActNorm(shape)])


CASES: dict[str, Case] = {
    "additive_half": Case(_additive("half", (5,), 0, False), (5,)),
    "additive_odd_even": Case(_additive("odd_even", (6,), 1, False), (6,)),
    "additive_checkerboard": Case(_additive("checkerboard", (4, 4, 2), 1, True), (4, 4, 2)),
    "additive_channel": Case(_additive("channel", (2, 2, 3), 0, True), (2, 2, 3)),
    "affine_half_tanh": Case(_affine("half", (5,), 1, "tanh", False), (5,)),
    "affine_odd_even_softclamp": Case(_affine("odd_even", (6,), 0, "softclamp", False), (6,)),
    "affine_checkerboard_tanh": Case(
        _affine("checkerboard", (4, 4, 2), 0, "tanh", True), (4, 4, 2)
    ),
    "affine_channel_sigmoid": Case(_affine("channel", (2, 2, 4), 1, "sigmoid", True), (2, 2, 4)),
    "affine_channel_exp": Case(_affine("channel", (2, 2, 3), 0, "exp", True), (2, 2, 3)),
    "affine_resnet_checkerboard": Case(_resnet_affine, (4, 4, 2)),
    "spline_half": Case(_spline("half", (5,), 1, False), (5,)),
    "spline_odd_even": Case(_spline("odd_even", (6,), 0, False, num_bins=2), (6,)),
    "spline_checkerboard": Case(_spline("checkerboard", (4, 4, 2), 0, True), (4, 4, 2)),
    "spline_channel": Case(_spline("channel", (2, 2, 3), 1, True), (2, 2, 3)),
    "squeeze": Case(tb.Squeeze, (4, 2, 3), trainable=False),
    "reverse_permutation": Case(lambda: tb.reverse_permutation(5), (5,), trainable=False),
    "random_permutation": Case(
        lambda: tb.random_permutation(6, seed=3), (2, 2, 6), trainable=False
    ),
    "scaling": Case(lambda: tb.Scaling((6,)), (6,)),
    "actnorm_image": Case(lambda: tb.ActNorm((3, 3, 2)), (3, 3, 2)),
    "actnorm_vector": Case(lambda: tb.ActNorm((4,)), (4,)),
    "conv1x1_lu": Case(lambda: tb.InvertibleConv1x1((2, 3, 4), seed=1), (2, 3, 4)),
    "conv1x1_plain": Case(lambda: tb.InvertibleConv1x1((2, 3, 4), lu_decomposed=False), (2, 3, 4)),
    "factor_out_learned_prior": Case(_factor_out(True), (2, 2, 4)),
    "factor_out_plain": Case(_factor_out(False), (2, 2, 4)),
    "pixel_support": Case(lambda: tb.PixelSupport((2, 2, 1)), (2, 2, 1), 0.0, 256.0, False),
    "pixel_scaling": Case(lambda: tb.PixelScaling((2, 2, 1)), (2, 2, 1), 0.0, 256.0, False),
    "pixel_scaling_glow": Case(
        lambda: tb.PixelScaling((3,), n_bits=5, shift=-0.5), (3,), 0.0, 32.0, False
    ),
    "logit": Case(lambda: tb.Logit((4,), alpha=0.05), (4,), 0.0, 1.0, False),
    "logit_mnist_alpha": Case(lambda: tb.Logit((4,), alpha=1e-6), (4,), 0.01, 0.99, False),
    "recompute_glow_step": Case(_recompute_glow_step, (2, 2, 4)),
    "glow_step_shuffle": Case(_glow_step_shuffle, (2, 2, 4)),
    "learned_top_prior": Case(lambda: tb.LearnedTopPrior(5), (5,)),
}
