"""Fixed channel permutations (reverse, seeded random shuffle), reusing `tfb.Permute`."""

from __future__ import annotations

import numpy as np
import tensorflow_probability as tfp

tfb = tfp.bijectors

__all__ = ["random_permutation", "reverse_permutation"]


def reverse_permutation(channels: int, name: str = "reverse") -> tfb.Permute:
    """`tfb.Permute` reversing the last axis (RealNVP's alternation)."""
    if int(channels) < 1:
        raise ValueError(f"`channels` must be positive; received {channels!r}.")
    return tfb.Permute(np.arange(channels)[::-1].astype(np.int32), axis=-1, name=name)


def random_permutation(channels: int, seed: int, name: str = "shuffle") -> tfb.Permute:
    """`tfb.Permute` with a fixed random shuffle of the last axis drawn from `seed`.

    The permutation is a pure function of `(channels, seed)`; models keep the seed in their
    config, so a saved and reloaded model has the same permutation.
    """
    if int(channels) < 1:
        raise ValueError(f"`channels` must be positive; received {channels!r}.")
    perm = np.random.RandomState(seed).permutation(channels).astype(np.int32)
    return tfb.Permute(perm, axis=-1, name=name)
