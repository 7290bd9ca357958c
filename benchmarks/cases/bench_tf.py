"""TensorFlow helpers shared by the TF cases: threads, step functions, the flow timing loop."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from bench_common import measure, peak_rss_mib  # noqa: E402

__all__ = [
    "adam_train_step",
    "measure_flow",
    "set_tf_threads",
    "sync_numpy",
    "tf_versions",
    "train_loss",
]


def set_tf_threads(threads: int, inter_threads: int = 1) -> dict[str, int]:
    """`threads` intra-op threads and `inter_threads` inter-op threads (one by default, as
    `torch.set_num_threads`; 0 for either leaves TensorFlow's default).

    Must run before TensorFlow executes anything; in a process where it already has (the smoke
    test), the settings in force are kept. Returns the settings in force, for the record.
    """
    try:
        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(int(inter_threads))
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


def train_loss(out: Any) -> Any:
    """The loss of what a Keras train function returned: a dict of metrics, or an Optional
    of one (Keras versions differ)."""
    return (out.get_value() if hasattr(out, "get_value") else out)["loss"]


def adam_train_step(
    loss_fn: Callable[[tf.Tensor], tf.Tensor],
    variables: Sequence[tf.Variable],
    learning_rate: float,
    jit_compile: bool,
) -> Callable[[tf.Tensor], tf.Tensor]:
    """A `tf.function` doing forward, backward and an Adam update; returns the loss.

    Every TensorFlow case (tfflow, TFP, the lower bound) uses the same optimizer: tfflow's
    `FusedAdam` (Keras 3 Adam's math, one fused kernel per variable; what tfflow's
    `compile()` builds), so the ratios compare the flows, not the optimizers.
    """
    from tfflow.optimizers import FusedAdam

    variables = list(variables)
    optimizer = FusedAdam(learning_rate)
    optimizer.build(variables)

    @tf.function(jit_compile=jit_compile)
    def step(x):
        with tf.GradientTape() as tape:
            loss = loss_fn(x)
        grads = tape.gradient(loss, variables)
        optimizer.apply(grads, variables)
        return loss

    return step


def measure_flow(
    spec: dict[str, Any],
    x: tf.Tensor,
    log_prob: Callable[[tf.Tensor], tf.Tensor],
    variables: Sequence[tf.Variable],
    sample: Callable[[int], tf.Tensor],
    framework: str,
    extra: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """Times a flow's `spec["metrics"]` on the batch `x`: the timing loop of the flow cases.

    A metric is `train` (forward, backward and Keras 3 Adam on `variables`), `log_prob` or
    `sample`, optionally as `metric@variant` to measure it in another variant than the case's
    (`@xla`: `jit_compile=True`). `extra` maps further metric names (e.g. `train@fit`) to
    functions that time them; they get the results dict, to record details. Each metric also
    records the process's peak RSS when it finished (`rss_mib`).
    """
    timing = {k: spec[k] for k in ("windows", "window_s", "warmup_s")}
    batch = int(spec["workload"]["batch"])
    results: dict[str, Any] = {"rss_mib": {"setup": peak_rss_mib()}}
    for metric in spec["metrics"]:
        name, _, variant = metric.partition("@")
        jit = (variant or spec["variant"]) == "xla"
        if extra and metric in extra:
            results[metric] = extra[metric](results)
        elif name == "train":
            step = adam_train_step(
                lambda data: -tf.reduce_mean(log_prob(data)), variables, spec["learning_rate"], jit
            )
            results[metric] = measure(lambda step=step: step(x), batch, sync=sync_numpy, **timing)
        elif name == "log_prob":
            fn = tf.function(log_prob, jit_compile=jit)
            results[metric] = measure(lambda fn=fn: fn(x), batch, sync=sync_numpy, **timing)
        elif name == "sample":
            fn = tf.function(lambda: sample(batch), jit_compile=jit)
            results[metric] = measure(fn, batch, sync=sync_numpy, **timing)
        else:
            raise ValueError(f"unknown metric {metric!r} for {framework}")
        results["rss_mib"][metric] = peak_rss_mib()
    return results


def tf_versions() -> dict[str, str]:
    """Versions of the TF stack in this process."""
    import tensorflow_probability as tfp

    return {"tensorflow": tf.__version__, "keras": keras.__version__, "tfp": tfp.__version__}
