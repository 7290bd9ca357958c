"""`ServingModule`: a `tf.Module` holding a flow's variables and its serving signatures."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfflow.dequantization import bin_centres
from tfflow.layers.parameter_set import tf_variable
from tfflow.models.flow_model import FlowModel
from tfflow.units import nats_to_bits_per_dim

__all__ = [
    "DEFAULT_MAX_SAMPLES",
    "SIGNATURE_NAMES",
    "ServingModule",
    "check_max_samples",
    "samples_to_uint8",
]

# Default cap on `num_samples` of one `sample` request. Every other signature's work is
# bounded by the tensors its request carries; `sample` alone turns a 4-byte scalar into
# `num_samples * D` floats and the decoder's activations, so one request with a huge
# `num_samples` could exhaust a shared model server's memory.
DEFAULT_MAX_SAMPLES = 1024

# Every signature an exported model may have; `log_prob_uint8` only for pixel models.
SIGNATURE_NAMES = (
    "serving_default",
    "log_prob",
    "log_prob_uint8",
    "sample",
    "encode",
    "decode",
)


def samples_to_uint8(samples: tf.Tensor, n_bits: int) -> tf.Tensor:
    """Pixel samples `[0, 2**n_bits)` -> 8-bit integers: clip, floor, rescale to 8 bits.

    Args:
        samples: float samples on the model's `n_bits` scale.
        n_bits: bits per pixel of the model (1 to 8).

    Returns:
        A `uint8` tensor of the same shape, `floor(clip(x, 0, 2**n_bits - 1)) * 2**(8 - n_bits)`.
    """
    levels = tf.floor(tf.clip_by_value(samples, 0.0, float(2**n_bits - 1)))
    return tf.cast(levels * float(2 ** (8 - n_bits)), tf.uint8)


def check_max_samples(max_samples: object) -> int:
    """`max_samples` as an int, or raises naming it (a positive integer below 2**31)."""
    if (
        isinstance(max_samples, bool)
        or not isinstance(max_samples, int | np.integer)
        or not 0 < max_samples < 2**31
    ):
        raise ValueError(
            f"`max_samples` must be a positive integer (at most {2**31 - 1}); "
            f"received {max_samples!r}."
        )
    return int(max_samples)


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(batch, " + ", ".join(str(d) for d in shape) + ")"


def _check_batch(x: tf.Tensor, event_shape: tuple[int, ...], arg: str) -> tf.Tensor:
    """Run-time check that `x` (of any static shape) is `(batch,) + event_shape`.

    One `Assert` decides rank and dimensions together (the shape is zero-padded to the
    expected rank first), so no op can fail on a mismatched shape before the clear message.
    """
    rank = len(event_shape) + 1
    shape = tf.shape(x, out_type=tf.int32)
    padded = tf.concat([shape, tf.zeros([rank], tf.int32)], 0)[1:rank]
    ok = tf.logical_and(
        tf.equal(tf.size(shape), rank),
        tf.reduce_all(tf.equal(padded, tf.constant(event_shape, tf.int32))),
    )
    check = tf.debugging.Assert(
        ok, [f"`{arg}` must have shape {_shape_text(event_shape)}; received shape", shape]
    )
    with tf.control_dependencies([check]):
        return tf.ensure_shape(tf.identity(x), (None,) + tuple(event_shape))


def _check_scalar(value: tf.Tensor, arg: str) -> tf.Tensor:
    check = tf.debugging.assert_rank(value, 0, message=f"`{arg}` must be a scalar.")
    with tf.control_dependencies([check]):
        return tf.ensure_shape(tf.identity(value), [])


def _check_labels(
    labels: tf.Tensor, count: tf.Tensor, num_classes: int, broadcast: bool = False
) -> tf.Tensor:
    """Run-time check of class `labels`: a vector of `count` integers in `[0, num_classes)`.

    With `broadcast`, a length-1 vector is also accepted and repeated `count` times.
    """
    shape = tf.shape(labels, out_type=tf.int32)
    size = tf.reduce_prod(shape)
    length_ok = tf.equal(size, count)
    expected = "`num_samples` (or 1)" if broadcast else "the batch size"
    if broadcast:
        length_ok = tf.logical_or(length_ok, tf.equal(size, 1))
    shape_check = tf.debugging.Assert(
        tf.logical_and(tf.equal(tf.size(shape), 1), length_ok),
        [
            f"`labels` must be an int32 vector with one label per example, of length {expected}; "
            "received shape",
            shape,
            "for `num_samples` =" if broadcast else "for a batch of",
            count,
        ],
    )
    flat = tf.reshape(labels, [-1])
    range_check = tf.debugging.Assert(
        tf.reduce_all((flat >= 0) & (flat < num_classes)),
        [f"`labels` must lie in [0, {num_classes}) (num_classes={num_classes}); received", flat],
        summarize=16,
    )
    with tf.control_dependencies([shape_check, range_check]):
        flat = tf.identity(flat)
    return tf.broadcast_to(flat, tf.reshape(count, [1])) if broadcast else flat


def _check_context(
    context: tf.Tensor, count: tf.Tensor, context_shape: tuple[int, ...], broadcast: bool = False
) -> tf.Tensor:
    """Run-time check of a `context` batch: `(count,) + context_shape` floats.

    With `broadcast`, a batch of one context is also accepted and repeated `count` times.
    """
    context = _check_batch(context, context_shape, "context")
    size = tf.shape(context, out_type=tf.int32)[0]
    length_ok = tf.equal(size, count)
    if broadcast:
        length_ok = tf.logical_or(length_ok, tf.equal(size, 1))
    expected = "`num_samples` (or 1)" if broadcast else "the batch size"
    check = tf.debugging.Assert(
        length_ok,
        [
            f"`context` must hold one context per example, {expected} of them; received",
            size,
            "for `num_samples` =" if broadcast else "for a batch of",
            count,
        ],
    )
    with tf.control_dependencies([check]):
        context = tf.identity(context)
    if broadcast:
        context = tf.broadcast_to(context, tf.concat([tf.reshape(count, [1]), context_shape], 0))
    return context


class ServingModule(tf.Module):
    """The serving view of a `FlowModel`: its variables and `tf.function` signatures.

    Only the model's variables (a list attribute) and traced functions are tracked, never the
    Keras model or its TFP bijectors, so the SavedModel loads with plain
    `tf.saved_model.load` and needs no tfflow or TFP Python code.

    Each signature (see `signatures`) takes inputs with a dynamic batch size, validates them
    inside the graph (`tf.debugging.assert_*`, so a bad request to TF Serving fails with
    `InvalidArgumentError` naming the input) and calls the model's traced math:

    - `serving_default`, `log_prob`: `x` float32 `(batch,) + data_shape` -> `log_prob` (nats)
      and `bits_per_dim`.
    - `log_prob_uint8` (pixel models): `x` uint8 8-bit pixels; for `n_bits < 8` they are
      reduced to `x // 2**(8 - n_bits)` first; each integer level `k` is scored at its bin
      centre `k + 0.5`.
    - `sample`: `num_samples` int32 in `[1, max_samples]`, `temperature` float32 finite
      >= 0, `seed` int64 -> `samples` (float32, data space) and, for pixel models,
      `samples_uint8`. A larger `num_samples` fails with `InvalidArgumentError` naming
      `num_samples` and the limit before anything is allocated. Noise is drawn
      as `FlowModel.sample` draws it (`model.draw_latent`: stateless, from the model's
      base distribution, also a `tfflow.Flow`'s TFP one), so the same seed gives
      the same samples as `model.sample(num_samples, temperature, seed)`.
    - `encode`: `x` -> `z` `(batch, D)`; `decode`: `z` -> `x`.

    For a class-conditional model (`num_classes` set) every signature takes one more input,
    `labels` (int32, shape `[None]`): for `log_prob`, `log_prob_uint8`, `encode` and
    `decode` one label per example of `x`/`z`; for `sample` either `num_samples` labels (one
    per sample) or a single label (a length-1 vector) used for every sample. The samples
    equal `model.sample(num_samples, temperature, seed, labels=labels)`. Labels outside
    `[0, num_classes)` or of the wrong length fail with `InvalidArgumentError` naming
    `labels` (and the valid range). Unconditional models have no `labels` input.

    For a context-conditional model (`context_shape` set) every signature takes one more
    input instead, `context` (float32, shape `(None,) + context_shape`): one context per
    example of `x`/`z`, or for `sample` either `num_samples` contexts or one for all. A
    context of another shape or count fails with `InvalidArgumentError` naming `context`.

    The `*_any_shape` attributes are the validating functions the signatures call, traced
    for inputs of any shape; they exist so the in-graph checks can be exercised directly.

    Args:
        model: the `FlowModel` to serve.
        max_samples: the largest `num_samples` one `sample` request may ask for.
        name: module name.

    Raises:
        TypeError: if `model` is not a `FlowModel`.
        ValueError: if `max_samples` is not a positive integer.
    """

    def __init__(
        self,
        model: FlowModel,
        max_samples: int = DEFAULT_MAX_SAMPLES,
        name: str = "tfflow_serving",
    ):
        super().__init__(name=name)
        self.max_samples = check_max_samples(max_samples)
        if not isinstance(model, FlowModel):
            raise TypeError(
                f"`model` must be a tfflow FlowModel (NICE, RealNVP, Glow, Flow); "
                f"received {type(model).__name__}."
            )
        # Keras variables wrap tf.Variables; track the tf.Variables themselves so that nothing
        # Keras- or TFP-specific ends up in the SavedModel's object graph.
        self.model_variables = [tf_variable(v) for v in model.variables]
        for v in self.model_variables:
            if not isinstance(v, tf.Variable):
                raise TypeError(f"Cannot export variable {v!r}: expected a tf.Variable.")
        self._build_functions(model)

    # The model is only ever captured by the closures below, never stored as an attribute.
    # Each function takes `(inputs..., *condition)`: `labels` (class-conditional models) or
    # `context` (context-conditional ones) is appended to every input signature, and absent
    # otherwise, so unconditional models keep exactly their signatures.
    def _build_functions(self, model: FlowModel) -> None:
        data_shape = tuple(model.data_shape)
        event_size = int(model.event_size)
        pixels, n_bits = bool(model.pixels), int(model.n_bits)
        num_classes = model.num_classes
        context_shape = model.context_shape
        max_samples = self.max_samples

        def with_labels(specs: list[tf.TensorSpec], labels_spec: tf.TensorSpec) -> list:
            if context_shape is not None:
                any_shape = labels_spec.shape.rank is None
                spec = tf.TensorSpec(
                    None if any_shape else (None,) + context_shape, tf.float32, name="context"
                )
                return specs + [spec]
            return specs + [labels_spec] if num_classes is not None else specs

        def batch_labels(labels: tuple, batch: tf.Tensor) -> dict:
            """The model's keyword arguments for the condition of a batch (checked)."""
            count = tf.shape(batch, out_type=tf.int32)[0]
            if context_shape is not None:
                return {"context": _check_context(labels[0], count, context_shape)}
            if num_classes is None:
                return {}
            return {"labels": _check_labels(labels[0], count, num_classes)}

        def densities(x: tf.Tensor, conditions: dict) -> dict[str, tf.Tensor]:
            log_prob = tf.cast(model.log_prob(x, **conditions), tf.float32)
            return {
                "log_prob": log_prob,
                "bits_per_dim": nats_to_bits_per_dim(-log_prob, event_size),
            }

        any_float = tf.TensorSpec(None, tf.float32)
        any_int = tf.TensorSpec(None, tf.int32)

        @tf.function(input_signature=with_labels([any_float], any_int))
        def log_prob_any_shape(x: tf.Tensor, *labels: tf.Tensor) -> dict[str, tf.Tensor]:
            x = _check_batch(x, data_shape, "x")
            return densities(x, batch_labels(labels, x))

        @tf.function(input_signature=with_labels([any_float], any_int))
        def encode_any_shape(x: tf.Tensor, *labels: tf.Tensor) -> dict[str, tf.Tensor]:
            x = _check_batch(x, data_shape, "x")
            return {"z": tf.cast(model.encode(x, **batch_labels(labels, x)), tf.float32)}

        # Not inlined: grappler would otherwise fuse `z * temperature` with the first ops of
        # the decoder (e.g. NICE's scaling), reordering float products, and samples would no
        # longer be bit-identical to the eager `model.sample`.
        @tf.function(
            input_signature=with_labels([any_float], any_int),
            experimental_attributes={"_noinline": True},
        )
        def decode_any_shape(z: tf.Tensor, *labels: tf.Tensor) -> dict[str, tf.Tensor]:
            z = _check_batch(z, (event_size,), "z")
            return {"x": tf.cast(model.decode(z, **batch_labels(labels, z)), tf.float32)}

        @tf.function(
            input_signature=with_labels(
                [
                    tf.TensorSpec(None, tf.int32),
                    tf.TensorSpec(None, tf.float32),
                    tf.TensorSpec(None, tf.int64),
                ],
                any_int,
            )
        )
        def sample_any_shape(
            num_samples: tf.Tensor, temperature: tf.Tensor, seed: tf.Tensor, *labels: tf.Tensor
        ) -> dict[str, tf.Tensor]:
            num_samples = _check_scalar(num_samples, "num_samples")
            temperature = _check_scalar(temperature, "temperature")
            seed = _check_scalar(seed, "seed")
            checks = [
                tf.debugging.assert_positive(
                    num_samples, message="`num_samples` must be a positive integer."
                ),
                tf.debugging.assert_less_equal(
                    num_samples,
                    max_samples,
                    message=f"`num_samples` must be at most {max_samples}, this model's "
                    "`max_samples` limit (set by `tfflow.export(..., max_samples=...)`); "
                    "split the request or re-export with a higher limit.",
                ),
                tf.debugging.assert_all_finite(
                    temperature, message="`temperature` must be finite and >= 0."
                ),
            ]
            with tf.control_dependencies(checks):
                checks.append(
                    tf.debugging.assert_non_negative(
                        temperature, message="`temperature` must be finite and >= 0."
                    )
                )
            with tf.control_dependencies(checks):
                num_samples = tf.identity(num_samples)
            decode_args = []
            if context_shape is not None:
                decode_args.append(
                    _check_context(labels[0], num_samples, context_shape, broadcast=True)
                )
            elif num_classes is not None:
                decode_args.append(
                    _check_labels(labels[0], num_samples, num_classes, broadcast=True)
                )
            z = model.draw_latent(num_samples, temperature, seed)
            samples = decode_any_shape(z, *decode_args)["x"]
            outputs = {"samples": samples}
            if pixels:
                outputs["samples_uint8"] = samples_to_uint8(samples, n_bits)
            return outputs

        x_spec = tf.TensorSpec((None,) + data_shape, tf.float32, name="x")
        labels_spec = tf.TensorSpec([None], tf.int32, name="labels")

        @tf.function(input_signature=with_labels([x_spec], labels_spec))
        def log_prob(x: tf.Tensor, *labels: tf.Tensor) -> dict[str, tf.Tensor]:
            return log_prob_any_shape(x, *labels)

        @tf.function(input_signature=with_labels([x_spec], labels_spec))
        def encode(x: tf.Tensor, *labels: tf.Tensor) -> dict[str, tf.Tensor]:
            return encode_any_shape(x, *labels)

        @tf.function(
            input_signature=with_labels(
                [tf.TensorSpec((None, event_size), tf.float32, name="z")], labels_spec
            )
        )
        def decode(z: tf.Tensor, *labels: tf.Tensor) -> dict[str, tf.Tensor]:
            return decode_any_shape(z, *labels)

        @tf.function(
            input_signature=with_labels(
                [
                    tf.TensorSpec([], tf.int32, name="num_samples"),
                    tf.TensorSpec([], tf.float32, name="temperature"),
                    tf.TensorSpec([], tf.int64, name="seed"),
                ],
                labels_spec,
            )
        )
        def sample(
            num_samples: tf.Tensor, temperature: tf.Tensor, seed: tf.Tensor, *labels: tf.Tensor
        ) -> dict[str, tf.Tensor]:
            return sample_any_shape(num_samples, temperature, seed, *labels)

        self.log_prob_any_shape = log_prob_any_shape
        self.encode_any_shape = encode_any_shape
        self.decode_any_shape = decode_any_shape
        self.sample_any_shape = sample_any_shape
        self.log_prob = log_prob
        self.encode = encode
        self.decode = decode
        self.sample = sample
        self.log_prob_uint8 = None
        if pixels:

            @tf.function(input_signature=with_labels([tf.TensorSpec(None, tf.uint8)], any_int))
            def log_prob_uint8_any_shape(x: tf.Tensor, *labels: tf.Tensor) -> dict[str, tf.Tensor]:
                x = _check_batch(x, data_shape, "x")
                levels = tf.cast(x, tf.int32) // (2 ** (8 - n_bits))
                return densities(bin_centres(levels, tf.float32), batch_labels(labels, x))

            @tf.function(
                input_signature=with_labels(
                    [tf.TensorSpec((None,) + data_shape, tf.uint8, name="x")], labels_spec
                )
            )
            def log_prob_uint8(x: tf.Tensor, *labels: tf.Tensor) -> dict[str, tf.Tensor]:
                return log_prob_uint8_any_shape(x, *labels)

            self.log_prob_uint8_any_shape = log_prob_uint8_any_shape
            self.log_prob_uint8 = log_prob_uint8

    @property
    def signatures(self) -> dict[str, tf.types.experimental.ConcreteFunction]:
        """Signature name -> concrete function, as `tf.saved_model.save(signatures=...)` takes."""
        functions = {
            "serving_default": self.log_prob,
            "log_prob": self.log_prob,
            "log_prob_uint8": self.log_prob_uint8,
            "sample": self.sample,
            "encode": self.encode,
            "decode": self.decode,
        }
        return {
            name: fn.get_concrete_function() for name, fn in functions.items() if fn is not None
        }
