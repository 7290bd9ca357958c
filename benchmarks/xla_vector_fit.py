"""Does XLA pay for vector models on this CPU? `fit`'s own train step, both settings, one process.

Two identical RealNVP 64-d models (8 couplings, 2x256, batch 256, the tabular workload of
`profile_tfflow.py`), one compiled with `jit_compile=True` and one with `False`, train on the
same batch through Keras' compiled `model.train_function` on an endless dataset (what `fit`
runs per batch, without `train_on_batch`'s per-call data adapter) in alternating windows
(rotated order each round), so both see the same machine load. Prints examples/s per setting
and the median of the per-round ratios XLA / no XLA, with the CPU model.

    .venv/bin/python benchmarks/xla_vector_fit.py [--rounds 10] [--window-s 1.0]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time

import numpy as np


def _cpu_model() -> str:
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    return next(
        (line.split(":", 1)[1].strip() for line in out.splitlines() if "Model name" in line), "?"
    )


def _sync(out) -> float:
    """Waits for a train step: reads its loss (a dict of metrics, or an Optional of one)."""
    logs = out.get_value() if hasattr(out, "get_value") else out
    return float(logs["loss"])


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
        steps["xla" if jit else "graph"] = model.train_function
    calls = {}
    for name, step in steps.items():
        for _ in range(3):  # trace / compile, warm up
            step(iterator)
        start = time.perf_counter()
        _sync(step(iterator))
        calls[name] = max(1, round(args.window_s / (time.perf_counter() - start)))
    times: dict[str, list[float]] = {name: [] for name in steps}
    names = list(steps)
    for r in range(args.rounds):
        for name in names[r % 2 :] + names[: r % 2]:
            start = time.perf_counter()
            for _ in range(calls[name]):
                out = steps[name](iterator)
            _sync(out)
            times[name].append((time.perf_counter() - start) / calls[name])
    print(f"CPU: {_cpu_model()}; TensorFlow {tf.__version__}; {args.rounds} rounds")
    for name, values in times.items():
        print(f"{name}: {args.batch / statistics.median(values):,.0f} examples/s")
    ratio = statistics.median(g / x for g, x in zip(times["graph"], times["xla"], strict=True))
    print(f"XLA speed / no-XLA speed (median of per-round ratios): {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
