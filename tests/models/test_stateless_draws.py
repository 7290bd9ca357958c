"""tfflow's stateless draws: the numbers of TensorFlow's default algorithm in every mode."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import tfflow
from tfflow.dequantization import dequantize_pixels
from tfflow.models.priors import latent_noise
from tfflow.stateless import stateless_algorithm

SEED = tf.constant([7, 3], tf.int64)
MODES = {
    "eager": lambda fn: fn,
    "graph": tf.function,
    "xla": lambda fn: tf.function(fn, jit_compile=True),
}


def test_algorithm_is_named_inside_graphs_only():
    seen = []

    @tf.function
    def traced():
        seen.append(stateless_algorithm())
        return tf.constant(0)

    traced()
    assert stateless_algorithm() == "auto_select"
    assert seen == ["philox"]


@pytest.mark.parametrize("mode", list(MODES))
def test_dequantization_noise_is_the_default_algorithms(mode):
    # A seed that arrives at run time (as `fit`'s, made from the optimizer step): the noise
    # of TensorFlow's own default draw compiled the same way; naming the algorithm changes
    # the speed under XLA, not the numbers.
    x = tf.constant(np.arange(6 * 5, dtype=np.uint8).reshape(6, 5) * 8)
    ours = MODES[mode](lambda: dequantize_pixels(x, 8, SEED, tf.float32))()
    default = MODES[mode](
        lambda: tf.cast(x, tf.float32) + tf.random.stateless_uniform(tf.shape(x), SEED)
    )()
    np.testing.assert_array_equal(ours.numpy(), default.numpy())


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("prior", ["normal", "logistic"])
def test_seeded_latent_draws_are_the_same_in_every_mode(mode, prior):
    # A Python seed: the same latent eagerly, in a graph and under XLA, and the numbers of
    # TensorFlow's default algorithm drawn eagerly (with the default, XLA drew others).
    ours = MODES[mode](lambda: latent_noise(prior, 5, 4, 1.0, 11, tf.float32))()
    seed = tf.constant([11, 0], tf.int64)
    if prior == "normal":
        default = tf.random.stateless_normal([5, 4], seed)
    else:
        u = tf.random.stateless_uniform([5, 4], seed, minval=1e-7, maxval=1 - 1e-7)
        default = tf.math.log(u) - tf.math.log1p(-u)
    np.testing.assert_allclose(ours.numpy(), default.numpy(), rtol=1e-6, atol=1e-6)


def test_seeded_samples_are_the_same_with_and_without_xla():
    model = tfflow.RealNVP((3,), coupling_layers=2, hidden_units=8)
    eager = model.sample(4, seed=3).numpy()
    for mode in ("graph", "xla"):
        compiled = MODES[mode](lambda: model.sample(4, seed=3))()
        np.testing.assert_allclose(compiled.numpy(), eager, rtol=1e-5, atol=1e-5)
