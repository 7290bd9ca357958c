"""How a coupling's conditioner sees an (encoded) context: concatenated to its input.

Shared by every coupling's `_conditioner_output(x_cond, context=None)`, the one place a
coupling runs its conditioner network.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tfflow.bijectors.flow_bijector import call_with_flat_batch

__all__ = ["conditioner_input", "run_conditioner"]


def conditioner_input(x_cond: tf.Tensor, context: tf.Tensor | None, event_rank: int) -> tf.Tensor:
    """`x_cond` with the context appended along its last (feature or channel) axis.

    Vectors (`event_rank == 1`): `concat([x_cond, c], -1)` with `c` of shape `(batch..., k)`.
    Images (`event_rank == 3`): `c` is either feature maps `(batch..., h, w, k)` already at
    the coupling's spatial size, or a vector `(batch..., k)` tiled over the `h x w` grid, as
    in conditional Glow and SRFlow. The context's batch dims broadcast against `x_cond`'s
    (a single context serves a whole batch).

    Args:
        x_cond: the conditioning part, `(batch...,) + event shape`.
        context: the encoded context, or None (then `x_cond` is returned unchanged).
        event_rank: rank of the coupling's event (1 or 3).

    Raises:
        ValueError: a context whose rank fits neither form.

    Example:
        >>> conditioner_input(tf.zeros([2, 3]), tf.ones([2, 1]), 1).numpy().tolist()
        [[0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 1.0]]
    """
    if context is None:
        return x_cond
    context = tf.cast(context, x_cond.dtype)
    batch = tf.shape(x_cond)[: tf.rank(x_cond) - event_rank]
    k = tf.shape(context)[-1:]
    if event_rank == 1:
        target = tf.concat([batch, k], 0)
    else:
        spatial = tf.shape(x_cond)[tf.rank(x_cond) - 3 : tf.rank(x_cond) - 1]
        if context.shape.rank is not None and context.shape.rank < 3:
            # A vector context: the same features at every position.
            context = context[..., None, None, :]
        elif context.shape.rank is None:
            raise ValueError("The context of an image coupling must have a known rank.")
        target = tf.concat([batch, spatial, k], 0)
    context = tf.broadcast_to(context, target)
    return tf.concat([x_cond, context], axis=-1)


def run_conditioner(
    conditioner: keras.layers.Layer,
    x_cond: tf.Tensor,
    context: tf.Tensor | None,
    event_rank: int,
) -> tf.Tensor:
    """`conditioner(concat(x_cond, context))` over any batch shape, cast to `x_cond.dtype`."""
    inputs = conditioner_input(x_cond, context, event_rank)
    return tf.cast(call_with_flat_batch(conditioner, inputs, event_rank), x_cond.dtype)
