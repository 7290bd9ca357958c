"""The latent (base) distributions of tfflow models: density and noise draw.

The named standard bases (`PRIORS`) have closed-form densities and draws; a `tfflow.Flow` may
instead take any TFP distribution over the flat latent (`check_base_distribution`,
`sample_base`). Used by `FlowModel` (through its `latent_log_prob` and `draw_latent`) and so
by the TF Serving module, so a served `sample(n, T, seed)` draws the same latent as
`model.sample(n, T, seed)`.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfflow.stateless import stateless_algorithm

tfd = tfp.distributions

__all__ = [
    "PRIORS",
    "base_distribution",
    "base_log_prob",
    "check_base_distribution",
    "check_draw",
    "latent_noise",
    "sample_base",
]

#: The latent distributions a model can use: standard normal or standard logistic (NICE).
PRIORS = ("normal", "logistic")

_LOG_2PI = math.log(2.0 * math.pi)


def base_distribution(prior: str, event_size: int, dtype: tf.DType) -> tfd.Distribution:
    """`prior` over vectors of `event_size` independent values, as a TFP distribution."""
    zero, one = tf.constant(0.0, dtype), tf.constant(1.0, dtype)
    base = tfd.Normal(zero, one) if prior == "normal" else tfd.Logistic(zero, one)
    return tfd.Sample(base, sample_shape=[event_size])


def base_log_prob(z: tf.Tensor, prior: str) -> tf.Tensor:
    """`log p(z)` summed over the last axis; half-precision `z` is evaluated in float32.

        normal:   -z^2 / 2 - log(2 pi) / 2        per value
        logistic: -softplus(z) - softplus(-z)     per value

    Example:
        >>> float(base_log_prob(tf.zeros([1, 2]), "normal")[0])  # -log(2 pi)
        -1.8378770351409912
    """
    z = tf.cast(z, tf.float32 if z.dtype in (tf.float16, tf.bfloat16) else z.dtype)
    if prior == "normal":
        size = z.shape[-1] if z.shape[-1] is not None else tf.cast(tf.shape(z)[-1], z.dtype)
        return -0.5 * tf.reduce_sum(tf.square(z), -1) - 0.5 * size * _LOG_2PI
    return -tf.reduce_sum(tf.nn.softplus(z) + tf.nn.softplus(-z), -1)


def latent_noise(
    prior: str,
    num_samples: int | tf.Tensor,
    event_size: int,
    temperature: float | tf.Tensor,
    seed: int | tf.Tensor | None,
    dtype: tf.DType,
) -> tf.Tensor:
    """`(num_samples, event_size)` latent draws times `temperature`.

    With an integer `seed` the draw is stateless (seed pair `[seed, 0]`), so the same seed
    gives the same latent; `seed=None` draws from TensorFlow's global generator. The logistic
    is drawn by its inverse CDF from a uniform on `(1e-7, 1 - 1e-7)`.
    """
    if isinstance(num_samples, int | np.integer):  # no eager ops for a Python size
        shape = [int(num_samples), event_size]
    else:
        shape = tf.stack([tf.cast(num_samples, tf.int32), event_size])
    seed_pair = None
    if seed is not None:
        seed_pair = tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])
    if prior == "normal":
        if seed_pair is None:
            z = tf.random.normal(shape, dtype=dtype)
        else:
            z = tf.random.stateless_normal(shape, seed_pair, dtype=dtype, alg=stateless_algorithm())
    else:
        low, high = 1e-7, 1 - 1e-7
        if seed_pair is None:
            u = tf.random.uniform(shape, low, high, dtype=dtype)
        else:
            u = tf.random.stateless_uniform(
                shape, seed_pair, minval=low, maxval=high, dtype=dtype, alg=stateless_algorithm()
            )
        z = tf.math.log(u) - tf.math.log1p(-u)
    if isinstance(temperature, int | float) and temperature == 1:
        return z
    return z * tf.cast(temperature, dtype)


def check_draw(num_samples: int | tf.Tensor, temperature: float | tf.Tensor) -> None:
    """Checks the size and temperature of a latent draw given as Python numbers (tensors
    pass unchecked).

    Raises:
        ValueError: for `num_samples <= 0`, or a negative or non-finite `temperature`.
    """
    if isinstance(num_samples, int | np.integer) and num_samples <= 0:
        raise ValueError(f"`num_samples` must be a positive integer; received {num_samples}.")
    if isinstance(temperature, int | float) and not (
        math.isfinite(temperature) and temperature >= 0
    ):
        raise ValueError(f"`temperature` must be finite and >= 0; received {temperature!r}.")


def check_base_distribution(base: object, event_size: int, dtype: tf.DType) -> tfd.Distribution:
    """Returns `base` if it is a TFP distribution over flat latents `(event_size,)`, or raises.

    Raises:
        TypeError: if `base` is not a `tfd.Distribution`.
        ValueError: if its event shape is not `(event_size,)`, its batch shape is not
            scalar, or its dtype is not `dtype`; the message gives expected and received.
    """
    if not isinstance(base, tfd.Distribution):
        raise TypeError(
            f"`base` must be 'normal', 'logistic' or a tfp.distributions.Distribution; "
            f"received an object of type {type(base).__name__}."
        )
    event = base.event_shape
    if not event.is_fully_defined() or event.as_list() != [event_size]:
        raise ValueError(
            f"`base` must have event shape ({event_size},), the flat latent of the flow "
            f"(e.g. tfd.Sample(tfd.StudentT(...), [{event_size}])); received event shape "
            f"{tuple(event.as_list()) if event.rank is not None else None}."
        )
    if base.batch_shape.rank != 0:
        raise ValueError(
            f"`base` must have an empty batch shape (one distribution over the latent); "
            f"received batch shape {base.batch_shape}."
        )
    if base.dtype != dtype:
        raise ValueError(
            f"`base` must have the flow's dtype {tf.as_dtype(dtype).name}; "
            f"received {tf.as_dtype(base.dtype).name}."
        )
    return base


def sample_base(
    base: tfd.Distribution,
    num_samples: int | tf.Tensor,
    temperature: float | tf.Tensor,
    seed: int | tf.Tensor | None,
) -> tf.Tensor:
    """`(num_samples,) + base.event_shape` draws of `base` times `temperature`.

    With an integer `seed` the draw is stateless: the int64 seed's two 32-bit words are
    TFP's seed pair, so the same seed gives the same latent, eagerly, in `tf.function` and
    in an exported SavedModel. `seed=None` draws from TensorFlow's global generator.
    """
    seed_pair = None
    if seed is not None:
        seed_pair = tf.bitcast(tf.cast(seed, tf.int64), tf.int32)
    z = base.sample(tf.cast(num_samples, tf.int32), seed=seed_pair)
    return z * tf.cast(temperature, base.dtype)
