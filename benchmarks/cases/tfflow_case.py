"""tfflow's RealNVP and Glow: training, log_prob and sampling throughput; depth; quality.

Depth jobs (Glow at several K, with and without `recompute`) also report the peak of
TensorFlow's CPU allocator (`tensor_peak_mib`), the memory that recomputation reduces.

Variants: `graph` (a `tf.function` train step), `xla` (the same with `jit_compile=True`) and
`fit` (Keras' own compiled `model.train_function`, what `model.fit` runs per batch, with
`compile()`'s default `jit_compile`, `FlowModel.default_jit_compile()`: on CPU, XLA for the
tabular model and not for Glow).
"""

from __future__ import annotations

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from bench_common import case_main, measure, quality_loop, speed_inputs  # noqa: E402
from bench_tf import (  # noqa: E402
    adam_train_step,
    measure_flow,
    set_tf_threads,
    sync_numpy,
    tf_versions,
    train_loss,
)

__all__ = ["build_model", "run"]


def build_model(spec: dict[str, Any]):
    """The tfflow model of a workload spec (imported lazily, after the thread settings)."""
    import tfflow

    if spec["model"] == "realnvp":
        return tfflow.RealNVP(
            (int(spec["dims"]),),
            coupling_layers=int(spec["coupling_layers"]),
            hidden_units=int(spec["hidden_units"]),
            hidden_layers=int(spec["hidden_layers"]),
        )
    return tfflow.Glow(
        tuple(spec["shape"]),
        levels=int(spec["levels"]),
        steps_per_level=int(spec["steps_per_level"]),
        hidden_channels=int(spec["hidden_channels"]),
        recompute=bool(spec.get("recompute", False)),  # the depth scan measures both
    )


def _fit_step(model, x, learning_rate: float):
    """Keras' compiled train function on an endless dataset of the batch `x`."""
    import tensorflow as tf

    model.compile(learning_rate=learning_rate, warmup_steps=0)  # the recipe's FusedAdam
    model.make_train_function()
    iterator = iter(tf.data.Dataset.from_tensors(x).repeat())

    def step():
        return model.train_function(iterator)

    def sync(out):
        return sync_numpy(train_loss(out))

    return step, sync, bool(model.jit_compile)


def _speed(spec: dict[str, Any]) -> dict[str, Any]:
    import tensorflow as tf

    work = spec["workload"]
    model = build_model(work)
    x = tf.constant(speed_inputs(spec))
    if model.needs_initialization():
        model.initialize(x)
    timing = {k: spec[k] for k in ("windows", "window_s", "warmup_s")}

    def fit(results):
        # "train@fit": Keras' own train function, what `model.fit` runs per batch.
        step, sync, results["fit_jit_compile"] = _fit_step(model, x, spec["learning_rate"])
        return measure(step, int(work["batch"]), sync=sync, **timing)

    results = measure_flow(
        spec,
        x,
        model.log_prob,
        model.trainable_variables,
        model.sample,
        "tfflow",
        extra={"train@fit": fit},
    )
    results["params"] = int(sum(np.prod(v.shape) for v in model.trainable_variables))
    if spec["kind"] == "depth":
        results["tensor_peak_mib"] = _tensor_peak_mib()
    return results


def _tensor_peak_mib() -> float | None:
    """Peak of TensorFlow's CPU allocator in this process (tensors only: activations,
    gradients, temporaries), MiB; None where the allocator keeps no statistics."""
    import tensorflow as tf

    try:
        return tf.config.experimental.get_memory_info("CPU:0")["peak"] / 2**20
    except ValueError:
        return None


def _quality(spec: dict[str, Any]) -> dict[str, Any]:
    import tensorflow as tf

    model = build_model(spec["workload"])
    step = adam_train_step(
        lambda data: -tf.reduce_mean(model.log_prob(data)),
        model.trainable_variables,
        spec.get("quality", {}).get("learning_rate", 1e-3),
        spec["variant"] == "xla",
    )
    log_prob = tf.function(model.log_prob)
    return quality_loop(spec, lambda x: step(tf.constant(x)), lambda x: log_prob(x).numpy())


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Runs one tfflow case spec (`kind`: `speed` or `quality`)."""
    threads = set_tf_threads(spec.get("threads", 2))
    import tfflow

    result = _quality(spec) if spec["kind"] == "quality" else _speed(spec)
    result["threads"] = threads
    result["versions"] = dict(tf_versions(), tfflow=tfflow.__version__)
    return result


if __name__ == "__main__":
    case_main(run)
