"""Private TensorFlow Probability names tfflow relies on.

- `greedy_bijector_cache`: `cache_util.BijectorCacheWithGreedyAttrs`, the cache TFP's own
  `FFJORD` uses for bijectors that compute a value and its log-determinant together. With it,
  `Bijector.forward(x)` stores the log-determinants as attributes of `x`'s cache entry, so
  the `forward_log_det_jacobian(x)` that TFP's `TransformedDistribution` calls next is a
  lookup instead of a second evaluation of every conditioner network.
"""

from __future__ import annotations

from tensorflow_probability.python.internal import cache_util

__all__ = ["greedy_bijector_cache"]


def greedy_bijector_cache(forward_name: str, inverse_name: str):
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
