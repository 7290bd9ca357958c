"""The contract every tfflow bijector passes, parameterised over all of them.

Round trip, log-det against the autodiff Jacobian, fldj == -ildj, gradients reaching every
weight, batch shapes, execution regimes (eager, tf.function, XLA) and float32/float64.
Weights are randomised away from the (zero-initialised) identity first.
"""

import numpy as np
import pytest
import tensorflow as tf
from bijector_cases import CASES
from flow_asserts import (
    assert_bijective,
    assert_every_variable_gets_gradient,
    assert_fldj_equals_minus_ildj,
    assert_log_det_matches_autodiff,
    randomize_weights,
    round_trip_tolerance,
)

from tfflow.bijectors import collect_keras_layers

NAMES = sorted(CASES)
# tfb.Permute has a constant (zero) log-det and returns it as a scalar, which TFP allows for
# `is_constant_jacobian` bijectors; every other bijector returns one log-det per batch member.
SCALAR_LOG_DET = {"random_permutation", "reverse_permutation"}


def _build(name: str, dtype, seed: int = 0):
    case = CASES[name]
    bijector = case.make()
    x = case.sample((3,), dtype, seed)
    bijector.forward(x)  # builds lazily created conditioner weights
    randomize_weights(collect_keras_layers(bijector), seed=seed + 1)
    return case, bijector, x


@pytest.mark.parametrize("name", NAMES)
def test_round_trip(name, floatx):
    case, bijector, x = _build(name, floatx)
    assert_bijective(bijector, x, round_trip_tolerance(floatx))


@pytest.mark.parametrize("name", NAMES)
def test_log_det_matches_autodiff_jacobian(name):
    import keras

    keras.config.set_floatx("float64")
    keras.mixed_precision.set_global_policy("float64")
    case, bijector, x = _build(name, "float64")
    assert_log_det_matches_autodiff(bijector, x, len(case.event_shape), tolerance=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_fldj_equals_minus_ildj(name, floatx):
    case, bijector, x = _build(name, floatx)
    tol = 1e-5 if floatx == "float32" else 1e-10
    assert_fldj_equals_minus_ildj(bijector, x, len(case.event_shape), tol)


@pytest.mark.parametrize("name", [n for n in NAMES if CASES[n].trainable])
def test_every_variable_gets_gradient(name):
    case, bijector, x = _build(name, "float32")
    assert_every_variable_gets_gradient(bijector, x, len(case.event_shape))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("batch_shape", [(), (3,), (2, 3)])
def test_batch_shapes(name, batch_shape):
    case, bijector, _ = _build(name, "float32")
    x = case.sample(batch_shape, "float32", seed=5)
    y = bijector.forward(x)
    ndims = len(case.event_shape)
    fldj = bijector.forward_log_det_jacobian(x, event_ndims=ndims)
    assert tuple(y.shape[: len(batch_shape)]) == batch_shape
    if name in SCALAR_LOG_DET:
        assert bijector.is_constant_jacobian
        assert tuple(fldj.shape) == ()
        assert float(fldj) == 0.0
    else:
        assert tuple(fldj.shape) == batch_shape
    assert_bijective(bijector, x, 1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_tf_function_and_xla_match_eager(name):
    case, bijector, x = _build(name, "float32")
    ndims = len(case.event_shape)

    def both(x):
        return bijector.forward(x), bijector.forward_log_det_jacobian(x, event_ndims=ndims)

    y_eager, ldj_eager = both(tf.identity(x))
    for fn in (tf.function(both), tf.function(both, jit_compile=True)):
        y, ldj = fn(tf.identity(x))
        np.testing.assert_allclose(y.numpy(), y_eager.numpy(), rtol=1e-4, atol=1e-4)
        assert ldj.shape == ldj_eager.shape
        np.testing.assert_allclose(
            ldj.numpy(),
            ldj_eager.numpy(),
            rtol=1e-4,
            atol=1e-3,
        )
    graph_inverse = tf.function(bijector.inverse)(tf.identity(y_eager))
    np.testing.assert_allclose(graph_inverse.numpy(), x.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", [n for n in NAMES if "permutation" not in n])
def test_half_precision_input_keeps_dtype_and_float32_log_det(name):
    case, bijector, x = _build(name, "float32")
    x16 = tf.cast(x, tf.float16)
    y = bijector.forward(x16)
    ldj = bijector.forward_log_det_jacobian(x16, event_ndims=len(case.event_shape))
    assert y.dtype == tf.float16
    assert ldj.dtype == tf.float32
