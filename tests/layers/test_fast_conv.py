"""`tfflow.layers.fast_conv.conv2d` computes exactly what the Keras layer's own call does."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfflow import layers as tl
from tfflow.layers.fast_conv import conv2d


@pytest.mark.parametrize("policy", ["float32", "float64", "mixed_bfloat16"])
@pytest.mark.parametrize("activation, kernel_size", [("relu", 3), (None, 1)])
def test_raw_ops_equal_the_layer_call(policy, activation, kernel_size):
    keras.mixed_precision.set_global_policy(policy)
    layer = keras.layers.Conv2D(5, kernel_size, padding="same", activation=activation)
    x = tf.random.stateless_normal([2, 4, 4, 3], [1, 2], dtype=layer.variable_dtype)
    layer.build(x.shape)
    layer.bias.assign(tf.random.stateless_normal([5], [3, 4], dtype=layer.variable_dtype))
    got, want = conv2d(layer, x), layer(x)
    assert got.dtype == want.dtype == tf.as_dtype(layer.compute_dtype)
    np.testing.assert_array_equal(tf.cast(got, tf.float64).numpy(), tf.cast(want, tf.float64))


def test_other_configurations_use_the_layer_call():
    layer = keras.layers.Conv2D(2, 3, strides=2, padding="valid", activation="tanh")
    x = tf.random.stateless_normal([1, 5, 5, 1], [5, 6])
    layer.build(x.shape)
    assert conv2d(layer, x).shape == (1, 2, 2, 2)
    np.testing.assert_array_equal(conv2d(layer, x).numpy(), layer(x).numpy())


def test_glow_block_and_zero_conv_gradients_reach_every_weight():
    block = tl.GlowBlock(4, 8)
    block.build((None, 4, 4, 2))
    for v in block.trainable_variables:
        v.assign(tf.random.stateless_normal(v.shape, [7, 8]) * 0.1)
    x = tf.random.stateless_normal([2, 4, 4, 2], [9, 9])
    with tf.GradientTape() as tape:
        out = tf.reduce_sum(tf.square(block(x)))
    grads = tape.gradient(out, block.trainable_variables)
    assert all(g is not None and float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)
