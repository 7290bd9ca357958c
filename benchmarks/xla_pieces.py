"""Does an XLA cluster around a Glow coupling's element-wise work pay on this CPU?

Usage (from the repository root):

    .venv/bin/python benchmarks/xla_pieces.py [--steps 16] [--rounds 10]

Times, inside one non-XLA `tf.function`, `--steps` repetitions of the affine coupling's
element-wise part at glow28's level-1 shape (`scale = eps + (1 - eps) sigmoid(h + 2)`,
`y = x * scale + shift`, `sum(log(scale))`) as plain TensorFlow ops and as a nested
`tf.function(jit_compile=True)` (one XLA launch per step), interleaved in one process;
prints microseconds per step (median over rounds).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    eps = float(np.exp(-3.0))

    def coupling(h, shift, x):
        scale = eps + (1 - eps) * tf.sigmoid(h + 2.0)
        return x * scale + shift, tf.reduce_sum(tf.math.log(scale), axis=[1, 2, 3])

    def repeated(inner):
        @tf.function
        def run(h, shift, x):
            total = 0.0
            for _ in range(args.steps):
                x, log_det = inner(h, shift, x)
                total = total + log_det
            return x, total

        return run

    fns = {
        "plain ops": repeated(coupling),
        "XLA piece": repeated(tf.function(coupling, jit_compile=True)),
    }
    inputs = [tf.random.normal([64, 14, 14, 2], seed=i) for i in range(3)]
    for fn in fns.values():
        fn(*inputs)
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(args.rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(args.calls):
                out = fn(*inputs)
            out[0].numpy()
            times[name].append((time.perf_counter() - start) / args.calls / args.steps)
    for name, values in times.items():
        print(f"{name}: {1e6 * statistics.median(values):.1f} us per step")
    return 0


if __name__ == "__main__":
    sys.exit(main())
