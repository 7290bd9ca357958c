"""Multi-layer perceptron conditioner (NICE: 5 x 1000 ReLU; RealNVP tabular: 2 x 256)."""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

__all__ = ["MLP"]


@keras.saving.register_keras_serializable(package="tfflow")
class MLP(keras.layers.Layer):
    """`hidden_layers` Dense+activation layers, then a zero-initialised Dense output.

    The zero-initialised output layer makes every coupling start at the identity, which keeps
    deep flows well conditioned at the start of training (Glow, Sec. 3.3).

    Args:
        output_units: size of the output.
        hidden_units: width of each hidden layer.
        hidden_layers: number of hidden layers.
        activation: hidden activation.
        **kwargs: `keras.layers.Layer` arguments.

    Call arguments:
        inputs: tensor of shape `(..., input_units)`.

    Returns:
        Tensor of shape `(..., output_units)`.
    """

    def __init__(
        self,
        output_units: int,
        hidden_units: int = 256,
        hidden_layers: int = 2,
        activation: str = "relu",
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.output_units = output_units
        self.hidden_units = hidden_units
        self.hidden_layers = hidden_layers
        self.activation = activation
        self.hidden = [
            keras.layers.Dense(hidden_units, activation=activation, name=f"hidden_{i}")
            for i in range(hidden_layers)
        ]
        self.output_layer = keras.layers.Dense(
            output_units, kernel_initializer="zeros", name="output"
        )

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        shape = tuple(input_shape)
        for layer in self.hidden:
            layer.build(shape)
            shape = shape[:-1] + (self.hidden_units,)
        self.output_layer.build(shape)
        self.built = True

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        h = inputs
        for layer in self.hidden:
            h = layer(h)
        return self.output_layer(h)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return tuple(input_shape[:-1]) + (self.output_units,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                "output_units": self.output_units,
                "hidden_units": self.hidden_units,
                "hidden_layers": self.hidden_layers,
                "activation": self.activation,
            }
        )
        return config
