"""`chain_in_order`: a `tfb.Chain` from steps listed in the order they apply."""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow_probability as tfp

tfb = tfp.bijectors

__all__ = ["chain_in_order"]


def chain_in_order(steps: Sequence[tfb.Bijector], name: str) -> tfb.Chain:
    """`tfb.Chain` applying `steps` first to last in the forward (data -> latent) direction.

    `tfb.Chain(bijectors)` applies its list last-to-first, so a flow written in reading order
    (`steps[0]` sees the data first) is chained reversed: `forward(x) = s_n(...s_1(x))`.

    Args:
        steps: bijectors in application order.
        name: the chain's name (the key for conditional keyword arguments).

    Returns:
        The chain.

    Example:
        >>> import tensorflow_probability as tfp
        >>> tfb = tfp.bijectors
        >>> flow = chain_in_order([tfb.Shift(1.0), tfb.Scale(2.0)], "shift_then_scale")
        >>> float(flow.forward(0.0))
        2.0
    """
    return tfb.Chain(list(reversed(steps)), name=name)
