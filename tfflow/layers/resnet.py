"""RealNVP's residual conditioner network (Dinh et al. 2016, Sec. 4.1)."""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from tfflow.layers.weight_norm_conv import WeightNormConv2D

__all__ = ["ResNet"]


@keras.saving.register_keras_serializable(package="tfflow")
class ResNet(keras.layers.Layer):
    """Weight-normalised ResNet with batch normalisation and a zero-initialised output.

    `conv3x3 -> residual_blocks x [BN, ReLU, conv3x3, BN, ReLU, conv3x3, + skip] -> BN, ReLU ->
    zero conv3x3`. Batch normalisation lives inside the conditioner, where it cannot affect
    invertibility; in inference it uses its moving statistics.

    Args:
        output_channels: channels of the output.
        hidden_channels: feature maps in the residual blocks (64 in the paper for CIFAR-10).
        residual_blocks: number of residual blocks (8 in the paper).
        batch_norm: whether to use batch normalisation.
        l2_scale: L2 factor on the weight-norm scales.
        **kwargs: `keras.layers.Layer` arguments.
    """

    def __init__(
        self,
        output_channels: int,
        hidden_channels: int = 64,
        residual_blocks: int = 8,
        batch_norm: bool = True,
        l2_scale: float = 5e-5,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.output_channels = output_channels
        self.hidden_channels = hidden_channels
        self.residual_blocks = residual_blocks
        self.batch_norm = batch_norm
        self.l2_scale = l2_scale
        self.conv_in = WeightNormConv2D(hidden_channels, 3, l2_scale, name="conv_in")
        self.blocks = []
        for i in range(residual_blocks):
            self.blocks.append(
                [
                    self._norm(f"block{i}_bn0"),
                    WeightNormConv2D(hidden_channels, 3, l2_scale, name=f"block{i}_conv0"),
                    self._norm(f"block{i}_bn1"),
                    WeightNormConv2D(hidden_channels, 3, l2_scale, name=f"block{i}_conv1"),
                ]
            )
        self.norm_out = self._norm("bn_out")
        # Zero-initialised so the coupling starts at the identity.
        self.conv_out = keras.layers.Conv2D(
            output_channels, 3, padding="same", kernel_initializer="zeros", name="conv_out"
        )

    def _norm(self, name: str) -> keras.layers.Layer:
        if self.batch_norm:
            return keras.layers.BatchNormalization(momentum=0.95, name=name)
        return keras.layers.Identity(name=name)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        shape = tuple(input_shape)
        self.conv_in.build(shape)
        hidden = shape[:-1] + (self.hidden_channels,)
        for bn0, conv0, bn1, conv1 in self.blocks:
            bn0.build(hidden)
            conv0.build(hidden)
            bn1.build(hidden)
            conv1.build(hidden)
        self.norm_out.build(hidden)
        self.conv_out.build(hidden)
        self.built = True

    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        h = self.conv_in(inputs)
        for bn0, conv0, bn1, conv1 in self.blocks:
            r = conv0(keras.activations.relu(bn0(h, training=training)))
            r = conv1(keras.activations.relu(bn1(r, training=training)))
            h = h + r
        h = keras.activations.relu(self.norm_out(h, training=training))
        return self.conv_out(h)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return tuple(input_shape[:-1]) + (self.output_channels,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                "output_channels": self.output_channels,
                "hidden_channels": self.hidden_channels,
                "residual_blocks": self.residual_blocks,
                "batch_norm": self.batch_norm,
                "l2_scale": self.l2_scale,
            }
        )
        return config
