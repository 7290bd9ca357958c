"""tfflow bijectors: `tfp.bijectors.Bijector` subclasses with exact log-determinants.

Every tfflow bijector's `forward` is the normalizing direction (data -> latent).
"""

from tfflow.bijectors.actnorm import ActNorm
from tfflow.bijectors.additive_coupling import AdditiveCoupling
from tfflow.bijectors.affine_coupling import SCALE_FUNCTIONS, AffineCoupling
from tfflow.bijectors.class_conditional_prior import ClassConditionalPrior
from tfflow.bijectors.context_prior import ContextPrior
from tfflow.bijectors.data_dependent import data_dependent_init
from tfflow.bijectors.factor_out import FactorOut
from tfflow.bijectors.flow_bijector import (
    FlowBijector,
    collect_keras_layers,
    forward_and_log_det,
    inverse_and_log_det,
    walk_bijectors,
)
from tfflow.bijectors.gaussian_prior import GaussianPrior
from tfflow.bijectors.invertible_conv1x1 import InvertibleConv1x1, random_rotation
from tfflow.bijectors.logit import Logit
from tfflow.bijectors.partitions import PARTITIONS, Partition
from tfflow.bijectors.permutations import random_permutation, reverse_permutation
from tfflow.bijectors.pixel_scaling import PixelScaling
from tfflow.bijectors.pixel_support import PixelSupport
from tfflow.bijectors.recompute import Recompute
from tfflow.bijectors.scaling import Scaling
from tfflow.bijectors.spline_coupling import SplineCoupling, spline_parameter_count
from tfflow.bijectors.squeeze import Squeeze
from tfflow.bijectors.top_prior import LearnedTopPrior

__all__ = [
    "PARTITIONS",
    "SCALE_FUNCTIONS",
    "ActNorm",
    "AdditiveCoupling",
    "AffineCoupling",
    "ClassConditionalPrior",
    "ContextPrior",
    "FactorOut",
    "FlowBijector",
    "GaussianPrior",
    "InvertibleConv1x1",
    "LearnedTopPrior",
    "Logit",
    "Partition",
    "PixelScaling",
    "PixelSupport",
    "Recompute",
    "Scaling",
    "SplineCoupling",
    "Squeeze",
    "collect_keras_layers",
    "data_dependent_init",
    "forward_and_log_det",
    "inverse_and_log_det",
    "random_permutation",
    "random_rotation",
    "reverse_permutation",
    "spline_parameter_count",
    "walk_bijectors",
]
