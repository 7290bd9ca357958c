"""Serving benchmark: an exported SavedModel vs the Python model it came from.

Measures `log_prob` throughput (examples/s) of the loaded SavedModel's `log_prob` signature
and of the Python model (`tf.function(model.log_prob)`, rebuilt from the model card with the
exported weights) on the same batch, and sampling latency for 1 and 64 samples, then prints a
markdown table.

Usage:
    python benchmarks/serving_benchmark.py --model savedmodels/glow_digits
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfflow.serving import ServedModel, load_served  # noqa: E402


def _timings(fn: Callable[[], object], repeats: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def _batch(served: ServedModel, batch_size: int, seed: int) -> tf.Tensor:
    rng = np.random.default_rng(seed)
    shape = (batch_size,) + served.data_shape
    if served.pixels:
        n_bits = int(served.card.get("n_bits", 8))
        return tf.constant(rng.uniform(0, 2**n_bits, shape).astype(np.float32))
    return tf.constant(rng.standard_normal(shape).astype(np.float32))


def run_benchmark(
    path: str, batch_size: int = 256, repeats: int = 20, warmup: int = 3, seed: int = 0
) -> list[dict]:
    """Returns rows `{"measure", "unit", "saved_model", "python"}` (medians over `repeats`)."""
    served = load_served(path)
    model = served.to_model()
    x = _batch(served, batch_size, seed)
    log_prob_signature = served.signatures["log_prob"]
    sample_signature = served.signatures["sample"]
    python_log_prob = tf.function(model.log_prob)
    python_sample = tf.function(lambda n, t, s: model.sample(n, t, s))

    # Same numbers first (a benchmark of different computations would be meaningless).
    expected = python_log_prob(x).numpy()
    got = log_prob_signature(x=x)["log_prob"].numpy()
    finite = np.isfinite(expected)
    rel = np.max(np.abs(got[finite] - expected[finite]) / np.abs(expected[finite]))
    if not (np.array_equal(finite, np.isfinite(got)) and rel <= 1e-5):
        raise AssertionError(f"SavedModel and Python log_prob differ (max rel. error {rel}).")

    def throughput(fn) -> float:
        return batch_size / statistics.median(_timings(fn, repeats, warmup))

    rows = [
        {
            "measure": f"log_prob throughput, batch {batch_size}",
            "unit": "examples/s",
            "saved_model": throughput(lambda: log_prob_signature(x=x)["log_prob"].numpy()),
            "python": throughput(lambda: python_log_prob(x).numpy()),
        }
    ]
    temperature, seed_t = tf.constant(0.7), tf.constant(seed, tf.int64)
    for n in (1, 64):
        n_t = tf.constant(n, tf.int32)
        saved = _timings(
            lambda n_t=n_t: sample_signature(num_samples=n_t, temperature=temperature, seed=seed_t)[
                "samples"
            ].numpy(),
            repeats,
            warmup,
        )
        python = _timings(
            lambda n_t=n_t: python_sample(n_t, temperature, seed_t).numpy(), repeats, warmup
        )
        rows.append(
            {
                "measure": f"sample latency, {n} sample{'s' if n > 1 else ''}",
                "unit": "ms",
                "saved_model": 1e3 * statistics.median(saved),
                "python": 1e3 * statistics.median(python),
            }
        )
    return rows


def markdown_table(rows: list[dict]) -> str:
    lines = [
        "| measurement | unit | SavedModel | Python model (tf.function) |",
        "|---|---|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['measure']} | {row['unit']} | {row['saved_model']:,.1f} | "
            f"{row['python']:,.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="savedmodels/glow_digits", help="model or version dir")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rows = run_benchmark(args.model, args.batch_size, args.repeats, args.warmup, args.seed)
    print(
        f"{args.model}: TF {tf.__version__}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, medians of {args.repeats} runs"
    )
    print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
