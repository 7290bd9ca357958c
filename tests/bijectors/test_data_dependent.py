"""`tfflow.bijectors.data_dependent`: the init context ActNorm and Scaling share."""

import threading

import numpy as np
import tensorflow as tf

import tfflow.bijectors as tb
from tfflow.bijectors.data_dependent import constant_log_det, is_initializing


def test_context_nests_and_restores_the_previous_setting():
    assert not is_initializing()
    with tb.data_dependent_init():
        with tb.data_dependent_init():
            assert is_initializing()
        assert is_initializing()
    assert not is_initializing()


def test_context_is_restored_after_an_error():
    try:
        with tb.data_dependent_init():
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert not is_initializing()


def test_another_thread_does_not_initialise_inside_this_threads_context():
    scaling = tb.Scaling((2,), data_init_scale=2.0)
    x = tf.constant([[1.0, 10.0], [3.0, 30.0]])
    seen = []

    def other_thread():
        seen.append(is_initializing())
        scaling.forward(x)

    with tb.data_dependent_init():
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert seen == [False] and not scaling.initialized


def test_no_initialisation_while_tracing():
    actnorm = tb.ActNorm((2,))
    x = tf.constant([[1.0, 10.0], [3.0, 30.0]])
    with tb.data_dependent_init():
        tf.function(actnorm.forward)(x)
    assert not actnorm.initialized
    with tb.data_dependent_init():
        actnorm.forward(x)
    assert actnorm.initialized


def test_constant_log_det_repeats_the_scale_per_example():
    x = tf.zeros([5, 4, 3])
    log_scale = tf.constant([0.5, -1.0, 2.0])
    ldj = constant_log_det(x, log_scale, event_ndims=2, repeats=4)
    np.testing.assert_allclose(ldj.numpy(), np.full([5], 4 * 1.5))
    assert constant_log_det(x, log_scale, event_ndims=3).shape == ()
