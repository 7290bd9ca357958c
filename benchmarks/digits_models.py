"""Each model on the 8x8 digits: test bits/dim after a short training run, and throughput.

Trains NICE (flattened pixels), RealNVP (multi-scale) and Glow with `compile()` defaults on
the 1,500 training digits (uniform dequantization, 8-bit scale) for `--epochs` epochs, then
reports test bits/dim on the 297 test digits (deterministic dequantization) and the measured
training throughput in examples/s (epochs after the first, so tracing is excluded).

    python benchmarks/digits_models.py --epochs 30
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tfflow  # noqa: E402
from tfflow.data import load_arrays, make_dataset  # noqa: E402

MODELS = {
    "nice": lambda: tfflow.NICE((64,), hidden_layers=4, hidden_units=256, pixels=True),
    "realnvp": lambda: tfflow.RealNVP(
        (8, 8, 1), num_scales=2, residual_blocks=2, hidden_channels=32
    ),
    "glow": lambda: tfflow.Glow((8, 8, 1), levels=2, steps_per_level=4, hidden_channels=64),
}


class Timer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epoch_times = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_times.append(time.perf_counter() - self.start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    args = parser.parse_args()
    digits = load_arrays("digits")
    print("| model | epochs | test bits/dim | train examples/s | parameters |")
    print("|---|---|---|---|---|")
    for name in args.models:
        keras.utils.set_random_seed(0)
        train = make_dataset(digits.train, batch_size=args.batch_size, training=True, seed=0)
        test = make_dataset(digits.test, batch_size=297, training=False, seed=0)
        if name == "nice":
            train = train.map(lambda x: tf.reshape(x, [-1, 64]))
            test = test.map(lambda x: tf.reshape(x, [-1, 64]))
        model = MODELS[name]()
        model.compile()
        timer = Timer()
        model.fit(train, epochs=args.epochs, verbose=0, callbacks=[timer])
        bpd = float(np.mean(np.concatenate([model.bits_per_dim(x).numpy() for x in test])))
        throughput = len(digits.train) / float(np.median(timer.epoch_times[1:]))
        params = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
        print(f"| {name} | {args.epochs} | {bpd:.3f} | {throughput:.0f} | {params:,} |", flush=True)


if __name__ == "__main__":
    main()
