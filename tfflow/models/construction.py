"""How a `FlowModel` is put together: its arguments checked, its flow completed, its weights
created.

The flow a model holds is the body its subclass builds (`build_flow()`), preceded for pixel
data by `PixelSupport` (inputs outside `[0, 2**n_bits)` get `log_prob = -inf`) and followed by
a learned prior when the model has one (`ClassConditionalPrior` for `num_classes`,
`ContextPrior` for `context_prior=True`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import tensorflow as tf
import tensorflow_probability as tfp

from tfflow.bijectors.class_conditional_prior import ClassConditionalPrior
from tfflow.bijectors.context_prior import ContextPrior
from tfflow.bijectors.flow_bijector import walk_bijectors
from tfflow.bijectors.pixel_support import PixelSupport
from tfflow.bijectors.recompute import Recompute
from tfflow.models.priors import PRIORS

if TYPE_CHECKING:
    from tfflow.models.flow_model import FlowModel

tfb = tfp.bijectors

__all__ = ["check_input_shape", "check_options", "dummy_batch", "model_flow"]


def check_input_shape(input_shape: Iterable[int]) -> tuple[int, ...]:
    """`input_shape` as a tuple of ints, checked.

    Raises:
        ValueError: for an empty shape or one with a size below 1.

    Example:
        >>> check_input_shape([28, 28, 1])
        (28, 28, 1)
    """
    shape = tuple(int(d) for d in input_shape)
    if not shape or any(d < 1 for d in shape):
        raise ValueError(
            f"`input_shape` must be a non-empty shape of positive sizes; "
            f"received {tuple(input_shape)!r}."
        )
    return shape


def check_options(
    prior: str,
    dequantization: str,
    num_classes: int | None,
    context_shape: Iterable[int] | None,
    context_prior: bool,
) -> None:
    """Checks `FlowModel`'s options (the context ones are checked further by
    `tfflow.models.context.context_encoder`).

    Raises:
        ValueError: naming the first option out of range and the value received.
    """
    if prior not in PRIORS:
        raise ValueError(f"`prior` must be 'normal' or 'logistic'; received {prior!r}.")
    if dequantization not in ("uniform", "none"):
        raise ValueError(
            f"`dequantization` must be 'uniform' or 'none'; received {dequantization!r}."
        )
    if num_classes is not None and int(num_classes) < 2:
        raise ValueError(f"`num_classes` must be None or >= 2; received {num_classes!r}.")
    if context_prior and context_shape is None:
        raise ValueError("`context_prior=True` needs a `context_shape`; received None.")


def model_flow(model: FlowModel) -> tfb.Bijector:
    """The flow `model` holds: its `build_flow()` with pixel support and the learned prior,
    if any.

    Raises:
        ValueError: for a context-conditional model whose flow recomputes steps
            (`Recompute` passes no gradient to the context encoder).
    """
    flow = model.build_flow()
    if model.pixels:
        flow = tfb.Chain([flow, PixelSupport(model.data_shape, model.n_bits)], name=flow.name)
    if model.num_classes is not None:
        prior = ClassConditionalPrior(model.event_size, model.num_classes, name="class_prior")
        flow = tfb.Chain([prior, flow], name=f"{flow.name}_conditional")
    if model.context_prior:
        prior = ContextPrior(model.event_size, name="context_prior")
        flow = tfb.Chain([prior, flow], name=f"{flow.name}_conditional")
    if model.context_shape is not None and any(
        isinstance(b, Recompute) for b in walk_bijectors(flow)
    ):
        raise ValueError(
            "`recompute=True` cannot be combined with `context_shape`: recomputed steps "
            "pass no gradient to the context encoder."
        )
    return flow


def dummy_batch(model: FlowModel) -> dict[str, tf.Tensor | None]:
    """`model.log_prob`'s arguments for one example (a mid-range pixel value, or 0), whose
    call creates every weight of the model."""
    dtype = model.flow_dtype
    value = 0.5 * 2.0**model.n_bits if model.pixels else 0.0
    context_shape = model.context_shape
    return {
        "x": tf.fill((1,) + model.data_shape, tf.constant(value, dtype)),
        "labels": None if model.num_classes is None else tf.zeros([1], tf.int32),
        "context": None if context_shape is None else tf.zeros((1,) + context_shape, dtype),
    }
