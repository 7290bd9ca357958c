"""Bit-depth reduction of 8-bit images, as in Glow."""

import numpy as np

__all__ = ["check_n_bits", "reduce_bits"]


def check_n_bits(n_bits: int) -> int:
    """Checks that `n_bits` is an integer in [1, 8] and returns it.

    Args:
        n_bits: Bits per pixel channel.

    Returns:
        `n_bits` as a Python `int`.

    Raises:
        ValueError: If `n_bits` is not an integer between 1 and 8.
    """
    if isinstance(n_bits, bool) or not isinstance(n_bits, int | np.integer) or not 1 <= n_bits <= 8:
        raise ValueError(f"`n_bits` must be an integer in [1, 8]; received {n_bits!r}.")
    return int(n_bits)


def reduce_bits(x: np.ndarray, n_bits: int) -> np.ndarray:
    """Reduces 8-bit pixel values to `n_bits` bits: `x // 2**(8 - n_bits)`.

    The result holds the integer levels 0 .. 2**n_bits - 1 (not rescaled back to 0..255), which
    is what `make_dataset(..., n_bits=n_bits)` expects.

    Args:
        x: Array of 8-bit values (any integer or float dtype holding 0..255 integers).
        n_bits: Target bits per channel, 1 to 8. `n_bits=8` returns `x` unchanged.

    Returns:
        An array with the same shape and dtype as `x`.

    Raises:
        ValueError: If `n_bits` is not an integer in [1, 8].

    Example:
        >>> reduce_bits(np.array([0, 7, 8, 255], np.uint8), 5)
        array([ 0,  0,  1, 31], dtype=uint8)

    References:
        Kingma and Dhariwal, "Glow: Generative Flow with Invertible 1x1 Convolutions",
        arXiv:1807.03039 (section 5, 5-bit CelebA-HQ).
    """
    n_bits = check_n_bits(n_bits)
    if n_bits == 8:
        return x
    return (x // 2 ** (8 - n_bits)).astype(x.dtype)
