"""Behaviour specific to single bijectors: validation, ActNorm init, LU vs plain, TFP reuse."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfflow import bijectors as tb
from tfflow import layers as tl

tfb = tfp.bijectors


def _affine(kind="half", shape=(4,)):
    partition = tb.Partition(kind, shape, 0)
    return tb.AffineCoupling(tl.MLP(2 * partition.transformed_shape[-1], 8, 1), partition)


def test_wrong_event_shape_names_argument_and_received_shape():
    bijector = _affine()
    with pytest.raises(
        ValueError, match=r"`x` must have event shape \(4,\).*received shape \(2, 5\)"
    ):
        bijector.forward(tf.zeros([2, 5]))


def test_integer_input_is_rejected_with_dtype_in_message():
    with pytest.raises(TypeError, match="received dtype int32"):
        _affine().forward(tf.zeros([2, 4], tf.int32))


@pytest.mark.parametrize(
    "make",
    [
        lambda size: tb.LearnedTopPrior(size),
        lambda size: tb.ClassConditionalPrior(size, num_classes=3),
        lambda size: tb.ContextPrior(size),
    ],
    ids=["top", "class", "context"],
)
def test_learned_priors_share_their_checks(make):
    """`GaussianPrior` checks the size and the input of every learned prior the same way."""
    assert isinstance(make(3), tb.GaussianPrior)
    for bad in (0, 2.5, True):
        with pytest.raises(
            ValueError, match=rf"`event_size` must be a positive integer; received {bad!r}"
        ):
            make(bad)
    with pytest.raises(ValueError, match=r"`z` must have event shape \(3,\)"):
        make(3).inverse(tf.zeros([2, 4]))


def test_squeeze_rejects_odd_spatial_size():
    with pytest.raises(ValueError, match=r"divisible by 2.*\(7, 7, 1\)"):
        tb.Squeeze().forward(tf.zeros([1, 7, 7, 1]))


def test_squeeze_event_shapes():
    squeeze = tb.Squeeze()
    assert squeeze.forward_event_shape([8, 6, 3]) == [4, 3, 12]
    assert squeeze.inverse_event_shape([4, 3, 12]) == [8, 6, 3]
    assert list(squeeze.forward_event_shape_tensor([8, 6, 3]).numpy()) == [4, 3, 12]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(kind="diagonal", event_shape=(4,)), "`partition` must be one of"),
        (dict(kind="half", event_shape=(4, 4, 1)), "needs an event of rank 1"),
        (dict(kind="odd_even", event_shape=(5,)), "even number of features"),
        (dict(kind="channel", event_shape=(4, 4, 1)), "at least 2 features"),
        (dict(kind="half", event_shape=(4,), parity=2), "`parity` must be 0 or 1"),
    ],
)
def test_partition_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tb.Partition(**kwargs)


def test_checkerboard_parities_are_complementary():
    a = tb.Partition("checkerboard", (4, 4, 1), 0).mask(tf.float32)
    b = tb.Partition("checkerboard", (4, 4, 1), 1).mask(tf.float32)
    np.testing.assert_array_equal((a + b).numpy(), np.ones((4, 4, 1)))
    assert float(tf.reduce_sum(a)) == 8.0


def test_odd_even_partition_interleaves():
    x = tf.range(6, dtype=tf.float32)[None]
    even, odd = tb.Partition("odd_even", (6,), 0).split(x)
    np.testing.assert_array_equal(even.numpy(), [[0, 2, 4]])
    np.testing.assert_array_equal(odd.numpy(), [[1, 3, 5]])


def test_affine_coupling_rejects_unknown_scale_fn():
    partition = tb.Partition("half", (4,), 0)
    with pytest.raises(ValueError, match="`scale_fn` must be one of"):
        tb.AffineCoupling(tl.MLP(4), partition, scale_fn="atan")


def test_log_scale_bound_is_respected():
    partition = tb.Partition("half", (4,), 0)
    bijector = tb.AffineCoupling(
        tl.MLP(4, 8, 1), partition, scale_fn="softclamp", log_scale_bound=2.0
    )
    x = tf.random.stateless_normal([64, 4], [1, 2])
    bijector.forward(x)
    for v in bijector.conditioner.trainable_variables:
        v.assign(tf.fill(v.shape, 50.0))
    ldj = bijector.forward_log_det_jacobian(x * 100, event_ndims=1)
    assert float(tf.reduce_max(tf.abs(ldj))) <= 2.0 * 2 + 1e-4


def test_actnorm_data_dependent_init_normalises_and_is_done_once():
    actnorm = tb.ActNorm((4, 4, 3))
    x = tf.random.stateless_normal([32, 4, 4, 3], [0, 1]) * [1.0, 5.0, 0.1] + [3.0, -2.0, 7.0]
    with tb.data_dependent_init():
        y = actnorm.forward(x)
    assert actnorm.initialized
    axes = [0, 1, 2]
    np.testing.assert_allclose(tf.reduce_mean(y, axes).numpy(), 0.0, atol=1e-4)
    np.testing.assert_allclose(tf.math.reduce_std(y, axes).numpy(), 1.0, atol=1e-3)
    bias = actnorm.params.bias.numpy().copy()
    with tb.data_dependent_init():
        actnorm.forward(x * 10.0)
    np.testing.assert_array_equal(actnorm.params.bias.numpy(), bias)


def test_actnorm_is_identity_outside_init_context():
    actnorm = tb.ActNorm((3,))
    x = tf.random.stateless_normal([8, 3], [3, 4])
    np.testing.assert_allclose(actnorm.forward(x).numpy(), x.numpy())
    assert not actnorm.initialized


def test_lu_and_plain_conv1x1_agree_at_initialisation():
    lu = tb.InvertibleConv1x1((2, 2, 5), seed=7)
    plain = tb.InvertibleConv1x1((2, 2, 5), lu_decomposed=False, seed=7)
    w_lu, ld_lu = lu.weight_and_log_det(tf.float64)
    w_plain, ld_plain = plain.weight_and_log_det(tf.float64)
    np.testing.assert_allclose(w_lu.numpy(), w_plain.numpy(), atol=1e-6)
    np.testing.assert_allclose([ld_lu.numpy(), ld_plain.numpy()], 0.0, atol=1e-6)
    np.testing.assert_allclose(w_plain.numpy() @ w_plain.numpy().T, np.eye(5), atol=1e-6)


def test_random_permutation_is_seeded():
    a = tb.random_permutation(10, seed=4).permutation.numpy()
    b = tb.random_permutation(10, seed=4).permutation.numpy()
    c = tb.random_permutation(10, seed=5).permutation.numpy()
    np.testing.assert_array_equal(a, b)
    assert sorted(a) == list(range(10))
    assert not np.array_equal(a, c)


def test_logit_out_of_support_raises_with_validate_args():
    bijector = tb.Logit((2,), validate_args=True)
    with pytest.raises(tf.errors.InvalidArgumentError, match="must lie in"):
        bijector.forward(tf.constant([[0.5, 1.5]]))


def test_pixel_scaling_validate_args():
    bijector = tb.PixelScaling((2,), validate_args=True)
    with pytest.raises(tf.errors.InvalidArgumentError, match="pixels must lie in"):
        bijector.forward(tf.constant([[-1.0, 3.0]]))


def test_composes_with_tfp_chain_and_transformed_distribution():
    coupling = _affine()
    x = tf.random.stateless_normal([5, 4], [5, 6])
    coupling.forward(x)
    for v in coupling.conditioner.trainable_variables:
        v.assign(tf.random.stateless_normal(v.shape, [1, 1]) * 0.3)
    chain = tfb.Chain([tfb.Shift(1.0), tfb.Invert(coupling)])
    dist = tfp.distributions.TransformedDistribution(
        tfp.distributions.MultivariateNormalDiag(tf.zeros(4)), chain
    )
    y = dist.sample(3, seed=(1, 2))
    expected = dist.distribution.log_prob(
        coupling.forward(y - 1.0)
    ) + coupling.forward_log_det_jacobian(y - 1.0, event_ndims=1)
    np.testing.assert_allclose(dist.log_prob(tf.identity(y)).numpy(), expected.numpy(), rtol=1e-5)


def test_one_pass_traversal_matches_tfp_methods():
    coupling = _affine()
    chain = tfb.Chain([tb.Scaling((4,)), coupling, tfb.Invert(tb.ActNorm((4,)))])
    x = tf.random.stateless_normal([6, 4], [7, 8])
    chain.forward(x)
    for layer in tb.collect_keras_layers(chain):
        for v in layer.trainable_variables:
            v.assign(tf.random.stateless_normal(v.shape, [2, 3]) * 0.3)
    y, ldj = tb.forward_and_log_det(chain, x)
    np.testing.assert_allclose(y.numpy(), chain.forward(tf.identity(x)).numpy(), rtol=1e-5)
    np.testing.assert_allclose(
        ldj.numpy(),
        chain.forward_log_det_jacobian(tf.identity(x), event_ndims=1).numpy(),
        rtol=1e-5,
    )
    x_back, ildj = tb.inverse_and_log_det(chain, y)
    np.testing.assert_allclose(x_back.numpy(), x.numpy(), atol=1e-5)
    np.testing.assert_allclose(ildj.numpy(), -ldj.numpy(), rtol=1e-5)


def _halves_chain(event_shape, conv: bool) -> tfb.Chain:
    """Couplings on halves (both parities, affine, additive and spline) around a bijector that does
    not take halves, so the traversal runs, joins and splits again."""

    def coupling(parity, scale_fn=None):
        partition = tb.Partition("channel" if conv else "half", event_shape, parity)
        per_element = {None: 1, "spline": tb.spline_parameter_count(4)}.get(scale_fn, 2)
        out = partition.transformed_shape[-1] * per_element
        net = tl.GlowBlock(out, 8) if conv else tl.MLP(out, 8, 1)
        if scale_fn is None:
            return tb.AdditiveCoupling(net, partition)
        if scale_fn == "spline":
            return tb.SplineCoupling(net, partition, num_bins=4, bound=1.0)
        return tb.AffineCoupling(net, partition, scale_fn=scale_fn)

    steps = [
        coupling(0, "tanh"),
        coupling(1, "sigmoid"),
        coupling(0),
        tb.ActNorm(event_shape),
        coupling(1, "softclamp"),
        coupling(0, "exp"),
        coupling(1, "spline"),
    ]
    return tfb.Chain(list(reversed(steps)))


@pytest.mark.parametrize("event_shape, conv", [((5,), False), ((2, 2, 6), True)])
@pytest.mark.parametrize("batch_shape", [(3,), (2, 3)])
def test_halves_run_matches_bijector_by_bijector(event_shape, conv, batch_shape):
    chain = _halves_chain(event_shape, conv)
    x = tf.random.stateless_normal(batch_shape + event_shape, [4, 5])
    chain.forward(x)
    for i, layer in enumerate(tb.collect_keras_layers(chain)):
        for v in layer.trainable_variables:
            v.assign(tf.random.stateless_normal(v.shape, [i, 7]) * 0.2)
    y, ldj = tb.forward_and_log_det(chain, x)
    want_y, want_ldj = x, 0.0
    for part in reversed(chain.bijectors):  # each on its own: split, transform, concat
        want_ldj += part.forward_log_det_jacobian(tf.identity(want_y))
        want_y = part.forward(tf.identity(want_y))
    np.testing.assert_allclose(y.numpy(), want_y.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ldj.numpy(), want_ldj.numpy(), rtol=1e-6, atol=1e-5)
    x_back, ildj = tb.inverse_and_log_det(chain, y)
    want_x, want_ildj = y, 0.0
    for part in chain.bijectors:
        want_ildj += part.inverse_log_det_jacobian(tf.identity(want_x))
        want_x = part.inverse(tf.identity(want_x))
    np.testing.assert_allclose(x_back.numpy(), want_x.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ildj.numpy(), want_ildj.numpy(), rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(x_back.numpy(), x.numpy(), atol=1e-4)
    # A batch of events (event_ndims one above the couplings') sums the log-dets over it.
    _, ldj_2 = tb.forward_and_log_det(chain, x, event_ndims=len(event_shape) + 1)
    np.testing.assert_allclose(ldj_2.numpy(), np.sum(ldj.numpy(), -1), rtol=1e-5)


def test_halves_run_splits_and_concats_once():
    steps = [
        tb.AffineCoupling(tl.MLP(4, 8, 1), tb.Partition("half", (4,), i % 2)) for i in range(4)
    ]
    chain = tfb.Chain(steps)
    x = tf.zeros([2, 4])
    for fn in (tb.forward_and_log_det, tb.inverse_and_log_det):
        graph = tf.function(lambda x, fn=fn: fn(chain, x)).get_concrete_function(x).graph
        ops = [op.type for op in graph.get_operations()]
        assert ops.count("ConcatV2") == 1
        # One split of the input, then one split of each conditioner's output.
        assert ops.count("SplitV") + ops.count("Split") == 1 + len(steps)


def test_scaling_data_dependent_init_matches_target_spread_once():
    scaling = tb.Scaling((3,), data_init_scale=2.0)
    x = tf.random.stateless_normal([256, 3], [9, 9]) * [0.1, 1.0, 10.0]
    assert not scaling.initialized
    with tb.data_dependent_init():
        y = scaling.forward(x)
    assert scaling.initialized
    np.testing.assert_allclose(tf.math.reduce_std(y, 0).numpy(), 2.0, rtol=1e-3)
    before = scaling.params.log_scale.numpy().copy()
    with tb.data_dependent_init():
        scaling.forward(x * 3.0)
    np.testing.assert_array_equal(scaling.params.log_scale.numpy(), before)


def test_chain_in_order_applies_the_first_step_first():
    from tfflow.bijectors.chain import chain_in_order

    chain = chain_in_order([tfb.Shift(1.0), tfb.Scale(3.0)], "in_order")
    assert chain.name == "in_order"
    # Shift then scale: 3 * (2 + 1) = 9 (the other order would give 7).
    np.testing.assert_allclose(chain.forward(2.0), 9.0)
    np.testing.assert_allclose(chain.inverse(9.0), 2.0)
