"""Pins every private TensorFlow/Keras/TFP name `tfflow._compat` wraps: when a release moves
one, these fail with a message naming it (tfflow never falls back silently)."""

import os
import subprocess
import sys

import keras
import tensorflow as tf
import tensorflow_probability as tfp

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


def test_tfp_chain_and_invert_of_tfflow_bijectors_are_the_private_base_classes():
    from tfflow._compat.tfp import CHAIN_TYPES, INVERT_TYPES

    scaling = tb.PixelScaling((2,))
    assert isinstance(tfp.bijectors.Chain([scaling]), CHAIN_TYPES), (
        "tfb.Chain of non-CompositeTensor bijectors is no longer a "
        "tensorflow_probability.python.bijectors.chain._Chain; see tfflow/_compat/tfp.py"
    )
    assert isinstance(tfp.bijectors.Invert(scaling), INVERT_TYPES)
    assert isinstance(tfp.bijectors.Chain([tfp.bijectors.Shift(1.0)]), CHAIN_TYPES)


def test_keras_call_context_and_autocast_scope_work_as_recompute_needs():
    from tfflow._compat.keras import current_call_training, keras_call_context, no_autocast

    seen = []

    class Probe(keras.layers.Layer):
        def call(self, x, training=None):
            seen.append(current_call_training())
            return x

    Probe()(tf.zeros([1]), training=True)
    assert seen == [True], "Keras' current_call_ctx no longer carries `training`"
    with keras_call_context(False):
        assert current_call_training() is False
    assert current_call_training() is None
    keras.mixed_precision.set_global_policy("mixed_float16")
    layer = keras.layers.Dense(2)
    layer.build((None, 2))
    with no_autocast():
        assert tf.convert_to_tensor(layer.kernel).dtype == tf.float32


def test_keras_fit_resumes_at_the_epoch_a_callback_sets():
    from tfflow._compat.keras import set_initial_epoch

    for name in ("_load_model", "_save_model"):
        assert callable(getattr(keras.callbacks.BackupAndRestore, name, None)), (
            f"keras.callbacks.BackupAndRestore.{name} moved; AtomicBackupAndRestore overrides it"
        )

    class StartAtTwo(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            set_initial_epoch(self.model, 2)

    epochs = []
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(
        tf.zeros([4, 1]),
        tf.zeros([4, 1]),
        epochs=4,
        verbose=0,
        callbacks=[
            StartAtTwo(),
            keras.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: epochs.append(e)),
        ],
    )
    assert epochs == [2, 3], f"Keras' fit no longer resumes at model._initial_epoch: {epochs}"
