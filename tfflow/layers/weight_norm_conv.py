"""Weight-normalised 2-D convolution (Salimans & Kingma 2016), as used by RealNVP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import keras
from keras import ops

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["WeightNormConv2D"]


@keras.saving.register_keras_serializable(package="tfflow")
class WeightNormConv2D(keras.layers.Layer):
    """Convolution with kernel `w = g * v / ||v||` (norm over all but the output axis).

    RealNVP applies an L2 penalty to the scales `g` only (`l2_scale`), which is exposed here as
    a Keras activity-free weight regulariser so it shows up in `model.losses`.

    Args:
        filters: output channels.
        kernel_size: spatial kernel size.
        l2_scale: L2 regularisation factor on `g` (RealNVP used 5e-5).
        kernel_initializer: initializer of the direction `v`.
        **kwargs: `keras.layers.Layer` arguments.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int = 3,
        l2_scale: float = 5e-5,
        kernel_initializer: str = "glorot_uniform",
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = kernel_size
        self.l2_scale = l2_scale
        self.kernel_initializer = kernel_initializer

    def build(self, input_shape: tuple) -> None:
        channels = int(input_shape[-1])
        self.v = self.add_weight(
            name="v",
            shape=(self.kernel_size, self.kernel_size, channels, self.filters),
            initializer=self.kernel_initializer,
        )
        self.g = self.add_weight(
            name="g",
            shape=(self.filters,),
            initializer="ones",
            regularizer=keras.regularizers.L2(self.l2_scale) if self.l2_scale else None,
        )
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")
        self.built = True

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        norm = ops.sqrt(ops.sum(ops.square(self.v), axis=(0, 1, 2)) + 1e-12)
        kernel = self.v * (self.g / norm)
        return ops.conv(inputs, kernel, padding="same") + self.bias

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape[:-1]) + (self.filters,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "l2_scale": self.l2_scale,
                "kernel_initializer": self.kernel_initializer,
            }
        )
        return config
