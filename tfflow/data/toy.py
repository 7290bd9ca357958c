"""Two-dimensional toy densities for tabular flows (the FFJORD definitions).

Every sampler takes a `numpy.random.RandomState` and a count and returns a `float32` array of
shape `(n, 2)` whose points lie roughly within [-4, 4] in each coordinate.

References:
    Grathwohl et al., "FFJORD: Free-form Continuous Dynamics for Scalable Reversible
    Generative Models", arXiv:1810.01367 (`lib/toy_data.py` of the reference code).
"""

from collections.abc import Callable

import numpy as np

__all__ = ["TOY_DENSITIES", "sample_toy"]


def _shuffle_and_jitter(rng: np.random.RandomState, x: np.ndarray, noise: float) -> np.ndarray:
    """Permutes the rows of `x`, then adds `N(0, noise**2)` to every coordinate.

    The same draws, in the same order, as scikit-learn's `make_moons`/`make_circles` with
    `shuffle=True` (a permutation by `rng.shuffle`, then `rng.normal`).
    """
    order = np.arange(x.shape[0])
    rng.shuffle(order)
    x = x[order]
    return x + rng.normal(scale=noise, size=x.shape)


def _moons(rng: np.random.RandomState, n: int) -> np.ndarray:
    # Two interleaved half circles: (cos t, sin t) and (1 - cos t, 1/2 - sin t) for t evenly
    # spaced in [0, pi], ceil(n/2) points on the second; noise 0.1 (sklearn's `make_moons`).
    t_out = np.linspace(0, np.pi, n // 2)
    t_in = np.linspace(0, np.pi, n - n // 2)
    x = np.concatenate(
        [
            np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
            np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], axis=1),
        ]
    )
    return _shuffle_and_jitter(rng, x, 0.1) * 2 + np.array([-1.0, -0.2])


def _circles(rng: np.random.RandomState, n: int) -> np.ndarray:
    # A unit circle and one of radius 1/2, angles evenly spaced in [0, 2 pi) (endpoint
    # excluded), ceil(n/2) points on the inner one; noise 0.08 (sklearn's `make_circles`).
    t_out = np.linspace(0, 2 * np.pi, n // 2, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n - n // 2, endpoint=False)
    x = np.concatenate(
        [
            np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
            0.5 * np.stack([np.cos(t_in), np.sin(t_in)], axis=1),
        ]
    )
    return _shuffle_and_jitter(rng, x, 0.08) * 3


def _checkerboard(rng: np.random.RandomState, n: int) -> np.ndarray:
    x1 = rng.rand(n) * 4 - 2
    x2 = rng.rand(n) - rng.randint(0, 2, n) * 2 + np.floor(x1) % 2
    return np.stack([x1, x2], axis=1) * 2


def _eight_gaussians(rng: np.random.RandomState, n: int) -> np.ndarray:
    s = 1 / np.sqrt(2)
    centers = 4.0 * np.array([(1, 0), (-1, 0), (0, 1), (0, -1), (s, s), (s, -s), (-s, s), (-s, -s)])
    points = rng.randn(n, 2) * 0.5 + centers[rng.randint(8, size=n)]
    return points / 1.414


def _spirals(rng: np.random.RandomState, n: int) -> np.ndarray:
    half = n // 2
    t = np.sqrt(rng.rand(n - half, 1)) * 540 * (2 * np.pi) / 360
    arm = np.hstack([-np.cos(t) * t, np.sin(t) * t]) + rng.rand(n - half, 2) * 0.5
    x = np.vstack([arm, -arm[:half]]) / 3
    return x + rng.randn(*x.shape) * 0.1


TOY_DENSITIES: dict[str, Callable[[np.random.RandomState, int], np.ndarray]] = {
    "moons": _moons,
    "circles": _circles,
    "checkerboard": _checkerboard,
    "8gaussians": _eight_gaussians,
    "spirals": _spirals,
}


def sample_toy(name: str, num_examples: int, rng: np.random.RandomState) -> np.ndarray:
    """Draws `num_examples` points from the toy density `name`.

    Args:
        name: One of `TOY_DENSITIES`: "moons", "circles", "checkerboard", "8gaussians",
            "spirals".
        num_examples: Number of points, at least 1.
        rng: The NumPy random state to draw from.

    Returns:
        A `float32` array of shape `(num_examples, 2)`.

    Raises:
        ValueError: If `name` is unknown or `num_examples` is not a positive integer.

    Example:
        >>> sample_toy("moons", 5, np.random.RandomState(0)).shape
        (5, 2)
    """
    if name not in TOY_DENSITIES:
        raise ValueError(f"`name` must be one of {tuple(TOY_DENSITIES)}; received {name!r}.")
    if isinstance(num_examples, bool) or not isinstance(num_examples, int) or num_examples < 1:
        raise ValueError(f"`num_examples` must be a positive integer; received {num_examples!r}.")
    return TOY_DENSITIES[name](rng, num_examples).astype(np.float32)
