"""`model.distribution` and `model.bijector` as TFP users use them: every weight visible,
each conditioner evaluated once, the pixel support respected, and trainable three ways."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfflow
from tfflow import bijectors as tb
from tfflow import layers as tl

tfb, tfd = tfp.bijectors, tfp.distributions


def _glow():
    return tfflow.Glow((4, 4, 1), levels=2, steps_per_level=2, hidden_channels=8)


def _realnvp():
    return tfflow.RealNVP((4,), coupling_layers=4, hidden_units=16)


def _nice_pixels():
    return tfflow.NICE((16,), coupling_layers=2, hidden_layers=1, hidden_units=8, pixels=True)


MODELS = {"glow": _glow, "realnvp": _realnvp, "nice_pixels": _nice_pixels}


def _ids(variables) -> set:
    return {id(v.value if isinstance(v, keras.Variable) else v) for v in variables}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_tfp_views_hold_every_model_weight(name):
    model = MODELS[name]()
    expected_trainable = _ids(model.trainable_variables)
    assert expected_trainable
    for view in (model.distribution, model.bijector):
        assert _ids(view.trainable_variables) == expected_trainable
        assert _ids(view.variables) == _ids(model.variables)


def _count_ops(fn, x, op_types) -> int:
    graph = tf.function(fn).get_concrete_function(tf.TensorSpec(x.shape, x.dtype)).graph
    return sum(op.type in op_types for op in graph.get_operations())


@pytest.mark.parametrize(
    "name, x, op_types",
    [
        ("glow", tf.random.uniform((3, 4, 4, 1), 0.0, 256.0, seed=1), ("Conv2D",)),
        ("realnvp", tf.random.normal((3, 4), seed=1), ("MatMul", "BatchMatMulV2")),
    ],
)
def test_distribution_log_prob_runs_each_conditioner_once(name, x, op_types):
    model = MODELS[name]()
    own = _count_ops(model.log_prob, x, op_types)
    assert own > 0
    assert _count_ops(model.distribution.log_prob, x, op_types) == own
    np.testing.assert_allclose(
        model.distribution.log_prob(x).numpy(), model.log_prob(x).numpy(), rtol=1e-5, atol=1e-4
    )


@pytest.mark.parametrize("name", ["glow", "nice_pixels"])
def test_distribution_log_prob_is_minus_inf_outside_the_pixel_range(name):
    model = MODELS[name]()
    shape = (4,) + model.data_shape
    x = np.random.RandomState(0).uniform(0, 256, size=shape).astype("float32")
    x.reshape(4, -1)[1, 0] = -0.5
    x.reshape(4, -1)[2, 3] = 256.0
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        log_prob = model.distribution.log_prob(x)
        finite = tf.reduce_sum(tf.gather(log_prob, [0, 3]))
    values = log_prob.numpy()
    assert np.isneginf(values[1]) and np.isneginf(values[2])
    assert np.all(np.isfinite(values[[0, 3]]))
    np.testing.assert_allclose(values, model.log_prob(x).numpy(), rtol=1e-5)
    grads = tape.gradient(finite, model.distribution.trainable_variables)
    assert all(np.all(np.isfinite(g.numpy())) for g in grads if g is not None)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_sample_and_log_prob_agrees_with_log_prob(name):
    model = MODELS[name]()
    keras.utils.set_random_seed(3)
    for v in model.trainable_variables:  # away from the identity start
        v.assign(v + 0.05 * np.random.RandomState(1).normal(size=v.shape).astype("float32"))
    samples, log_prob = model.distribution.experimental_sample_and_log_prob(5, seed=(1, 2))
    np.testing.assert_allclose(
        log_prob.numpy(), model.log_prob(samples).numpy(), rtol=1e-4, atol=1e-3
    )


def _moons(n: int = 256) -> np.ndarray:
    rng = np.random.RandomState(0)
    t = rng.uniform(0, np.pi, n)
    upper = rng.uniform(size=n) < 0.5
    x = np.where(upper, np.cos(t), 1 - np.cos(t))
    y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    return (np.stack([x, y], 1) + 0.05 * rng.normal(size=(n, 2))).astype("float32")


def test_fit_tape_loop_and_tfp_minimize_train_the_same():
    """Full-batch Adam from the same start: Keras `fit`, a GradientTape loop over
    `model.distribution.trainable_variables`, and `tfp.math.minimize` reach the same loss."""
    data = _moons()
    steps, rate = 40, 1e-2
    start = tfflow.RealNVP((2,), coupling_layers=4, hidden_units=16).get_weights()

    def fresh():
        model = tfflow.RealNVP((2,), coupling_layers=4, hidden_units=16)
        model.set_weights(start)
        return model

    by_fit = fresh()
    by_fit.compile(optimizer=keras.optimizers.Adam(rate), jit_compile=False)
    by_fit.fit(data, batch_size=len(data), epochs=steps, shuffle=False, verbose=0, guard=False)

    by_tape = fresh()
    distribution = by_tape.distribution
    optimizer = keras.optimizers.Adam(rate)
    variables = list(distribution.trainable_variables)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(distribution.log_prob(data))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))

    by_minimize = fresh()
    distribution = by_minimize.distribution
    tfp.math.minimize(
        lambda: -tf.reduce_mean(distribution.log_prob(data)),
        num_steps=steps,
        optimizer=keras.optimizers.Adam(rate),
        trainable_variables=distribution.trainable_variables,
    )

    initial = -float(tf.reduce_mean(fresh().log_prob(data)))
    losses = [-float(tf.reduce_mean(m.log_prob(data))) for m in (by_fit, by_tape, by_minimize)]
    assert losses[0] < initial - 0.3, (initial, losses)
    np.testing.assert_allclose(losses[1:], losses[0], rtol=1e-3)


def test_flow_inside_a_joint_distribution_trains():
    model = _realnvp()
    data = tf.constant(np.random.RandomState(0).normal(size=(64, 4)), tf.float32) * 2.0 + 1.0
    joint = tfd.JointDistributionSequential(
        [model.distribution, lambda x: tfd.Independent(tfd.Normal(x, 1.0), 1)]
    )
    assert _ids(joint.trainable_variables) == _ids(model.trainable_variables)
    optimizer = keras.optimizers.Adam(1e-2)

    def loss():
        return -tf.reduce_mean(joint.log_prob([data, data + 0.1]))

    before = float(loss())
    for _ in range(30):
        with tf.GradientTape() as tape:
            value = loss()
        variables = list(joint.trainable_variables)
        optimizer.apply_gradients(zip(tape.gradient(value, variables), variables, strict=True))
    assert float(loss()) < before - 0.1


def test_tfflow_bijector_in_a_users_tfp_chain_trains():
    partition = tb.Partition("half", (4,), 0)
    coupling = tb.AffineCoupling(tl.MLP(4, 8, 1), partition)
    chain = tfb.Chain([tfb.Shift(1.0), coupling])
    base = tfd.Sample(tfd.Normal(0.0, 1.0), 4)
    flow = tfd.TransformedDistribution(base, tfb.Invert(chain))
    data = tf.constant(np.random.RandomState(0).normal(size=(64, 4)) * 3.0, tf.float32)
    flow.log_prob(data)  # Keras layers create their weights on the first call
    variables = list(flow.trainable_variables)
    expected = [v for layer in coupling.keras_layers for v in layer.trainable_variables]
    assert _ids(variables) == _ids(expected)
    before = [v.numpy().copy() for v in variables]
    optimizer = keras.optimizers.Adam(1e-2)
    for _ in range(3):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(flow.log_prob(data))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
    assert any(not np.allclose(b, v.numpy()) for b, v in zip(before, variables, strict=True))
