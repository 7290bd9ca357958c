"""Latent-space tools: interpolation, temperature sweeps and attribute directions.

A flow is a bijection `z = f(x)`, so every input has exactly one latent code and every latent
code decodes to exactly one input. These helpers work in that latent space using only a
model's public methods (`encode`, `decode`, `sample`), so they accept any `FlowModel` and any
object with the same methods, such as `tfflow.load_served(...)`'s served model.

- `interpolate`: decode points on the path between the latents of two inputs,
  `z_t = (1 - t) z_a + t z_b` (linear) or along the great circle (`"spherical"`).
- `temperature_sweep`: the same latent noise drawn at several temperatures `T`
  (`z = T * eps`), one row per temperature, as in Glow's temperature figures.
- `attribute_direction` / `apply_direction`: the Glow paper's "semantic manipulation": the
  direction `v = mean(z | attribute) - mean(z | no attribute)` from labelled data, and the
  decoded `x' = f^-1(f(x) + alpha * v)` for several `alpha`.

References:
    Kingma & Dhariwal, "Glow: Generative Flow with Invertible 1x1 Convolutions",
    arXiv:1807.03039 (sections 5 and 6, figures 5 to 8).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf
from numpy.typing import ArrayLike

if TYPE_CHECKING:  # the helpers only call encode/decode/sample: any look-alike works
    from tfflow.models import FlowModel

__all__ = [
    "INTERPOLATION_METHODS",
    "apply_direction",
    "attribute_direction",
    "interpolate",
    "temperature_sweep",
]

INTERPOLATION_METHODS = ("linear", "spherical")


def _check_positive_int(value: object, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}; received {value!r}.")
    return int(value)


def _check_numbers(values: ArrayLike, name: str, non_negative: bool = False) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.size == 0 or not np.all(np.isfinite(array)) or (non_negative and np.any(array < 0)):
        what = "finite numbers >= 0" if non_negative else "finite numbers"
        raise ValueError(
            f"`{name}` must be a non-empty sequence of {what}; received {list(np.ravel(values))}."
        )
    return array


def _data_shape(model: FlowModel) -> tuple[int, ...]:
    return tuple(int(d) for d in model.data_shape)


def _batch(model: FlowModel, x: tf.Tensor | ArrayLike, name: str) -> tf.Tensor:
    """`x` as a batch of examples of the model's `data_shape` (one example gets a batch axis)."""
    x = tf.convert_to_tensor(x)
    shape = _data_shape(model)
    if tuple(x.shape) == shape:
        x = x[tf.newaxis]
    if tuple(x.shape[1:]) != shape:
        raise ValueError(
            f"`{name}` must have shape {shape} or (batch, {', '.join(map(str, shape))}); "
            f"received {tuple(x.shape)}."
        )
    return x


