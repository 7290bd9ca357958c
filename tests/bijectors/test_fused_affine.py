"""The traversal's fused ActNorm + 1x1 convolution pairs give what the bijectors give alone."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfflow import bijectors as tb
from tfflow import layers as tl

tfb = tfp.bijectors


def _glow_chain(event_shape, lu_per_step=(True, False, True)) -> tfb.Chain:
    """Glow steps (ActNorm, 1x1 convolution, affine coupling) with a squeeze-free tail pair."""
    conv = len(event_shape) == 3
    steps = []
    for k, lu in enumerate(lu_per_step):
        partition = tb.Partition("channel" if conv else "half", event_shape, k % 2)
        out = 2 * partition.transformed_shape[-1]
        net = tl.GlowBlock(out, 8) if conv else tl.MLP(out, 8, 1)
        steps += [
            tb.ActNorm(event_shape),
            tb.InvertibleConv1x1(event_shape, lu_decomposed=lu, seed=k),
            tb.AffineCoupling(net, partition, scale_fn="sigmoid"),
        ]
    steps += [tb.ActNorm(event_shape), tb.InvertibleConv1x1(event_shape, seed=9)]
    return tfb.Chain(list(reversed(steps)))


def _randomise(chain) -> None:
    for i, layer in enumerate(tb.collect_keras_layers(chain)):
        for v in layer.trainable_variables:
            v.assign(tf.random.stateless_normal(v.shape, [i, 11], dtype=v.dtype) * 0.2)


@pytest.mark.parametrize(
    "event_shape, batch_shape",
    [((2, 2, 6), (3,)), ((2, 2, 6), (2, 3)), ((6,), (4,)), ((6,), (2, 2))],
)
def test_fused_pairs_match_bijector_by_bijector(event_shape, batch_shape, floatx):
    chain = _glow_chain(event_shape)
    dtype = tf.as_dtype(floatx)
    x = tf.random.stateless_normal(batch_shape + event_shape, [4, 5], dtype=dtype)
    chain.forward(x)
    _randomise(chain)
    y, ldj = tb.forward_and_log_det(chain, x)
    want_y, want_ldj = x, 0.0
    for part in reversed(chain.bijectors):
        want_ldj += part.forward_log_det_jacobian(tf.identity(want_y))
        want_y = part.forward(tf.identity(want_y))
    tol = 1e-5 if floatx == "float32" else 1e-12
    np.testing.assert_allclose(y.numpy(), want_y.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(ldj.numpy(), want_ldj.numpy(), rtol=tol, atol=10 * tol)
    x_back, ildj = tb.inverse_and_log_det(chain, y)
    want_x, want_ildj = y, 0.0
    for part in chain.bijectors:
        want_ildj += part.inverse_log_det_jacobian(tf.identity(want_x))
        want_x = part.inverse(tf.identity(want_x))
    np.testing.assert_allclose(x_back.numpy(), want_x.numpy(), rtol=tol, atol=10 * tol)
    np.testing.assert_allclose(ildj.numpy(), want_ildj.numpy(), rtol=tol, atol=10 * tol)
    np.testing.assert_allclose(ildj.numpy(), -ldj.numpy(), rtol=tol, atol=10 * tol)
    # A batch of events (event_ndims above the pairs') takes the bijector-by-bijector path.
    _, ldj_2 = tb.forward_and_log_det(chain, x, event_ndims=len(event_shape) + 1)
    np.testing.assert_allclose(ldj_2.numpy(), np.sum(ldj.numpy(), -1), rtol=tol, atol=10 * tol)


def test_fused_log_det_matches_autodiff_jacobian():
    keras.config.set_floatx("float64")
    keras.mixed_precision.set_global_policy("float64")
    chain = _glow_chain((1, 2, 4))
    x = tf.random.stateless_normal([3, 1, 2, 4], [1, 2], dtype=tf.float64)
    chain.forward(x)
    _randomise(chain)
    flat = tf.reshape(x, [3, 8])
    with tf.GradientTape() as tape:
        tape.watch(flat)
        y, ldj = tb.forward_and_log_det(chain, tf.reshape(flat, [3, 1, 2, 4]))
        y = tf.reshape(y, [3, 8])
    jacobian = tape.batch_jacobian(y, flat)
    np.testing.assert_allclose(ldj.numpy(), tf.linalg.slogdet(jacobian)[1].numpy(), rtol=1e-10)


def test_each_pair_runs_as_one_matmul_with_the_weights_computed_once():
    chain = _glow_chain((2, 2, 4), lu_per_step=(True, True, True))
    x = tf.zeros([2, 2, 2, 4])
    for fn in (tb.forward_and_log_det, tb.inverse_and_log_det):
        graph = tf.function(lambda x, fn=fn: fn(chain, x)).get_concrete_function(x).graph
        ops = [op.type for op in graph.get_operations()]
        # One matmul per pair (4), 3 coupling networks of 3 convolutions each.
        assert ops.count("MatMul") == 4
        assert ops.count("Conv2D") == 3 * 3
        # The weights of the 4 pairs in one batch: two batched products (P L U), then the
        # biases `A b` (forward) or one batched inverse (inverse).
        forward = fn is tb.forward_and_log_det
        assert ops.count("BatchMatMulV2") == (3 if forward else 2)
        assert ops.count("MatrixInverse") == (0 if forward else 1)


def test_actnorm_before_a_fixed_permutation_is_not_fused():
    """A Glow step with a shuffle instead of the 1x1 convolution runs unfused; the pair after
    it still fuses."""
    shape = (2, 2, 4)
    partition = tb.Partition("channel", shape, 0)
    steps = [
        tb.ActNorm(shape),
        tb.random_permutation(4, seed=1),
        tb.AffineCoupling(tl.GlowBlock(4, 8), partition, scale_fn="sigmoid"),
        tb.ActNorm(shape),
        tb.InvertibleConv1x1(shape, seed=2),
    ]
    chain = tfb.Chain(list(reversed(steps)))
    x = tf.random.stateless_normal([3, *shape], [6, 7])
    chain.forward(x)
    _randomise(chain)
    y, ldj = tb.forward_and_log_det(chain, x)
    want_y, want_ldj = x, 0.0
    for part in steps:
        want_ldj += part.forward_log_det_jacobian(tf.identity(want_y), event_ndims=3)
        want_y = part.forward(tf.identity(want_y))
    np.testing.assert_allclose(y.numpy(), want_y.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ldj.numpy(), want_ldj.numpy(), rtol=1e-5, atol=1e-4)
    graph = tf.function(lambda x: tb.forward_and_log_det(chain, x)).get_concrete_function(x).graph
    assert [op.type for op in graph.get_operations()].count("MatMul") == 1


def test_actnorm_initialises_through_the_chain():
    chain = _glow_chain((2, 2, 4))
    x = tf.random.stateless_normal([16, 2, 2, 4], [3, 3]) * 3.0 + 1.0
    with tb.data_dependent_init():
        tb.forward_and_log_det(chain, x)
    actnorms = [b for b in chain.bijectors if isinstance(b, tb.ActNorm)]
    assert all(a.initialized for a in actnorms)
    first = actnorms[-1]  # the first in the forward direction saw x itself
    np.testing.assert_allclose(first.params.bias.numpy(), -np.mean(x.numpy(), (0, 1, 2)), rtol=1e-5)
