"""How `FlowModel` reads what users hand it: data, latents, class labels and `fit` batches."""

from __future__ import annotations

import tensorflow as tf
from numpy.typing import ArrayLike

from tfflow.dequantization import bin_centres

__all__ = ["as_data", "as_latent", "label_conditions", "unpack_batch"]


def as_data(
    x: tf.Tensor | ArrayLike,
    *,
    data_shape: tuple[int, ...],
    pixels: bool,
    dtype: tf.DType,
    owner: str,
    arg: str = "x",
) -> tf.Tensor:
    """`x` as a `dtype` tensor of shape `(batch..., *data_shape)`.

    Integer (and boolean) pixels are read as the centres of their quantisation bins,
    `k -> k + 0.5`; a model of real-valued data refuses them.

    Args:
        x: the input.
        data_shape: the shape of one example.
        pixels: whether the model's data are pixels.
        dtype: the model's flow dtype.
        owner: the model's class name, for error messages.
        arg: the argument's name, for error messages.

    Raises:
        TypeError: for a dtype the model cannot read.
        ValueError: for a shape whose trailing dims are not `data_shape`.

    Example:
        >>> as_data([[1, 2]], data_shape=(2,), pixels=True, dtype=tf.float32, owner="Glow")
        <tf.Tensor: shape=(1, 2), dtype=float32, numpy=array([[1.5, 2.5]], dtype=float32)>
    """
    x = tf.convert_to_tensor(x)
    if x.dtype.is_integer or x.dtype == tf.bool:
        if not pixels:
            raise TypeError(
                f"`{arg}` must be floating point for a model of real-valued data; "
                f"received dtype {x.dtype.name}."
            )
        x = bin_centres(x, dtype)
    elif not x.dtype.is_floating:
        raise TypeError(f"`{arg}` must be a float or integer tensor; received {x.dtype.name}.")
    else:
        x = tf.cast(x, dtype)
    rank = len(data_shape)
    static = x.shape
    if static.rank is not None:
        trailing = tuple(static[max(static.rank - rank, 0) :])
        if static.rank < rank or any(
            g is not None and int(g) != w for g, w in zip(trailing, data_shape, strict=False)
        ):
            raise ValueError(
                f"`{arg}` must have shape (batch, {', '.join(map(str, data_shape))}) "
                f"for this {owner}; received shape {tuple(static)}."
            )
    return x


def as_latent(
    z: tf.Tensor | ArrayLike, *, event_size: int, dtype: tf.DType, arg: str = "z"
) -> tf.Tensor:
    """`z` as a `dtype` tensor of shape `(batch..., event_size)`.

    Raises:
        TypeError: for a non-floating dtype.
        ValueError: for a last dimension other than `event_size`.
    """
    z = tf.convert_to_tensor(z)
    if not z.dtype.is_floating:
        raise TypeError(f"`{arg}` must be floating point; received dtype {z.dtype.name}.")
    z = tf.cast(z, dtype)
    if z.shape.rank is not None and (
        z.shape.rank < 1 or (z.shape[-1] is not None and int(z.shape[-1]) != event_size)
    ):
        raise ValueError(
            f"`{arg}` must have shape (batch, {event_size}); received {tuple(z.shape)}."
        )
    return z


def label_conditions(
    labels: tf.Tensor | ArrayLike | None,
    num_classes: int | None,
    batch_shape: tf.Tensor | None = None,
) -> dict:
    """Keyword arguments routing `labels` to a flow's class prior (empty if unconditional).

    Args:
        labels: integer class labels (a scalar or one per example), or None.
        num_classes: the model's class count, None for an unconditional model.
        batch_shape: if given, `labels` are broadcast to it.

    Raises:
        ValueError: labels for an unconditional model, none for a conditional one, or
            (eagerly) values outside `[0, num_classes)`.
        TypeError: non-integer labels.
    """
    if num_classes is None:
        if labels is not None:
            raise ValueError(
                "`labels` given to a model without classes; build it with "
                "`num_classes=...` to condition on labels."
            )
        return {}
    if labels is None:
        raise ValueError(
            f"This model is class-conditional: pass `labels` (integers in [0, {num_classes}))."
        )
    labels = tf.convert_to_tensor(labels)
    if not labels.dtype.is_integer:
        raise TypeError(f"`labels` must be integers; received dtype {labels.dtype.name}.")
    if tf.executing_eagerly():
        values = labels.numpy()
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(
                f"`labels` must lie in [0, {num_classes}); received values from "
                f"{values.min()} to {values.max()}."
            )
    labels = tf.cast(labels, tf.int32)
    if batch_shape is not None:
        labels = tf.broadcast_to(labels, batch_shape)
    return {"class_prior": {"labels": labels}}


def unpack_batch(
    data: tf.Tensor | tuple | list,
    *,
    num_classes: int | None,
    context_shape: tuple[int, ...] | None,
) -> tf.Tensor | tuple[tf.Tensor, tf.Tensor]:
    """`x`, or `(x, labels)` / `(x, context)` for a conditional model, from an element of
    `fit`'s data (`fit((x, context))` hands the pair as a one-element tuple).

    Args:
        data: the element: `x`, or a tuple `(x, ...)`.
        num_classes: the model's class count, None for a model without classes.
        context_shape: the model's context shape, None for a model without context.

    Raises:
        ValueError: `x` alone for a conditional model.
    """
    if isinstance(data, tuple | list) and len(data) == 1 and isinstance(data[0], tuple | list):
        data = data[0]
    conditional = num_classes is not None or context_shape is not None
    if isinstance(data, tuple | list):
        if conditional:
            if len(data) < 2:
                data = data[0]
            else:
                return (data[0], data[1])
        else:
            return data[0]
    if num_classes is not None:
        raise ValueError(
            "A class-conditional model trains on `(x, labels)` pairs; received `x` only."
        )
    if context_shape is not None:
        raise ValueError(
            "A context-conditional model trains on `(x, context)` pairs; received `x` only."
        )
    return data
