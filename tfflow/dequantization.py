"""Integer pixels as continuous values: uniform dequantization (models' `fit` on integer
input, data pipelines) and the bin centres at which integer input is scored (models, the
serving module, the served-model loader) — one implementation each."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from numpy.typing import ArrayLike

from tfflow.stateless import stateless_algorithm

__all__ = ["bin_centres", "dequantize_pixels"]


def bin_centres(x: ArrayLike, dtype: tf.DType = tf.float32) -> tf.Tensor:
    """Integer pixel levels `k` as the centres `k + 0.5` of their bins `[k, k + 1)`.

    A flow's density over the dequantized data is read at the bin centre when it scores an
    integer image deterministically (`log_prob`, `evaluate`, the served `log_prob_uint8`).

    Args:
        x: integer (or boolean) levels: a tensor, array or nested list.
        dtype: the floating dtype of the result.

    Example:
        >>> bin_centres(tf.constant([0, 255], tf.uint8)).numpy()
        array([  0.5, 255.5], dtype=float32)
    """
    return tf.cast(x, dtype) + tf.constant(0.5, dtype)


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
    noise = tf.random.stateless_uniform(tf.shape(x), seed, dtype=dtype, alg=stateless_algorithm())
    numpy_dtype = tf.as_dtype(dtype).as_numpy_dtype
    below_top = np.nextafter(np.array(2.0**n_bits, numpy_dtype), np.array(0.0, numpy_dtype))
    return tf.minimum(tf.cast(x, dtype) + noise, tf.constant(below_top, dtype))
