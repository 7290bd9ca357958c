"""The channel mixings a Glow step can be built with: `"conv1x1"`, `"shuffle"` or `"reverse"`.

openai/glow's `--flow_permutation` 2, 1 and 0: a learned invertible 1x1 convolution (the
paper's), a fixed random shuffle of the channels, or their reversal (RealNVP's alternation).
"""

from __future__ import annotations

import tensorflow_probability as tfp

from tfflow.bijectors.invertible_conv1x1 import InvertibleConv1x1
from tfflow.bijectors.permutations import random_permutation, reverse_permutation

tfb = tfp.bijectors

__all__ = ["PERMUTATIONS", "check_permutation", "make_permutation"]

PERMUTATIONS = ("conv1x1", "shuffle", "reverse")


def check_permutation(permutation: str) -> None:
    """Raises `ValueError` naming the argument for an unknown kind."""
    if permutation not in PERMUTATIONS:
        raise ValueError(f"`permutation` must be one of {PERMUTATIONS}; received {permutation!r}.")


def make_permutation(
    permutation: str,
    event_shape: tuple[int, ...],
    *,
    seed: int,
    lu_decomposed: bool = True,
    name: str,
) -> tfb.Bijector:
    """The channel mixing `permutation` of a step on events of `event_shape`.

    Args:
        permutation: one of `PERMUTATIONS`.
        event_shape: the step's event shape; the last axis is mixed.
        seed: the initial rotation of `"conv1x1"`, the shuffle of `"shuffle"` (a pure
            function of the seed, so a model rebuilt from its config has the same one).
        lu_decomposed: LU-parameterised convolution (`"conv1x1"` only).
        name: the bijector's name.

    Returns:
        An `InvertibleConv1x1`, or a `tfb.Permute` of the last axis (log-determinant 0).
    """
    check_permutation(permutation)
    if permutation == "conv1x1":
        return InvertibleConv1x1(event_shape, lu_decomposed=lu_decomposed, seed=seed, name=name)
    channels = int(event_shape[-1])
    if permutation == "shuffle":
        return random_permutation(channels, seed=seed, name=name)
    return reverse_permutation(channels, name=name)
