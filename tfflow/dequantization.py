"""Uniform dequantization of integer pixels: the one implementation that models (`fit` on
integer input) and data pipelines share."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = ["dequantize_pixels"]


def dequantize_pixels(x: tf.Tensor, n_bits: int, seed: tf.Tensor, dtype: tf.DType) -> tf.Tensor:
    """Integer pixels `x` plus stateless `U[0, 1)` noise drawn with `seed` (a `[2]` tensor).

    Values stay below `2**n_bits`: in float32, `255 + 0.99999997` would round up to 256,
    outside the support of the model.

    Example:
        >>> x = tf.constant([[0, 255]], tf.uint8)
        >>> y = dequantize_pixels(x, 8, tf.constant([1, 2], tf.int64), tf.float32).numpy()
        >>> bool(((y >= [0, 255]) & (y < [1, 256])).all())
        True
    """
    noise = tf.random.stateless_uniform(tf.shape(x), seed, dtype=dtype)
    numpy_dtype = tf.as_dtype(dtype).as_numpy_dtype
    below_top = np.nextafter(np.array(2.0**n_bits, numpy_dtype), np.array(0.0, numpy_dtype))
    return tf.minimum(tf.cast(x, dtype) + noise, tf.constant(below_top, dtype))
