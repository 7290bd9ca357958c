"""Glow's coupling network: 3x3 conv, ReLU, 1x1 conv, ReLU, zero-initialised 3x3 conv."""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from tfflow.layers.fast_conv import conv2d
from tfflow.layers.zero_conv import ZeroConv2D

__all__ = ["GlowBlock"]


@keras.saving.register_keras_serializable(package="tfflow")
class GlowBlock(keras.layers.Layer):
    """The conditioner network `NN()` of Glow's affine coupling (Kingma & Dhariwal 2018).

    Args:
        output_channels: channels of the output (2x the transformed channels for affine).
        hidden_channels: width of the two hidden convolutions (512 in the paper).
        **kwargs: `keras.layers.Layer` arguments.

    Call arguments:
        inputs: tensor `(batch, h, w, c)`.

    Returns:
        Tensor `(batch, h, w, output_channels)`, zero at initialisation.
    """

    def __init__(self, output_channels: int, hidden_channels: int = 512, **kwargs: Any):
        super().__init__(**kwargs)
        self.output_channels = output_channels
        self.hidden_channels = hidden_channels
        self.conv_in = keras.layers.Conv2D(
            hidden_channels, 3, padding="same", activation="relu", name="conv_in"
        )
        self.conv_mid = keras.layers.Conv2D(
            hidden_channels, 1, padding="same", activation="relu", name="conv_mid"
        )
        self.conv_out = ZeroConv2D(output_channels, name="conv_out")

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        shape = tuple(input_shape)
        self.conv_in.build(shape)
        hidden = shape[:-1] + (self.hidden_channels,)
        self.conv_mid.build(hidden)
        self.conv_out.build(hidden)
        self.built = True

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        return self.conv_out(conv2d(self.conv_mid, conv2d(self.conv_in, inputs)))

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return tuple(input_shape[:-1]) + (self.output_channels,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {"output_channels": self.output_channels, "hidden_channels": self.hidden_channels}
        )
        return config
