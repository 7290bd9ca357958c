"""The coupling kinds a model can be built with: `"affine"`, `"additive"` or `"spline"`.

One home for what the models share: checking a model's `coupling=` argument, how many
conditioner outputs each kind needs per transformed element, and building the coupling.
"""

from __future__ import annotations

import keras

from tfflow.bijectors.additive_coupling import AdditiveCoupling
from tfflow.bijectors.affine_coupling import AffineCoupling
from tfflow.bijectors.flow_bijector import FlowBijector
from tfflow.bijectors.partitions import Partition
from tfflow.bijectors.spline_coupling import SplineCoupling, spline_parameter_count

__all__ = ["COUPLINGS", "check_coupling_args", "conditioner_outputs", "make_coupling"]

COUPLINGS = ("affine", "additive", "spline")


def check_coupling_args(coupling: str, num_bins: int, spline_bound: float) -> None:
    """Raises `ValueError` naming the argument for an unknown kind or bad spline options."""
    if coupling not in COUPLINGS:
        raise ValueError(f"`coupling` must be one of {COUPLINGS}; received {coupling!r}.")
    if isinstance(num_bins, bool) or int(num_bins) != num_bins or num_bins < 2:
        raise ValueError(f"`num_bins` must be an integer >= 2; received {num_bins!r}.")
    if not spline_bound > 0:
        raise ValueError(f"`spline_bound` must be positive; received {spline_bound!r}.")


def conditioner_outputs(coupling: str, partition: Partition, num_bins: int) -> int:
    """Output channels of the conditioner of a `coupling` on `partition`."""
    channels = partition.transformed_shape[-1]
    per_element = {"affine": 2, "additive": 1, "spline": spline_parameter_count(num_bins)}
    return per_element[coupling] * channels


def make_coupling(
    coupling: str,
    conditioner: keras.layers.Layer,
    partition: Partition,
    *,
    scale_fn: str = "tanh",
    num_bins: int = 8,
    spline_bound: float = 3.0,
    name: str,
) -> FlowBijector:
    """The `coupling` bijector around `conditioner` (whose outputs `conditioner_outputs` gives).

    `scale_fn` applies to affine couplings, `num_bins` and `spline_bound` to splines.
    """
    if coupling == "affine":
        return AffineCoupling(conditioner, partition, scale_fn=scale_fn, name=name)
    if coupling == "additive":
        return AdditiveCoupling(conditioner, partition, name=name)
    return SplineCoupling(
        conditioner, partition, num_bins=int(num_bins), bound=float(spline_bound), name=name
    )
