"""Step time with and without XLA, and peak memory against depth with and without recomputation.

Each configuration runs in its own process (peak RSS is per process): Glow on 28x28x1
(MNIST shape), L=2, 128 hidden channels, batch 64, a few `train_step`s after a warm-up.

    python benchmarks/scale_benchmark.py [--depths 4 8 16 32] [--steps 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def one(depth: int, recompute: bool, jit: bool, steps: int, hidden: int) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf

    import tfflow

    model = tfflow.Glow(
        (28, 28, 1), levels=2, steps_per_level=depth, hidden_channels=hidden, recompute=recompute
    )
    model.compile(jit_compile=jit)
    x = np.random.RandomState(0).uniform(0, 255.9, size=(64, 28, 28, 1)).astype("float32")
    data = iter(tf.data.Dataset.from_tensors(x).repeat())
    model.make_train_function()
    model.train_function(data)  # warm-up: tracing (and XLA compilation)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        logs = model.train_function(data)
        float(logs["loss"])
        times.append(time.perf_counter() - start)
    return {
        "depth": depth,
        "recompute": recompute,
        "jit": jit,
        "step_s_median": float(np.median(times)),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", nargs="+", type=int, default=[4, 8, 16, 32])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        depth, recompute, jit = int(args.one[0]), args.one[1] == "1", args.one[2] == "1"
        print("RESULT " + json.dumps(one(depth, recompute, jit, args.steps, args.hidden)))
        return 0
    configs = [(d, r, False) for d in args.depths for r in (False, True)]
    configs += [(8, False, True)]
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
        ]
        out = subprocess.run(command, capture_output=True, text=True, check=False)
        lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
        if not lines:
            print(out.stderr[-2000:], file=sys.stderr)
            continue
        results.append(json.loads(lines[0][7:]))
        print(results[-1], flush=True)
    print("\n| K | recompute | XLA | step time (s, median) | peak RSS (MB) |")
    print("|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['depth']} | {r['recompute']} | {r['jit']} | {r['step_s_median']:.2f} | "
            f"{r['peak_rss_mb']:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
