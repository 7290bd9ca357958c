"""Glow's zero-initialised output convolution (`Conv2dZeros` in the official code)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import keras
from keras import ops

from tfflow.layers.fast_conv import conv2d

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["ZeroConv2D"]


@keras.saving.register_keras_serializable(package="tfflow")
class ZeroConv2D(keras.layers.Layer):
    """3x3 convolution with zero kernel and bias and a per-channel `exp(3 * logs)` gain.

    Starting at zero makes the coupling (or learned prior) it feeds start at the identity; the
    learned gain `exp(logscale_factor * logs)` lets the output grow quickly once training
    starts (Kingma & Dhariwal 2018, official code `Conv2dZeros`).

    Args:
        filters: number of output channels.
        kernel_size: spatial kernel size.
        logscale_factor: multiplier of the learned log gain (3 in Glow).
        **kwargs: `keras.layers.Layer` arguments.
    """

    def __init__(
        self, filters: int, kernel_size: int = 3, logscale_factor: float = 3.0, **kwargs: Any
    ):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = kernel_size
        self.logscale_factor = logscale_factor
        self.conv = keras.layers.Conv2D(
            filters, kernel_size, padding="same", kernel_initializer="zeros", name="conv"
        )

    def build(self, input_shape: tuple) -> None:
        self.conv.build(input_shape)
        self.logs = self.add_weight(name="logs", shape=(self.filters,), initializer="zeros")
        self.built = True

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        return conv2d(self.conv, inputs) * ops.exp(self.logs * self.logscale_factor)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape[:-1]) + (self.filters,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "logscale_factor": self.logscale_factor,
            }
        )
        return config
