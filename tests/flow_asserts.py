"""Shared assertions for bijectors and flows (TFP `bijector_test_util` / zuko style).

Every check defeats TFP's bijector cache by passing `tf.identity` copies, so a round trip
really recomputes the inverse.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfflow.bijectors import collect_keras_layers

tfb = tfp.bijectors

__all__ = [
    "assert_bijective",
    "assert_fldj_equals_minus_ildj",
    "assert_every_variable_gets_gradient",
    "assert_log_det_matches_autodiff",
    "randomize_weights",
    "round_trip_tolerance",
]


def randomize_weights(layers, seed: int = 0, scale: float = 0.2) -> None:
    """Assigns random normal values to every trainable weight (away from the identity)."""
    rng = np.random.RandomState(seed)
    for layer in layers:
        for v in layer.trainable_variables:
            v.assign(rng.normal(scale=scale, size=v.shape).astype(v.dtype))


def round_trip_tolerance(dtype) -> float:
    return 1e-5 if tf.as_dtype(dtype) == tf.float32 else 1e-10


def assert_bijective(bijector: tfb.Bijector, x: tf.Tensor, tolerance: float) -> tuple[float, float]:
    """`inverse(forward(x)) == x` and `forward(inverse(y)) == y`, relative to the input scale.

    Returns the two max errors measured (relative).
    """
    y = bijector.forward(tf.identity(x))
    assert np.all(np.isfinite(y.numpy())), "forward produced non-finite values"
    x_back = bijector.inverse(tf.identity(y))
    scale_x = max(1.0, float(tf.reduce_max(tf.abs(x))))
    err_x = float(tf.reduce_max(tf.abs(x_back - x))) / scale_x
    y_again = bijector.forward(tf.identity(x_back))
    scale_y = max(1.0, float(tf.reduce_max(tf.abs(y))))
    err_y = float(tf.reduce_max(tf.abs(y_again - y))) / scale_y
    assert err_x <= tolerance, f"inverse(forward(x)) differs from x by {err_x:.3g} (relative)"
    assert err_y <= tolerance, f"forward(inverse(y)) differs from y by {err_y:.3g} (relative)"
    return err_x, err_y


def assert_log_det_matches_autodiff(
    bijector: tfb.Bijector, x: tf.Tensor, event_ndims: int, tolerance: float = 1e-6
) -> float:
    """`forward_log_det_jacobian` equals `log|det J|` of the autodiff Jacobian (batch of events).

    `x` has one batch dim; the event is flattened. Use float64. Returns the max abs error.
    """
    event_shape = x.shape[1:]
    flat = tf.reshape(x, [x.shape[0], -1])
    with tf.GradientTape() as tape:
        tape.watch(flat)
        y = bijector.forward(tf.reshape(flat, [-1, *event_shape]))
        y_flat = tf.reshape(y, [x.shape[0], -1])
    jacobian = tape.batch_jacobian(y_flat, flat)
    _, expected = tf.linalg.slogdet(jacobian)
    got = bijector.forward_log_det_jacobian(tf.identity(x), event_ndims=event_ndims)
    got = tf.broadcast_to(tf.cast(got, expected.dtype), expected.shape)
    error = float(tf.reduce_max(tf.abs(got - expected)))
    assert error <= tolerance, f"log-det differs from autodiff by {error:.3g}"
    return error


def assert_fldj_equals_minus_ildj(
    bijector: tfb.Bijector, x: tf.Tensor, event_ndims: int, tolerance: float
) -> None:
    y = bijector.forward(tf.identity(x))
    fldj = bijector.forward_log_det_jacobian(tf.identity(x), event_ndims=event_ndims)
    inverse_ndims = bijector.forward_event_ndims(event_ndims)
    ildj = bijector.inverse_log_det_jacobian(tf.identity(y), event_ndims=inverse_ndims)
    scale = max(1.0, float(tf.reduce_max(tf.abs(fldj))))
    error = float(tf.reduce_max(tf.abs(fldj + ildj))) / scale
    assert error <= tolerance, f"fldj(x) + ildj(f(x)) = {error:.3g}, expected 0"


def assert_every_variable_gets_gradient(bijector: tfb.Bijector, x: tf.Tensor, event_ndims: int):
    """A Gaussian log-likelihood through the bijector gives every trainable weight a gradient."""
    variables = [v for layer in collect_keras_layers(bijector) for v in layer.trainable_variables]
    assert variables, "bijector exposes no trainable variables"
    with tf.GradientTape() as tape:
        y = bijector.forward(x)
        ldj = bijector.forward_log_det_jacobian(x, event_ndims=event_ndims)
        reduce_axes = list(range(1, len(y.shape)))
        loss = -tf.reduce_mean(-0.5 * tf.reduce_sum(tf.square(y), reduce_axes) + ldj)
    grads = tape.gradient(loss, variables)
    for v, g in zip(variables, grads, strict=True):
        assert g is not None, f"{v.path} gets no gradient (was it frozen into a constant?)"
        assert float(tf.reduce_max(tf.abs(g))) > 0, f"{v.path} gets a zero gradient"
