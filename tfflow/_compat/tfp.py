"""Private TensorFlow Probability names tfflow relies on.

- `greedy_bijector_cache`: `cache_util.BijectorCacheWithGreedyAttrs`, the cache TFP's own
  `FFJORD` uses for bijectors that compute a value and its log-determinant together. With it,
  `Bijector.forward(x)` stores the log-determinants as attributes of `x`'s cache entry, so
  the `forward_log_det_jacobian(x)` that TFP's `TransformedDistribution` calls next is a
  lookup instead of a second evaluation of every conditioner network.
- `CHAIN_TYPES`, `INVERT_TYPES`: `tfb.Chain(...)`/`tfb.Invert(...)` return the private base
  classes `_Chain`/`_Invert` when a component is not a CompositeTensor (as tfflow bijectors,
  which hold Keras layers, are not); the public classes subclass them, so these cover both.
"""

from __future__ import annotations

from tensorflow_probability.python.bijectors.chain import _Chain
from tensorflow_probability.python.bijectors.invert import _Invert
from tensorflow_probability.python.internal import cache_util

__all__ = ["CHAIN_TYPES", "INVERT_TYPES", "greedy_bijector_cache"]

CHAIN_TYPES = (_Chain,)
INVERT_TYPES = (_Invert,)


def greedy_bijector_cache(
    forward_name: str, inverse_name: str
) -> cache_util.BijectorCacheWithGreedyAttrs:
    """A bijector cache whose `forward_name`/`inverse_name` methods return `(value, attrs)`.

    Args:
        forward_name: name of the bijector method computing `(y, attrs)` from `x`.
        inverse_name: name of the bijector method computing `(x, attrs)` from `y`.

    Returns:
        A cache object to assign to a `tfb.Bijector` subclass's `_cache` class attribute.
    """
    return cache_util.BijectorCacheWithGreedyAttrs(
        forward_name=forward_name, inverse_name=inverse_name
    )
