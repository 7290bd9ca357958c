"""Squeeze: 2x2 space-to-depth, `(h, w, c) -> (h/2, w/2, 4c)`, a volume-preserving reshuffle."""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from tfflow.bijectors._validation import check_float
from tfflow.bijectors.flow_bijector import FlowBijector, log_det_dtype

__all__ = ["Squeeze"]


def _check_rank3(x: tf.Tensor, name: str, arg: str) -> None:
    if x.shape.rank is not None and x.shape.rank < 3:
        raise ValueError(
            f"{name}: `{arg}` must have an image event (height, width, channels); "
            f"received shape {tuple(x.shape)}."
        )


class Squeeze(FlowBijector):
    """Trades spatial resolution for channels (Dinh et al. 2016, Sec. 3.6).

    Forward: each 2x2 block of pixels becomes one pixel with 4x the channels
    (`tf.nn.space_to_depth` order); inverse: `depth_to_space`. A permutation, so
    `log|det J| = 0`.

    Args:
        factor: block size (2).
        validate_args: TFP's `validate_args`.
        name: bijector name.

    Raises:
        ValueError: on inputs whose height or width is not divisible by `factor`.
    """

    def __init__(self, factor: int = 2, validate_args: bool = False, name: str = "squeeze"):
        parameters = dict(locals())
        if int(factor) < 2:
            raise ValueError(f"`factor` must be an integer >= 2; received {factor!r}.")
        self.factor = int(factor)
        super().__init__(
            forward_min_event_ndims=3,
            is_constant_jacobian=True,
            validate_args=validate_args,
            parameters=parameters,
            name=name,
        )

    def _check_divisible(self, shape: tf.TensorShape, arg: str) -> None:
        h, w = shape[-3], shape[-2]
        for size in (h, w):
            if size is not None and int(size) % self.factor:
                raise ValueError(
                    f"{self.name}: `{arg}` must have height and width divisible by "
                    f"{self.factor} to squeeze; received event shape {tuple(shape[-3:])}."
                )

    def _apply(self, x: tf.Tensor, op: Callable[..., tf.Tensor], arg: str) -> tf.Tensor:
        x = check_float(x, self.name, arg)
        _check_rank3(x, self.name, arg)
        if op is tf.nn.space_to_depth:
            self._check_divisible(x.shape, arg)
        if x.shape.rank == 4:  # one batch dim: no reshapes around the op
            out = op(x, self.factor)
        else:
            batch_shape = tf.shape(x)[:-3]
            flat = tf.reshape(x, tf.concat([[-1], tf.shape(x)[-3:]], 0))
            out = op(flat, self.factor)
            out = tf.reshape(out, tf.concat([batch_shape, tf.shape(out)[1:]], 0))
        return tf.ensure_shape(out, x.shape[:-3].concatenate(self._event(x.shape[-3:], op)))

    def _event(self, shape: tf.TensorShape, op: Callable[..., tf.Tensor]) -> tf.TensorShape:
        h, w, c = (None if d is None else int(d) for d in shape)
        f = self.factor
        if op is tf.nn.space_to_depth:
            return tf.TensorShape([h and h // f, w and w // f, c and c * f * f])
        return tf.TensorShape([h and h * f, w and w * f, c and c // (f * f)])

    def _zero(self, x: tf.Tensor) -> tf.Tensor:
        return tf.zeros(tf.shape(x)[:-3], log_det_dtype(x.dtype))

    def _forward_and_log_det(self, x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return self._apply(x, tf.nn.space_to_depth, "x"), self._zero(x)

    def _inverse_and_log_det(self, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        y = check_float(y, self.name, "y")
        _check_rank3(y, self.name, "y")
        c = y.shape[-1]
        if c is not None and int(c) % (self.factor**2):
            raise ValueError(
                f"{self.name}: `y` must have channels divisible by {self.factor**2} to "
                f"unsqueeze; received event shape {tuple(y.shape[-3:])}."
            )
        return self._apply(y, tf.nn.depth_to_space, "y"), self._zero(y)

    def _forward_event_shape(self, input_shape: tf.TensorShape) -> tf.TensorShape:
        return self._event(input_shape[-3:], tf.nn.space_to_depth)

    def _inverse_event_shape(self, output_shape: tf.TensorShape) -> tf.TensorShape:
        return self._event(output_shape[-3:], tf.nn.depth_to_space)

    def _forward_event_shape_tensor(self, input_shape: tf.Tensor) -> tf.Tensor:
        f = self.factor
        return tf.stack([input_shape[-3] // f, input_shape[-2] // f, input_shape[-1] * f * f])

    def _inverse_event_shape_tensor(self, output_shape: tf.Tensor) -> tf.Tensor:
        f = self.factor
        return tf.stack([output_shape[-3] * f, output_shape[-2] * f, output_shape[-1] // (f * f)])
