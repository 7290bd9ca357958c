"""Eager `log_prob`/`encode`/`decode`/`sample` run as cached graphs: same answers as the
op-by-op path (`run_eagerly=True`), fresh weights, the Keras training flag, fresh noise."""

import gc
import weakref

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfflow


def _eagerly(model, method, *args, **kwargs):
    """`method` called op by op (the path every call took before graphs were cached)."""
    model.run_eagerly = True
    try:
        return getattr(model, method)(*args, **kwargs).numpy()
    finally:
        model.run_eagerly = False


def _vector_model():
    keras.utils.set_random_seed(0)
    return tfflow.RealNVP((3,), coupling_layers=4, hidden_units=16)


def _image_model():
    """An image RealNVP whose ResNet conditioners hold batch normalization."""
    keras.utils.set_random_seed(1)
    return tfflow.RealNVP((4, 4, 1), num_scales=1, residual_blocks=1, hidden_channels=8)


def _randomise(model, seed=2):
    rng = np.random.default_rng(seed)
    for v in model.trainable_variables:
        v.assign(0.1 * rng.standard_normal(v.shape).astype(v.dtype))


def test_eager_calls_match_the_op_by_op_path():
    model = _vector_model()
    _randomise(model)
    x = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
    z = model.encode(x).numpy()
    np.testing.assert_allclose(model.log_prob(x).numpy(), _eagerly(model, "log_prob", x), 1e-5)
    np.testing.assert_allclose(z, _eagerly(model, "encode", x), 1e-5, 1e-6)
    np.testing.assert_allclose(model.decode(z).numpy(), x, 1e-4, 1e-5)
    np.testing.assert_allclose(model.decode(z).numpy(), _eagerly(model, "decode", z), 1e-5, 1e-6)
    for n in (1, 2, 7, 64):  # new batch sizes reuse or retrace the graph, answers stay right
        xs = np.random.default_rng(n).normal(size=(n, 3)).astype("float32")
        np.testing.assert_allclose(
            model.log_prob(xs).numpy(), _eagerly(model, "log_prob", xs), 1e-5
        )


def test_eager_calls_read_the_current_weights():
    model = _vector_model()
    x = np.ones((2, 3), "float32")
    before = model.log_prob(x).numpy()
    _randomise(model, seed=3)
    after = model.log_prob(x).numpy()
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, _eagerly(model, "log_prob", x), 1e-5)


def test_gradients_through_an_eager_call_match():
    model = _vector_model()
    _randomise(model)
    x = np.random.default_rng(4).normal(size=(8, 3)).astype("float32")

    def gradients():
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(model.log_prob(x))
        return [g.numpy() for g in tape.gradient(loss, model.trainable_variables)]

    graph = gradients()
    model.run_eagerly = True
    eager = gradients()
    model.run_eagerly = False
    for a, b in zip(graph, eager, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_the_keras_training_flag_selects_its_own_graph():
    """Batch norm normalizes with the batch's statistics in training and the moving ones
    in inference: a graph traced under one flag must not answer for the other."""
    model = _image_model()
    _randomise(model)
    x = np.random.default_rng(5).uniform(0, 1, size=(6, 4, 4, 1)).astype("float32")
    inference = model.log_prob(x).numpy()
    training = model(x, training=True).numpy()  # batch statistics; updates the moving ones
    assert not np.allclose(inference, training, rtol=1e-4)
    model.run_eagerly = True
    try:
        op_by_op = model(x, training=True).numpy()
    finally:
        model.run_eagerly = False
    np.testing.assert_allclose(training, op_by_op, rtol=1e-5)
    after = model.log_prob(x).numpy()  # inference again, with the updated moving statistics
    assert not np.allclose(after, training, rtol=1e-4)
    np.testing.assert_allclose(after, _eagerly(model, "log_prob", x), rtol=1e-5)


def test_unseeded_samples_are_fresh_and_seeded_ones_repeat():
    model = _vector_model()
    a, b = model.sample(4).numpy(), model.sample(4).numpy()
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(model.sample(4, seed=7).numpy(), model.sample(4, seed=7))


def test_the_graph_cache_does_not_keep_a_model_alive():
    model = _vector_model()
    model.log_prob(np.zeros((2, 3), "float32"))
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None


@pytest.mark.parametrize("bad", [np.zeros((2, 4), "float32"), np.zeros((3, 1), "float32")])
def test_bad_input_still_fails_with_the_argument_named(bad):
    model = _vector_model()
    with pytest.raises(ValueError, match="`x`"):
        model.log_prob(bad)
