"""Static checks shared by tfflow bijectors: event shape and dtype of inputs."""

from __future__ import annotations

import tensorflow as tf

__all__ = ["assert_in_range", "check_event", "check_float"]


def check_float(x: tf.Tensor, name: str, arg: str = "x") -> tf.Tensor:
    """Converts `x` to a tensor and checks it is floating point."""
    x = tf.convert_to_tensor(x)
    if not x.dtype.is_floating:
        raise TypeError(
            f"{name}: `{arg}` must be a floating-point tensor (float16, bfloat16, float32 or "
            f"float64); received dtype {x.dtype.name}. Cast integer pixels first, e.g. "
            f"`tf.cast({arg}, tf.float32)`."
        )
    return x


def check_event(x: tf.Tensor, event_shape: tuple[int, ...], name: str, arg: str = "x") -> None:
    """Checks the trailing dimensions of `x` equal `event_shape` (statically, when known)."""
    rank = len(event_shape)
    shape = x.shape
    if shape.rank is None:
        return
    if shape.rank < rank:
        raise ValueError(
            f"{name}: `{arg}` must have event shape {tuple(event_shape)} in its last {rank} "
            f"dims; received shape {tuple(shape)}."
        )
    trailing = shape[shape.rank - rank :]
    for got, want in zip(trailing, event_shape, strict=True):
        if got is not None and int(got) != int(want):
            raise ValueError(
                f"{name}: `{arg}` must have event shape {tuple(event_shape)} in its last "
                f"{rank} dims; received shape {tuple(shape)}."
            )


def assert_in_range(x: tf.Tensor, low: float, high: float, message: str) -> tf.Tensor:
    """Returns `x`, raising `InvalidArgumentError` at run time unless `low <= x < high`."""
    checks = [
        tf.debugging.assert_greater_equal(x, tf.cast(low, x.dtype), message=message),
        tf.debugging.assert_less(x, tf.cast(high, x.dtype), message=message),
    ]
    with tf.control_dependencies(checks):
        return tf.identity(x)