def interpolate(
    model: FlowModel,
    a: tf.Tensor | ArrayLike,
    b: tf.Tensor | ArrayLike,
    num_steps: int = 8,
    *,
    method: str = "linear",
    labels: tf.Tensor | ArrayLike | None = None,
) -> tf.Tensor:
    """Decodes `num_steps` points on the latent path from input `a` to input `b`.

    With `z_a = f(a)`, `z_b = f(b)` and `t` in `num_steps` even steps from 0 to 1:

    - `"linear"`: `z_t = (1 - t) z_a + t z_b` (what the Glow paper shows);
    - `"spherical"`: `z_t = sin((1 - t) w) / sin(w) z_a + sin(t w) / sin(w) z_b` with
      `cos(w) = <z_a, z_b> / (|z_a| |z_b|)`. Under a standard normal prior almost all mass
      lies near the sphere `|z| = sqrt(D)`; the straight line cuts inside it (its midpoint
      has a smaller norm, so it decodes to a smoother, "more typical" image), the great
      circle keeps the norm between `|z_a|` and `|z_b|`.

    The first and last outputs are `a` and `b` again, up to float rounding (`f^-1(f(a)) = a`).

    Args:
        model: A `FlowModel` (or any object with `encode`, `decode` and `data_shape`).
        a: One example, shape `model.data_shape` (pixels as the model takes them).
        b: Another example of the same shape.
        num_steps: Points on the path, endpoints included (>= 2).
        method: `"linear"` or `"spherical"`.
        labels: For class-conditional models, the class (one integer) to encode and decode
            with; `None` for unconditional models.

    Returns:
        The decoded path, shape `(num_steps,) + model.data_shape`.

    Raises:
        ValueError: If `a` or `b` has the wrong shape, `num_steps < 2` or `method` is unknown.

    Example:
        >>> import numpy as np, tfflow
        >>> model = tfflow.RealNVP((2,), coupling_layers=2, hidden_units=8)
        >>> path = interpolate(model, np.zeros(2, np.float32), np.ones(2, np.float32), 5)
        >>> path.shape
        TensorShape([5, 2])
        >>> np.round(path.numpy()[[0, -1]], 4).tolist()
        [[0.0, 0.0], [1.0, 1.0]]
    """
    num_steps = _check_positive_int(num_steps, "num_steps", minimum=2)
    if method not in INTERPOLATION_METHODS:
        raise ValueError(f"`method` must be one of {INTERPOLATION_METHODS}; received {method!r}.")
    shape = _data_shape(model)
    ends = []
    for name, value in (("a", a), ("b", b)):
        value = tf.convert_to_tensor(value)
        if tuple(value.shape) != shape:
            raise ValueError(
                f"`{name}` must be one example of shape {shape}; received {tuple(value.shape)}."
            )
        ends.append(value)
    pair = tf.stack(ends)
    pair_labels = None if labels is None else tf.fill([2], tf.cast(labels, tf.int32))
    z = tf.cast(model.encode(pair, labels=pair_labels), tf.float64)
    t = tf.linspace(tf.constant(0.0, tf.float64), 1.0, num_steps)[:, tf.newaxis]
    if method == "linear":
        path = (1.0 - t) * z[0] + t * z[1]
    else:
        unit = z / tf.norm(z, axis=-1, keepdims=True)
        cos = tf.clip_by_value(tf.reduce_sum(unit[0] * unit[1]), -1.0, 1.0)
        omega = tf.acos(cos)
        if float(tf.sin(omega)) < 1e-6:
            # (Anti)parallel latents: the great circle is not unique; the line is the limit.
            path = (1.0 - t) * z[0] + t * z[1]
        else:
            path = (tf.sin((1.0 - t) * omega) * z[0] + tf.sin(t * omega) * z[1]) / tf.sin(omega)
    path_labels = None if labels is None else tf.fill([num_steps], tf.cast(labels, tf.int32))
    decoded = model.decode(tf.cast(path, tf.float32), labels=path_labels)
    return tf.reshape(decoded, (num_steps,) + shape)


def temperature_sweep(
    model: FlowModel,
    temperatures: Sequence[float],
    num_samples: int = 8,
    *,
    seed: int = 0,
    labels: tf.Tensor | ArrayLike | None = None,
) -> tf.Tensor:
    """Samples drawn with the same latent noise at each temperature: a row per temperature.

    Row `i`, column `j` decodes `temperatures[i] * eps_j`, the same `eps_j` in every row
    (`model.sample` with one `seed`). Temperature 0 decodes the prior's mode `z = 0` in every
    column; lower temperatures trade diversity for smoother, more typical samples (Glow
    samples at 0.7).

    Args:
        model: A `FlowModel` (or any object with `sample` and `data_shape`).
        temperatures: Scales of the latent noise, each finite and >= 0.
        num_samples: Samples per temperature (>= 1).
        seed: Seed of the shared noise.
        labels: For class-conditional models, the class of every sample (one integer).

    Returns:
        Samples of shape `(len(temperatures), num_samples) + model.data_shape`.

    Raises:
        ValueError: If `temperatures` is empty or holds a negative or non-finite value, or
            `num_samples < 1`.

    Example:
        >>> import tfflow
        >>> model = tfflow.RealNVP((2,), coupling_layers=2, hidden_units=8)
        >>> temperature_sweep(model, [0.0, 0.5, 1.0], num_samples=4).shape
        TensorShape([3, 4, 2])
    """
    temps = _check_numbers(temperatures, "temperatures", non_negative=True)
    num_samples = _check_positive_int(num_samples, "num_samples")
    rows = [
        model.sample(num_samples, temperature=float(t), seed=int(seed), labels=labels)
        for t in temps
    ]
    return tf.reshape(tf.stack(rows), (len(temps), num_samples) + _data_shape(model))


