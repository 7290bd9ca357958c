"""Step time with and without XLA, and peak memory against depth with and without recomputation.

Each configuration runs in its own process (peak RSS is per process): Glow on 28x28x1
(MNIST shape), L=2, 128 hidden channels, batch 64, Keras' compiled `train_function` (what
`fit` runs per batch), a few steps after a warm-up (tracing, graph optimisation, XLA).

    python benchmarks/scale_benchmark.py [--depths 4 8 16 32] [--steps 3] [--optimizer sgd]

Columns: median step time; the process's peak RSS; its growth over the RSS after building
the model (before tracing); and the peak of TensorFlow's CPU allocator during the timed steps
(tensors only: activations, gradients, temporaries; what recomputation reduces). The rest
of the growth is TensorFlow's per-operation cost of the traced training graph (graph
construction, optimisation, executor state), which grows with the number of operations, so
with depth. `--optimizer sgd` replaces the model's recipe (Adam) by plain SGD to show the
share of Adam's per-variable update operations in it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one(depth: int, recompute: bool, jit: bool, steps: int, hidden: int, optimizer: str) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np
    import tensorflow as tf

    import tfflow

    model = tfflow.Glow(
        (28, 28, 1), levels=2, steps_per_level=depth, hidden_channels=hidden, recompute=recompute
    )
    if optimizer == "sgd":
        model.compile(optimizer=keras.optimizers.SGD(1e-4), jit_compile=jit)
    else:
        model.compile(jit_compile=jit)
    x = np.random.RandomState(0).uniform(0, 255.9, size=(64, 28, 28, 1)).astype("float32")
    data = iter(tf.data.Dataset.from_tensors(x).repeat())
    model.initialize(x)  # what `fit` does first (make_train_function then builds the optimizer)
    model.make_train_function()
    setup_rss = _peak_rss_mb()
    model.train_function(data)  # warm-up: tracing (and XLA compilation)
    first_call_rss = _peak_rss_mb()
    try:
        tf.config.experimental.reset_memory_stats("CPU:0")
    except ValueError:  # allocator without statistics (e.g. TF_ENABLE_ONEDNN_OPTS=0)
        pass
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        logs = model.train_function(data)
        float(logs["loss"])
        times.append(time.perf_counter() - start)
    try:
        tensor_peak = tf.config.experimental.get_memory_info("CPU:0")["peak"] / 2**20
    except ValueError:
        tensor_peak = float("nan")
    peak = _peak_rss_mb()
    return {
        "depth": depth,
        "recompute": recompute,
        "jit": jit,
        "optimizer": optimizer,
        "step_s_median": float(np.median(times)),
        "peak_rss_mb": peak,
        "setup_rss_mb": setup_rss,
        "first_call_rss_mb": first_call_rss,
        "rss_growth_mb": peak - setup_rss,
        "tensor_peak_mb": tensor_peak,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", nargs="+", type=int, default=[4, 8, 16, 32])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument(
        "--optimizer",
        choices=["recipe", "sgd"],
        default="recipe",
        help="the model's compile() recipe (Adam + warmup) or plain SGD (diagnostic)",
    )
    parser.add_argument(
        "--xla-depths", nargs="*", type=int, default=[8], help="K of the XLA runs (both modes)"
    )
    parser.add_argument("--out", help="also write the results as JSON to this file")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        depth, recompute, jit = int(args.one[0]), args.one[1] == "1", args.one[2] == "1"
        result = one(depth, recompute, jit, args.steps, args.hidden, args.optimizer)
        print("RESULT " + json.dumps(result))
        return 0
    configs = [(d, r, False) for d in args.depths for r in (False, True)]
    configs += [(d, r, True) for d in args.xla_depths for r in (False, True)]
    results = []
    for depth, recompute, jit in configs:
        command = [
            sys.executable,
            __file__,
            "--one",
            str(depth),
            str(int(recompute)),
            str(int(jit)),
            "--steps",
            str(args.steps),
            "--hidden",
            str(args.hidden),
            "--optimizer",
            args.optimizer,
        ]
        out = subprocess.run(command, capture_output=True, text=True, check=False)
        lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
        if not lines:
            print(out.stderr[-2000:], file=sys.stderr)
            continue
        results.append(json.loads(lines[0][7:]))
        print(results[-1], flush=True)
    print(
        "\n| K | recompute | XLA | step time (s, median) | peak RSS (MiB) "
        "| peak RSS after the first (tracing) call (MiB) "
        "| RSS growth over setup (MiB) | tensor peak (MiB) |"
    )
    print("|--:|---|---|--:|--:|--:|--:|--:|")
    for r in results:
        print(
            f"| {r['depth']} | {r['recompute']} | {r['jit']} | {r['step_s_median']:.2f} | "
            f"{r['peak_rss_mb']:.0f} | {r['first_call_rss_mb']:.0f} | "
            f"{r['rss_growth_mb']:.0f} | {r['tensor_peak_mb']:.0f} |"
        )
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"command": " ".join(sys.argv), "results": results}, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
