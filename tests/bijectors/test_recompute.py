"""`Recompute`: same values, log-dets and gradients as the unwrapped step, flat activation memory,
shared traced functions between steps of one structure, state updates applied once."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from flow_asserts import randomize_weights

import tfflow
from tfflow import bijectors as tb
from tfflow import layers as tl
from tfflow.bijectors import collect_keras_layers, forward_and_log_det, walk_bijectors

tfb = tfp.bijectors

SHAPE = (4, 4, 4)


def _glow_step(shape=SHAPE, seed: int = 0, hidden: int = 8) -> tfb.Bijector:
    """One Glow step: ActNorm, LU 1x1 convolution, affine coupling with a GlowBlock."""
    partition = tb.Partition("channel", shape, 0)
    net = tl.GlowBlock(2 * partition.transformed_shape[-1], hidden)
    coupling = tb.AffineCoupling(net, partition, scale_fn="sigmoid")
    steps = [tb.ActNorm(shape), tb.InvertibleConv1x1(shape, seed=seed), coupling]
    return tfb.Chain(list(reversed(steps)))


def _resnet_step(shape=SHAPE, seed: int = 0) -> tfb.Bijector:
    """A RealNVP coupling whose conditioner has batch normalisation (moving statistics)."""
    partition = tb.Partition("checkerboard", shape, seed % 2)
    net = tl.ResNet(2 * shape[-1], hidden_channels=8, residual_blocks=1)
    return tb.AffineCoupling(net, partition, scale_fn="tanh")


STEPS = {"glow": _glow_step, "resnet_batch_norm": _resnet_step}
REGIMES = {
    "eager": lambda f: f,
    "function": tf.function,
    "xla": lambda f: tf.function(f, jit_compile=True),
}


def _built(make, dtype, seed: int = 0):
    step = make(seed=seed)
    x = tf.constant(np.random.RandomState(seed).normal(size=(3, *SHAPE)), dtype)
    forward_and_log_det(step, x, event_ndims=3)  # builds the lazily created weights
    # Random, non-zero weights: at the zero-initialised identity most gradients vanish.
    randomize_weights(collect_keras_layers(step), seed=seed + 1, scale=0.3)
    return step, x


def _vjp(bijector, variables, x, regime):
    """Values, log-dets and the gradients of `<y, u> + <ldj, w>` for random cotangents `u`,
    `w`, with respect to `x` and every variable (both upstream gradients non-trivial)."""
    rng = np.random.RandomState(7)
    u = tf.constant(rng.normal(size=x.shape), x.dtype)
    w = tf.constant(rng.normal(size=x.shape[:1]), x.dtype)

    def run(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y, ldj = forward_and_log_det(bijector, x, event_ndims=3)
            loss = tf.reduce_sum(y * u) + tf.reduce_sum(tf.cast(ldj, x.dtype) * w)
        return y, ldj, tape.gradient(loss, [x, *variables])

    return REGIMES[regime](run)(x)


def _assert_close(got, expected, rtol, what, scale=None):
    got, expected = np.asarray(got), np.asarray(expected)
    scale = max(1e-30, float(np.max(np.abs(expected))) if scale is None else scale)
    error = float(np.max(np.abs(got - expected))) / scale
    assert error <= rtol, f"{what}: relative error {error:.3g} > {rtol:.1g}"


@pytest.mark.parametrize("regime", sorted(REGIMES))
@pytest.mark.parametrize("name", sorted(STEPS))
def test_values_log_dets_and_gradients_equal_the_unwrapped_step(name, regime, floatx):
    step, x = _built(STEPS[name], floatx)
    variables = [v for layer in collect_keras_layers(step) for v in layer.trainable_variables]
    rtol = 1e-5 if floatx == "float32" else 1e-11
    y0, ldj0, grads0 = _vjp(step, variables, x, regime)
    y1, ldj1, grads1 = _vjp(tb.Recompute(step), variables, x, regime)
    _assert_close(y1, y0, rtol, "values")
    _assert_close(ldj1, ldj0, rtol, "log-dets")
    assert len(grads1) == len(variables) + 1
    for v, g0, g1 in zip(["x", *(v.path for v in variables)], grads0, grads1, strict=True):
        assert g1 is not None, f"no gradient for {v}"
        assert float(tf.reduce_max(tf.abs(g0))) > 0, f"{v}: reference gradient is zero"
        _assert_close(g1, g0, rtol, f"gradient of {v}")


def test_steps_sharing_a_template_trace_once_and_use_their_own_weights():
    first, x = _built(_glow_step, "float32", seed=0)
    second, _ = _built(_glow_step, "float32", seed=1)
    template = tb.Recompute(first)
    wrapped = tb.Recompute(second, template=template)
    variables = [v for layer in collect_keras_layers(second) for v in layer.trainable_variables]
    y0, ldj0, grads0 = _vjp(second, variables, x, "function")
    # Python runs only while TensorFlow traces: count the conditioners' calls from here on.
    calls = {"template": 0, "wrapped": 0}
    for key, step in (("template", first), ("wrapped", second)):
        (net,) = [layer for layer in collect_keras_layers(step) if isinstance(layer, tl.GlowBlock)]

        def counted(*args, _call=net.call, _key=key, **kwargs):
            calls[_key] += 1
            return _call(*args, **kwargs)

        net.call = counted

    @tf.function
    def both(x):
        return forward_and_log_det(tfb.Chain([wrapped, template]), x, event_ndims=3)

    both(x)
    y1, ldj1, grads1 = _vjp(wrapped, variables, x, "function")
    _assert_close(y1, y0, 1e-5, "values")
    _assert_close(ldj1, ldj0, 1e-5, "log-dets")
    for g0, g1 in zip(grads0, grads1, strict=True):
        _assert_close(g1, g0, 1e-5, "gradients")
    # Two outer functions ran both steps, yet the shared forward and the recomputing backward
    # were each traced once, through the template's conditioner, never the wrapped step's.
    assert calls == {"template": 2, "wrapped": 0}


def test_template_of_another_structure_is_rejected():
    template = tb.Recompute(_built(_glow_step, "float32")[0])
    step, x = _built(lambda seed: _glow_step(seed=seed, hidden=4), "float32")
    with pytest.raises(ValueError, match="does not have the structure of"):
        forward_and_log_det(tb.Recompute(step, template=template), x, event_ndims=3)
    with pytest.raises(ValueError, match="`template` must be a `Recompute`"):
        tb.Recompute(step, template=step)


def test_template_with_another_fixed_permutation_is_rejected():
    """A `tfb.Permute` is traced into the template's step as a constant: a step with another
    permutation must not run through it."""

    def step(seed):
        return tfb.Chain([tb.random_permutation(SHAPE[-1], seed=seed), tb.ActNorm(SHAPE)])

    x = tf.random.stateless_normal((2,) + SHAPE, [0, 1])
    template = tb.Recompute(step(1))
    same = tb.Recompute(step(1), template=template)
    forward_and_log_det(same, x, event_ndims=3)
    with pytest.raises(ValueError, match="does not have the structure of"):
        forward_and_log_det(tb.Recompute(step(2), template=template), x, event_ndims=3)


def _loss(y, ldj):
    return tf.reduce_sum(tf.square(y)) - tf.reduce_sum(ldj)


class _Training(keras.layers.Layer):
    """Runs a bijector inside a Keras call with `training=True` (batch norm updates)."""

    def __init__(self, fn):
        super().__init__(name="training_call")
        self.fn = fn

    def call(self, x, training=None):
        return self.fn(x)


def _train_step(layer, variables):
    def step(x):
        with tf.GradientTape() as tape:
            loss = layer(x, training=True)
        # The gradient is taken outside the Keras call, as in `train_step`: the recomputation
        # must still use batch statistics, not the moving averages.
        return tape.gradient(loss, variables)

    return step


def test_batch_norm_in_training_mode_updates_once_and_recomputes_in_training_mode():
    states, grads = {}, {}
    for wrap in (False, True):
        keras.utils.set_random_seed(0)
        step, x = _built(_resnet_step, "float32")
        bijector = tb.Recompute(step) if wrap else step
        layer = _Training(lambda x, b=bijector: _loss(*forward_and_log_det(b, x, event_ndims=3)))
        variables = [v for lay in collect_keras_layers(step) for v in lay.trainable_variables]
        state = [v for lay in collect_keras_layers(step) for v in lay.non_trainable_weights]
        before = [v.numpy() for v in state]

        grads[wrap] = [g.numpy() for g in tf.function(_train_step(layer, variables))(x)]
        states[wrap] = [v.numpy() for v in state]
    assert any(not np.array_equal(a, b) for a, b in zip(before, states[False], strict=True))
    for plain, recomputed in zip(states[False], states[True], strict=True):
        np.testing.assert_allclose(recomputed, plain, rtol=1e-6, atol=1e-7)
    # Relative to the largest gradient: the biases of the convolutions before a batch norm in
    # training mode get (round-off) zero gradients.
    scale = max(float(np.max(np.abs(g))) for g in grads[False])
    for plain, recomputed in zip(grads[False], grads[True], strict=True):
        _assert_close(recomputed, plain, 1e-5, "gradients", scale)


def _gradient_peak_mib(depth: int, recompute: bool) -> float:
    """Peak tensor memory (TensorFlow's CPU allocator) of one gradient of a `depth`-step flow."""
    shape = (16, 16, 4)
    steps = [_glow_step(shape, seed=k, hidden=64) for k in range(depth)]
    if recompute:
        template = tb.Recompute(steps[0])
        steps = [template] + [tb.Recompute(s, template=template) for s in steps[1:]]
    flow = tfb.Chain(list(reversed(steps)))
    x = tf.random.stateless_normal((16, *shape), seed=[0, 0])
    forward_and_log_det(flow, x, event_ndims=3)
    variables = [v for layer in collect_keras_layers(flow) for v in layer.trainable_variables]

    @tf.function
    def gradient(x):
        with tf.GradientTape() as tape:
            y, ldj = forward_and_log_det(flow, x, event_ndims=3)
            loss = tf.reduce_sum(tf.square(y)) - tf.reduce_sum(ldj)
        return tape.gradient(loss, variables)

    gradient(x)
    # The allocator is process-wide: background threads left by earlier tests (tf.data
    # prefetching) can add to one measurement, so take the least of three.
    peaks = []
    for _ in range(3):
        tf.config.experimental.reset_memory_stats("CPU:0")
        gradient(x)
        peaks.append(tf.config.experimental.get_memory_info("CPU:0")["peak"] / 2**20)
    return min(peaks)


def test_activation_memory_does_not_grow_with_depth():
    try:
        tf.config.experimental.reset_memory_stats("CPU:0")
    except ValueError:
        pytest.skip("this TensorFlow build keeps no CPU allocator statistics")
    plain = [_gradient_peak_mib(d, recompute=False) for d in (2, 6)]
    recomputed = [_gradient_peak_mib(d, recompute=True) for d in (2, 6)]
    # Each step's hidden feature maps are ~1 MiB apiece: kept for the backward pass without
    # recomputation, one step's worth at a time with it.
    assert plain[1] - plain[0] > 6.0, plain
    assert recomputed[1] - recomputed[0] < 0.1 * (plain[1] - plain[0]), (plain, recomputed)


def test_recompute_templates_share_per_key_and_glow_levels_use_one_template():
    from tfflow.bijectors.recompute import RecomputeTemplates

    templates = RecomputeTemplates()
    a = templates.wrap(tfb.Identity(), ("channel", (2, 2, 4), 0), "a")
    b = templates.wrap(tfb.Identity(), ("channel", (2, 2, 4), 0), "b")
    c = templates.wrap(tfb.Identity(), ("channel", (2, 2, 4), 1), "c")
    assert (a.template, b.template, c.template) == (None, a, None)

    model = tfflow.Glow((8, 8, 1), levels=2, steps_per_level=3, hidden_channels=4, recompute=True)
    steps = [s for s in walk_bijectors(model.flow) if isinstance(s, tb.Recompute)]
    firsts = [s for s in steps if s.template is None]
    assert len(steps) == 6 and len(firsts) == 2
    assert all(s.template in firsts for s in steps if s.template is not None)