def attribute_direction(
    model: FlowModel,
    x: tf.Tensor | ArrayLike,
    attributes: ArrayLike,
    positive: int | bool = 1,
    negative: int | bool | None = None,
    *,
    batch_size: int = 256,
) -> tf.Tensor:
    """The mean latent difference between examples with and without an attribute.

    `v = mean_{i: attributes_i = positive} f(x_i) - mean_{i: attributes_i = negative} f(x_i)`
    (every other example when `negative` is `None`). Adding `alpha * v` to an example's latent
    moves it towards the attribute (Glow, section 6). The attribute can be anything labelled:
    a digit class, CelebA's "Smiling", a thick stroke.

    Args:
        model: An unconditional `FlowModel` (or any object with `encode` and `data_shape`).
        x: Examples, shape `(N,) + model.data_shape`.
        attributes: One label per example, shape `(N,)` (integers or booleans).
        positive: The label of examples having the attribute.
        negative: The label of examples without it; `None` means every other example.
        batch_size: Examples encoded at a time.

    Returns:
        The direction, a float32 vector of shape `(D,)` in the latent space.

    Raises:
        ValueError: If `model` is class-conditional (its per-class prior already removes
            the class from the latent), the shapes disagree, or a group is empty.

    Example:
        >>> import numpy as np, tfflow
        >>> model = tfflow.RealNVP((2,), coupling_layers=2, hidden_units=8)
        >>> x = np.array([[0.0, 0.0], [0.0, 2.0], [2.0, 0.0], [2.0, 2.0]], np.float32)
        >>> attribute_direction(model, x, [0, 0, 1, 1]).shape  # identity at init: (2, 0)
        TensorShape([2])
    """
    if getattr(model, "num_classes", None) is not None:
        raise ValueError(
            "`model` must be unconditional: a class-conditional model's latent has its class "
            f"removed by the per-class prior (received a model with {model.num_classes} classes)."
        )
    batch_size = _check_positive_int(batch_size, "batch_size")
    x = _batch(model, x, "x")
    attributes = np.asarray(attributes).reshape(-1)
    if attributes.shape[0] != x.shape[0]:
        raise ValueError(
            f"`attributes` must have one label per example, shape ({x.shape[0]},); "
            f"received {attributes.shape}."
        )
    with_attr = attributes == positive
    without = ~with_attr if negative is None else attributes == negative
    for name, mask, label in (("positive", with_attr, positive), ("negative", without, negative)):
        if not mask.any():
            raise ValueError(
                f"`{name}` selects no example: no attribute equals {label!r} "
                f"(labels present: {sorted(np.unique(attributes).tolist())})."
            )
    latents = tf.concat(
        [
            tf.cast(model.encode(x[i : i + batch_size]), tf.float64)
            for i in range(0, int(x.shape[0]), batch_size)
        ],
        axis=0,
    )
    mean_with = tf.reduce_mean(tf.boolean_mask(latents, with_attr), axis=0)
    mean_without = tf.reduce_mean(tf.boolean_mask(latents, without), axis=0)
    return tf.cast(mean_with - mean_without, tf.float32)


def apply_direction(
    model: FlowModel,
    x: tf.Tensor | ArrayLike,
    direction: tf.Tensor | ArrayLike,
    scales: Sequence[float] = (-1.0, 0.0, 1.0),
) -> tf.Tensor:
    """Decodes `f^-1(f(x) + alpha * direction)` for every example and every scale `alpha`.

    Args:
        model: An unconditional `FlowModel` (or any object with `encode`, `decode` and
            `data_shape`).
        x: One example or a batch, shape `model.data_shape` or `(N,) + model.data_shape`.
        direction: A latent vector of shape `(D,)`, e.g. from `attribute_direction`.
        scales: The `alpha`s (finite numbers); 0 reconstructs `x`.

    Returns:
        The edited examples, shape `(N, len(scales)) + model.data_shape`.

    Raises:
        ValueError: If the shapes disagree or `scales` is empty or not finite.

    Example:
        >>> import numpy as np, tfflow
        >>> model = tfflow.RealNVP((2,), coupling_layers=2, hidden_units=8)
        >>> edits = apply_direction(model, np.zeros((3, 2), np.float32), [1.0, 0.0], [0, 1, 2])
        >>> edits.shape
        TensorShape([3, 3, 2])
    """
    alphas = _check_numbers(scales, "scales")
    x = _batch(model, x, "x")
    z = tf.cast(model.encode(x), tf.float32)
    size = int(z.shape[-1])
    direction = tf.cast(tf.convert_to_tensor(direction), tf.float32)
    if tuple(direction.shape) != (size,):
        raise ValueError(
            f"`direction` must be a latent vector of shape ({size},); "
            f"received {tuple(direction.shape)}."
        )
    moved = z[:, tf.newaxis, :] + tf.constant(alphas, tf.float32)[:, tf.newaxis] * direction
    decoded = model.decode(tf.reshape(moved, (-1, size)))
    count = int(x.shape[0])
    return tf.reshape(decoded, (count, len(alphas)) + _data_shape(model))
