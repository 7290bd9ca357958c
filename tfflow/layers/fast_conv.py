"""A Keras `Conv2D`'s computation in raw TensorFlow ops: one fused kernel per convolution."""

from __future__ import annotations

import keras
import tensorflow as tf

__all__ = ["conv2d"]


def conv2d(layer: keras.layers.Conv2D, inputs: tf.Tensor) -> tf.Tensor:
    """`layer(inputs)` for a built, stride-1, channels-last `Conv2D` with `"same"` padding
    and a linear or ReLU activation, as `relu(bias_add(conv2d(x, kernel), bias))`.

    Keras' own call adds the bias as a broadcast `Add` of a reshaped bias, which leaves a
    `Reshape` and a `Squeeze` kernel beside each fused convolution on CPU; these raw ops fuse
    into one `_FusedConv2D`. Same weights, same math; computes in the layer's compute dtype.
    Other configurations fall back to `layer(inputs)`.
    """
    activation = layer.activation
    plain = (
        layer.built
        and layer.rank == 2
        and layer.data_format == "channels_last"
        and tuple(layer.strides) == (1, 1)
        and tuple(layer.dilation_rate) == (1, 1)
        and layer.groups == 1
        and layer.padding == "same"
        and activation in (keras.activations.linear, keras.activations.relu)
    )
    if not plain:
        return layer(inputs)
    dtype = layer.compute_dtype
    x = tf.cast(inputs, dtype)
    out = tf.nn.conv2d(x, tf.cast(layer.kernel, dtype), 1, "SAME")
    if layer.use_bias:
        out = tf.nn.bias_add(out, tf.cast(layer.bias, dtype))
    return tf.nn.relu(out) if activation is keras.activations.relu else out
