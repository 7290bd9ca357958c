"""Keras 3 layers that own the parameters tfflow bijectors read at call time."""

from tfflow.layers.context_encoder import ContextEncoder
from tfflow.layers.glow_block import GlowBlock
from tfflow.layers.mlp import MLP
from tfflow.layers.parameter_set import ParameterSet
from tfflow.layers.resnet import ResNet
from tfflow.layers.weight_norm_conv import WeightNormConv2D
from tfflow.layers.zero_conv import ZeroConv2D

__all__ = [
    "ContextEncoder",
    "GlowBlock",
    "MLP",
    "ParameterSet",
    "ResNet",
    "WeightNormConv2D",
    "ZeroConv2D",
]
