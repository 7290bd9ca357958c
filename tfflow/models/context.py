"""Context conditioning of a `FlowModel`: reading, encoding and routing a context.

A context-conditional model (`context_shape=...`) encodes the context once per call with
its shared `ContextEncoder`; `context_kwargs` then hands the encoded context to every
coupling (every bijector with a `_conditioner_output` method) as its conditional keyword
argument `context`, in the two layouts bijector keyword arguments take:

- flat, keyed by bijector name (`tfflow.bijectors.forward_and_log_det`, which walks nested
  `Chain`s itself), the layout the model's own methods use;
- nested by `Chain` part names, as TFP's `tfb.Chain` and `bijector_kwargs` of
  `tfd.TransformedDistribution` route them.

A bijector that holds a whole inner flow (`FactorOut.inner`, `Recompute.bijector`) takes
that flow's keyword arguments in the flat layout, in both cases. Image contexts reach each
coupling resized to its spatial size (computed once per size).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf
import tensorflow_probability as tfp

from tfflow._compat.tfp import CHAIN_TYPES, INVERT_TYPES
from tfflow.bijectors.context_prior import ContextPrior
from tfflow.bijectors.flow_bijector import FlowBijector, call_with_flat_batch
from tfflow.layers.context_encoder import ContextEncoder

tfb = tfp.bijectors

__all__ = [
    "as_context",
    "context_conditions",
    "context_encoder",
    "context_kwargs",
    "encode_context",
    "resize_features",
    "route_kwargs",
]


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def as_context(
    context: Any,
    context_shape: tuple[int, ...] | None,
    dtype: tf.DType,
    *,
    owner: str,
    batch_size: int | None = None,
    arg: str = "context",
) -> tf.Tensor | None:
    """`context` as a `dtype` tensor of shape `(batch..., *context_shape)`, or None.

    A context without batch dims (shape `context_shape`) gets a batch dim of 1, so it serves
    every example. Integer contexts are cast to `dtype`.

    Args:
        context: the context, or None.
        context_shape: the model's context shape; None for a model without context.
        dtype: the model's flow dtype.
        owner: the model's class name, for error messages.
        batch_size: the number of examples it conditions, if statically known; a context
            batch of another size (other than 1) is refused.
        arg: the argument's name, for error messages.

    Raises:
        ValueError: a context for a model without one, none for a conditional model, or a
            shape other than `(batch,) + context_shape`, `(1,) + context_shape` or
            `context_shape`.
        TypeError: a dtype other than floating point or integer.

    Example:
        >>> as_context([1, 2], (2,), tf.float32, owner="RealNVP")
        <tf.Tensor: shape=(1, 2), dtype=float32, numpy=array([[1., 2.]], dtype=float32)>
    """
    if context_shape is None:
        if context is not None:
            raise ValueError(
                f"`{arg}` given to a {owner} without a context; build it with "
                f"`context_shape=...` to condition on one."
            )
        return None
    expected = f"(batch, {', '.join(map(str, context_shape))}) or {_shape_text(context_shape)}"
    if context is None:
        raise ValueError(
            f"This {owner} is context-conditional: pass `{arg}` of shape {expected}; received None."
        )
    context = tf.convert_to_tensor(context)
    if not (context.dtype.is_floating or context.dtype.is_integer):
        raise TypeError(
            f"`{arg}` must be a float (or integer) tensor; received dtype {context.dtype.name}."
        )
    context = tf.cast(context, dtype)
    rank = len(context_shape)
    static = context.shape
    if static.rank is not None:
        trailing = tuple(static[max(static.rank - rank, 0) :])
        if static.rank < rank or any(
            g is not None and int(g) != w for g, w in zip(trailing, context_shape, strict=False)
        ):
            raise ValueError(
                f"`{arg}` must have shape {expected} for this {owner} "
                f"(context_shape={_shape_text(context_shape)}); received shape {tuple(static)}."
            )
        if static.rank == rank:
            context = context[None]
        elif (
            batch_size is not None
            and static.rank == rank + 1
            and static[0] is not None
            and int(static[0]) not in (1, batch_size)
        ):
            raise ValueError(
                f"`{arg}` must hold one context per example ({batch_size}) or a single one; "
                f"received {int(static[0])} contexts (shape {tuple(static)})."
            )
    return context


def context_encoder(
    context_shape: tuple[int, ...] | None,
    features: int | None,
    *,
    data_shape: tuple[int, ...],
    num_classes: int | None = None,
) -> ContextEncoder | None:
    """The shared `ContextEncoder` of a model with `context_shape` (None without one).

    Raises:
        ValueError: a context together with class labels, or an image context for a model
            of vectors.
    """
    if context_shape is None:
        return None
    if num_classes is not None:
        raise ValueError(
            "`num_classes` and `context_shape` cannot both be set; condition on a one-hot "
            f"context instead. Received num_classes={num_classes!r}, "
            f"context_shape={tuple(context_shape)!r}."
        )
    if len(context_shape) == 3 and len(data_shape) != 3:
        raise ValueError(
            f"An image `context_shape` needs an image model; received context_shape="
            f"{tuple(context_shape)} for input_shape {tuple(data_shape)}."
        )
    return ContextEncoder(context_shape, features, name="context_encoder")


def encode_context(encoder: ContextEncoder, context: tf.Tensor) -> tf.Tensor:
    """`encoder(context)` over any batch shape (the encoder's own rank-2 or rank-4 input)."""
    return call_with_flat_batch(encoder, context, len(encoder.context_shape))


def resize_features(features: tf.Tensor, size: tuple[int, int]) -> tf.Tensor:
    """Feature maps `(batch..., H, W, F)` at spatial size `size = (h, w)`.

    Integer downscaling averages `H/h x W/w` blocks (as the squeezes of a multi-scale flow
    halve the resolution); other sizes are resized bilinearly.
    """
    height, width = features.shape[-3], features.shape[-2]
    h, w = size
    if (height, width) == (h, w):
        return features
    if height % h == 0 and width % w == 0:
        factor = (height // h, width // w)

        def resize(maps: tf.Tensor) -> tf.Tensor:
            return tf.nn.avg_pool2d(maps, factor, factor, "VALID")
    else:

        def resize(maps: tf.Tensor) -> tf.Tensor:
            return tf.cast(tf.image.resize(maps, (h, w), method="bilinear"), maps.dtype)

    return call_with_flat_batch(resize, features, 3)


def _inner_flow(bijector: tfb.Bijector) -> tfb.Bijector | None:
    """The flow a tfflow bijector wraps whole (`FactorOut.inner`, `Recompute.bijector`)."""
    if not isinstance(bijector, FlowBijector):
        return None
    for attr in ("inner", "bijector"):
        child = getattr(bijector, attr, None)
        if isinstance(child, tfb.Bijector):
            return child
    return None


def route_kwargs(
    flow: tfb.Bijector, own: Callable[[tfb.Bijector], dict], nested: bool = False
) -> dict:
    """Keyword arguments for the bijectors of `flow`, from `own(bijector)` (a bijector's own
    keyword arguments, `{}` for none), in the flat or the nested (TFP `Chain`) layout.

    Raises:
        ValueError: if two bijectors that take keyword arguments share a name in the flat
            layout (the routing would be ambiguous).
    """

    def flat(b: tfb.Bijector) -> dict:
        if isinstance(b, INVERT_TYPES):
            return flat(b.bijector)
        if isinstance(b, CHAIN_TYPES):
            out: dict = {}
            for part in b.bijectors:
                for key, value in flat(part).items():
                    if key in out:
                        raise ValueError(
                            f"Two bijectors of {flow.name!r} named {key!r} take keyword "
                            f"arguments; bijector names must be unique to route them."
                        )
                    out[key] = value
            return out
        kwargs = leaf(b)
        return {b.name: kwargs} if kwargs else {}

    def tree(b: tfb.Bijector) -> dict:
        if isinstance(b, INVERT_TYPES):
            return tree(b.bijector)
        if isinstance(b, CHAIN_TYPES):
            parts = {part.name: tree(part) for part in b.bijectors}
            return {name: kwargs for name, kwargs in parts.items() if kwargs}
        return leaf(b)

    def leaf(b: tfb.Bijector) -> dict:
        inner = _inner_flow(b)
        return flat(inner) if inner is not None else own(b)

    return tree(flow) if nested else flat(flow)


def context_kwargs(
    flow: tfb.Bijector, encoded: tf.Tensor, image: bool, nested: bool = False
) -> dict:
    """`{"context": ...}` for every coupling (and `ContextPrior`) of `flow`, in the flat or
    nested layout.

    Args:
        flow: the model's flow.
        encoded: the encoded context: `(batch..., F)` vectors, or `(batch..., H, W, F)`
            feature maps (each image coupling gets them at its own spatial size).
        image: whether `encoded` holds feature maps.
        nested: the TFP `Chain` layout instead of the flat one.
    """
    resized: dict[tuple[int, int], tf.Tensor] = {}

    def own(b: tfb.Bijector) -> dict:
        if isinstance(b, ContextPrior):
            # The prior reads a vector: feature maps averaged over their positions.
            return {"context": tf.reduce_mean(encoded, axis=[-3, -2]) if image else encoded}
        if not hasattr(b, "_conditioner_output"):
            return {}
        partition = getattr(b, "partition", None)
        if partition is None:
            if image:
                raise ValueError(
                    f"{b.name}: a coupling without a `partition` cannot be given image "
                    f"context feature maps (its spatial size is unknown)."
                )
            return {"context": encoded}
        event_shape = tuple(partition.event_shape)
        if not image or len(event_shape) != 3:
            return {"context": encoded}
        size = event_shape[:2]
        if size not in resized:
            resized[size] = resize_features(encoded, size)
        return {"context": resized[size]}

    return route_kwargs(flow, own, nested)


def context_conditions(
    model: Any, context: Any, *, batch_size: int | None = None, nested: bool = False
) -> dict:
    """The keyword arguments routing `context` to the flow of `model` (a `FlowModel`):
    checked (`as_context`), encoded once by the model's encoder, handed to every coupling.
    `{}` for a model without context (which refuses a context).

    Args:
        model: the `FlowModel`.
        context: the context, or None.
        batch_size: the number of examples it conditions, if statically known.
        nested: the TFP `Chain` layout (`bijector_kwargs`) instead of the flat one.
    """
    context = as_context(
        context,
        model.context_shape,
        model.flow_dtype,
        owner=type(model).__name__,
        batch_size=batch_size,
    )
    if context is None:
        return {}
    encoded = encode_context(model.context_encoder, context)
    return context_kwargs(model.flow, encoded, len(model.context_shape) == 3, nested)
