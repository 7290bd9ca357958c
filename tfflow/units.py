"""Units of likelihood: nats per example to bits per dimension."""

from __future__ import annotations

import math
from typing import TypeVar

_T = TypeVar("_T")

__all__ = ["nats_to_bits_per_dim"]


def nats_to_bits_per_dim(nats: _T, event_size: int) -> _T:
    """`nats / (event_size * ln 2)`: nats per example as bits per dimension.

    Works on Python numbers, NumPy arrays and tensors alike.

    Example:
        >>> round(nats_to_bits_per_dim(784 * math.log(2.0), 784), 6)
        1.0
    """
    return nats / (event_size * math.log(2.0))
