"""Does naming Philox speed up tfflow's stateless draws under XLA? One process, interleaved.

1. Draws: `tfflow.dequantization.dequantize_pixels` (`fit`'s noise on integer pixels) in a
   `jit_compile=True` function with a seed read from a variable at run time, as in `fit`,
   against the same function drawing with TensorFlow's default algorithm, at the batch
   shapes of NICE/RealNVP on MNIST vectors, Glow 28x28 and Glow 32x32.
2. `fit`: Keras' compiled train function (what `fit` runs per batch) of a RealNVP on uint8
   MNIST-sized vectors (784-d, pixels, 4 couplings 2x256, batch 256) with `jit_compile=True`,
   tfflow against tfflow at git revision `--baseline` (imported side by side), on the same
   endless dataset of one batch.

Prints microseconds per call, the medians of per-round speed ratios, and the CPU model.

    .venv/bin/python benchmarks/xla_random_draws.py [--baseline REV] [--rounds 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases"))

from bench_common import cpu_model  # noqa: E402
from bench_tf import train_loss  # noqa: E402
from profile_tfflow import interleaved  # noqa: E402

SHAPES = {"vectors 256x784": (256, 784), "glow28 64x28x28x1": (64, 28, 28, 1)}
SHAPES["glow32 32x32x32x3"] = (32, 32, 32, 3)


def _fit_function(package, x):
    """A compiled train step of `package.RealNVP` on the uint8 batch `x` (jit_compile=True)."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    model = package.RealNVP(
        (784,), coupling_layers=4, hidden_units=256, hidden_layers=2, pixels=True
    )
    model.compile(jit_compile=True)
    model.make_train_function()
    iterator = iter(tf.data.Dataset.from_tensors(x).repeat())

    return lambda: train_loss(model.train_function(iterator))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="a4db939", help="git revision before the change")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--window-s", type=float, default=0.5)
    args = parser.parse_args(argv)

    import tensorflow as tf
    from baseline_package import import_baseline

    import tfflow
    from tfflow.dequantization import dequantize_pixels

    step = tf.Variable(0, dtype=tf.int64)
    rng = np.random.default_rng(0)
    draws = {}
    for name, shape in SHAPES.items():
        x = tf.constant(rng.integers(0, 256, shape, dtype=np.uint8))

        def named(x=x):
            return dequantize_pixels(x, 8, tf.stack([step, step + 1]), tf.float32)

        def default(x=x):
            noise = tf.random.stateless_uniform(tf.shape(x), tf.stack([step, step + 1]))
            return tf.cast(x, tf.float32) + noise

        draws[f"{name} tfflow"] = tf.function(named, jit_compile=True)
        draws[f"{name} default"] = tf.function(default, jit_compile=True)
    times = interleaved(draws, args.rounds, args.window_s)
    print(f"CPU: {cpu_model()}; TensorFlow {tf.__version__}; {args.rounds} rounds")
    print("1. dequantization noise under XLA, us per call (tfflow's speed / default's):")
    for name in SHAPES:
        ours, theirs = times[f"{name} tfflow"], times[f"{name} default"]
        ratio = statistics.median(t / o for o, t in zip(ours, theirs, strict=True))
        print(
            f"   {name}: tfflow {statistics.median(ours) * 1e6:,.0f}, "
            f"default {statistics.median(theirs) * 1e6:,.0f}, {ratio:.1f}x"
        )

    baseline = import_baseline(args.baseline)
    x = tf.constant(rng.integers(0, 256, (256, 784), dtype=np.uint8))
    fits = {"tfflow": _fit_function(tfflow, x), "baseline": _fit_function(baseline, x)}
    times = interleaved(fits, args.rounds, args.window_s * 2)
    ratio = statistics.median(
        b / t for t, b in zip(times["tfflow"], times["baseline"], strict=True)
    )
    print("2. fit on uint8 784-d vectors, jit_compile=True, ms per batch of 256:")
    print(
        f"   tfflow {statistics.median(times['tfflow']) * 1e3:.2f}, "
        f"{args.baseline} {statistics.median(times['baseline']) * 1e3:.2f}; "
        f"speed ratio {ratio:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
