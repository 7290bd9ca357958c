"""TensorFlow helpers shared by the TF cases: thread settings and step functions."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

__all__ = ["adam_train_step", "set_tf_threads", "sync_numpy", "tf_versions"]


def set_tf_threads(threads: int) -> dict[str, int]:
    """`threads` intra-op threads and one inter-op thread (as `torch.set_num_threads`).

    Must run before TensorFlow executes anything; in a process where it already has (the smoke
    test), the settings in force are kept. Returns the settings in force, for the record.
    """
    try:
        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass
    return {
        "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
    }


def sync_numpy(out: Any) -> Any:
    """Forces the value of a step's (first) output to be computed."""
    if isinstance(out, dict):
        out = next(iter(out.values()))
    if isinstance(out, list | tuple):
        out = out[0]
    return np.asarray(out)


def adam_train_step(
    loss_fn: Callable[[tf.Tensor], tf.Tensor],
    variables: Sequence[tf.Variable],
    learning_rate: float,
    jit_compile: bool,
) -> Callable[[tf.Tensor], tf.Tensor]:
    """A `tf.function` doing forward, backward and a Keras 3 Adam update; returns the loss."""
    variables = list(variables)
    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build(variables)

    @tf.function(jit_compile=jit_compile)
    def step(x):
        with tf.GradientTape() as tape:
            loss = loss_fn(x)
        grads = tape.gradient(loss, variables)
        optimizer.apply(grads, variables)
        return loss

    return step


def tf_versions() -> dict[str, str]:
    """Versions of the TF stack in this process."""
    import tensorflow_probability as tfp

    return {"tensorflow": tf.__version__, "keras": keras.__version__, "tfp": tfp.__version__}
