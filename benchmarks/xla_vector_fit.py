"""Does XLA pay for vector models on this CPU? `fit`, `evaluate` and eager calls, one process.

Two identical RealNVP 64-d models (8 couplings, 2x256, batch 256, the tabular workload of
`profile_tfflow.py`), one compiled with `jit_compile=True` and one with `False`, run on the
same batch through Keras' compiled `model.train_function` (what `fit` runs per batch) and
`model.test_function` (what `evaluate` runs per batch), fed from an endless dataset (without
`train_on_batch`'s per-call data adapter), in alternating windows
(`profile_tfflow.interleaved`: rotated order each round), so all four see the same machine
load. In the same rounds, `model.log_prob` and `model.decode` run as the `tf.function` an
eager call is served by (`tfflow.models.graph_calls`), with and without `jit_compile`; then
the first call of a fresh function of each kind at three new batch sizes times the tracing
(and XLA compilation) a user's eager calls pay whenever the batch size changes.
TensorFlow's default thread pools, as a user gets them. Prints examples/s per step and
setting, the medians of the per-round ratios XLA / no XLA, and the first-call seconds, with
the CPU model.

    .venv/bin/python benchmarks/xla_vector_fit.py [--rounds 10] [--window-s 1.0]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases"))

from bench_common import cpu_model  # noqa: E402
from bench_tf import train_loss  # noqa: E402
from profile_tfflow import interleaved  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--window-s", type=float, default=1.0)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf

    import tfflow

    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(args.batch, 64)).astype("float32"))
    iterator = iter(tf.data.Dataset.from_tensors(x).repeat())
    steps = {}
    for jit in (False, True):
        keras.utils.set_random_seed(0)
        model = tfflow.RealNVP((64,), coupling_layers=8, hidden_units=256, hidden_layers=2)
        model.compile(jit_compile=jit, warmup_steps=0)
        model.make_train_function()
        model.make_test_function()
        mode = "xla" if jit else "graph"
        steps[f"fit {mode}"] = model.train_function
        steps[f"evaluate {mode}"] = model.test_function
    fns = {name: (lambda step=step: train_loss(step(iterator))) for name, step in steps.items()}
    for name in ("log_prob", "decode"):
        for jit in (False, True):
            call = tf.function(getattr(model, name), jit_compile=jit, reduce_retracing=True)
            fns[f"{name} {'xla' if jit else 'graph'}"] = lambda call=call: call(x)
    times = interleaved(fns, args.rounds, args.window_s)
    print(f"CPU: {cpu_model()}; TensorFlow {tf.__version__}; {args.rounds} rounds")
    for name, values in times.items():
        print(f"{name}: {args.batch / statistics.median(values):,.0f} examples/s")
    for step in ("fit", "evaluate", "log_prob", "decode"):
        graph, xla = times[f"{step} graph"], times[f"{step} xla"]
        ratio = statistics.median(g / x for g, x in zip(graph, xla, strict=True))
        print(f"{step}: XLA speed / no-XLA speed (median of per-round ratios): {ratio:.2f}")
    print("First call at a new batch size (tracing, and compiling with XLA), seconds:")
    for jit in (False, True):
        call = tf.function(model.log_prob, jit_compile=jit, reduce_retracing=True)
        firsts = []
        for batch in (args.batch, 100, 7):
            start = time.perf_counter()
            call(tf.constant(rng.normal(size=(batch, 64)).astype("float32"))).numpy()
            firsts.append(f"batch {batch}: {time.perf_counter() - start:.3f}")
        print(f"log_prob {'xla' if jit else 'graph'}: " + ", ".join(firsts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
