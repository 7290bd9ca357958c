"""Pins every private TensorFlow/Keras/TFP name `tfflow._compat` wraps: when a release moves
one, these fail with a message naming it (tfflow never falls back silently)."""

import os
import subprocess
import sys

import keras
import tensorflow as tf

from tfflow import bijectors as tb
from tfflow._compat.keras import adam_slots, learning_rate_schedule
from tfflow._compat.tfp import greedy_bijector_cache
from tfflow.optimizers import LinearWarmup


def test_tfp_greedy_cache_turns_log_det_calls_into_lookups():
    assert greedy_bijector_cache("_augmented_forward", "_augmented_inverse") is not None, (
        "tensorflow_probability.python.internal.cache_util.BijectorCacheWithGreedyAttrs moved"
    )
    calls = []

    class Counting(tb.PixelScaling):
        def _forward_and_log_det(self, x):
            calls.append("forward")
            return super()._forward_and_log_det(x)

        def _inverse_and_log_det(self, y):
            calls.append("inverse")
            return super()._inverse_and_log_det(y)

    bijector = Counting((3,))
    x = tf.constant([[1.0, 2.0, 3.0]])
    y = bijector.forward(x)
    bijector.forward_log_det_jacobian(x, event_ndims=1)
    bijector.inverse_log_det_jacobian(y, event_ndims=1)
    bijector.inverse(y)
    assert calls == ["forward"], (
        "TFP's bijector cache no longer stores the attributes tfflow's `_augmented_forward` "
        f"returns (calls: {calls}); see tfflow/_compat/tfp.py"
    )


def test_keras_optimizer_keeps_its_schedule_in_learning_rate():
    schedule = LinearWarmup(1e-3, warmup_steps=10)
    assert learning_rate_schedule(keras.optimizers.Adam(schedule)) is schedule, (
        "Keras optimizers no longer keep their schedule in `_learning_rate`; see "
        "tfflow/_compat/keras.py"
    )
    assert learning_rate_schedule(keras.optimizers.Adam(1e-3)) is None


def test_tf_multi_worker_strategy_reports_its_mode():
    script = (
        "import tensorflow as tf\n"
        "strategy = tf.distribute.MultiWorkerMirroredStrategy()\n"
        "from tfflow._compat.tf import in_multi_worker_mode\n"
        "default = tf.distribute.get_strategy()\n"
        "print(in_multi_worker_mode(strategy), in_multi_worker_mode(default))\n"
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("TF_CONFIG", None)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, (
        "MultiWorkerMirroredStrategy.extended._in_multi_worker_mode() moved; see "
        f"tfflow/_compat/tf.py:\n{result.stderr[-2000:]}"
    )
    assert result.stdout.split() == ["False", "False"]  # one worker without TF_CONFIG


def test_keras_adam_keeps_its_moments_where_fused_adam_reads_them():
    variable = keras.Variable(tf.ones([3]))
    optimizer = keras.optimizers.Adam(0.1)
    optimizer.apply([tf.ones([3])], [variable])
    momentum, velocity = adam_slots(optimizer, variable)
    assert momentum.shape == velocity.shape == (3,), (
        "Keras' Adam no longer keeps `_momentums`/`_velocities` by `_get_variable_index`; see "
        "tfflow/_compat/keras.py"
    )
    assert float(momentum[0]) > 0 and float(velocity[0]) > 0
    assert callable(getattr(keras.optimizers.Optimizer, "_backend_update_step", None)), (
        "keras.optimizers.Optimizer._backend_update_step moved; FusedAdam overrides it"
    )
