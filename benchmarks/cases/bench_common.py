"""Shared by every benchmark case: workloads, the timing loop, data and the result protocol.

This module imports neither TensorFlow nor PyTorch, so the TF cases (main virtualenv) and the
torch cases (`benchmarks/.venv-torch`) both use it. A case process reads one JSON spec from
its command line, runs, and prints one line `BENCHMARK_RESULT {json}` that `run.py` parses.
"""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = [
    "QUALITY_DEFAULTS",
    "RESULT_PREFIX",
    "WORKLOADS",
    "bits_per_dim",
    "case_main",
    "cpu_model",
    "glow_pixels",
    "lower_bound_shapes",
    "make_tabular_data",
    "measure",
    "peak_rss_mib",
    "quality_loop",
    "speed_inputs",
    "tabular_data",
    "workload",
]

RESULT_PREFIX = "BENCHMARK_RESULT "


def cpu_model() -> str:
    """`lscpu`'s model name (else the platform's processor string, else "unknown"): recorded
    with every result, since the machines this project runs on differ from day to day."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        out = ""
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


# The three workloads of issue 6. `batch` is the batch of training, log_prob and sampling.
WORKLOADS: dict[str, dict[str, Any]] = {
    "tabular": {
        "model": "realnvp",
        "dims": 64,
        "coupling_layers": 8,
        "hidden_units": 256,
        "hidden_layers": 2,
        "batch": 256,
    },
    "glow28": {
        "model": "glow",
        "shape": [28, 28, 1],
        "levels": 2,
        "steps_per_level": 8,
        "hidden_channels": 128,
        "batch": 64,
    },
    "glow32": {
        "model": "glow",
        "shape": [32, 32, 3],
        "levels": 3,
        "steps_per_level": 8,
        "hidden_channels": 256,
        "batch": 32,
    },
}

QUALITY_DEFAULTS: dict[str, Any] = {
    "budget_s": 15.0,
    "batch": 256,
    "learning_rate": 1e-3,
    "eval_every": 25,
    "seed": 0,
}


def workload(name: str, **overrides: Any) -> dict[str, Any]:
    """A copy of workload `name` with `overrides` applied (e.g. `steps_per_level=16`)."""
    if name not in WORKLOADS:
        raise ValueError(f"`workload` must be one of {sorted(WORKLOADS)}; received {name!r}.")
    spec = dict(WORKLOADS[name])
    spec.update(overrides)
    spec["name"] = name
    return spec


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure(
    fn: Callable[[], Any],
    examples_per_call: int,
    *,
    windows: int,
    window_s: float,
    warmup_s: float,
    sync: Callable[[Any], Any] = lambda out: out,
) -> dict[str, Any]:
    """Times `fn` over `windows` windows after an untimed warm-up.

    The first call (tracing, XLA compilation) is timed on its own as `first_call_s`; warm-up
    calls follow until `warmup_s` has passed (at least two; one if it is 0), and their mean sets
    the calls per window so a window lasts about `window_s` (at least one call).

    Args:
        fn: one step (a training step, a `log_prob` batch, a sampling batch).
        examples_per_call: examples processed by one call.
        windows: number of timed windows.
        window_s: target duration of one window, seconds.
        warmup_s: minimum warm-up duration after the first call, seconds.
        sync: called on the last output of a window before the clock stops (forces pending
            work to finish, e.g. `.numpy()`).

    Returns:
        `{"first_call_s", "warmup_calls", "calls_per_window", "rates"}`, rates in examples/s.
    """
    start = time.perf_counter()
    sync(fn())
    first = time.perf_counter() - start
    calls, start = 0, time.perf_counter()
    out = None
    while calls < (2 if warmup_s > 0 else 1) or time.perf_counter() - start < warmup_s:
        out = fn()
        calls += 1
    sync(out)
    per_call = (time.perf_counter() - start) / calls
    per_window = max(1, int(round(window_s / per_call)))
    rates, cpu_start, wall = [], _cpu_seconds(), 0.0
    for _ in range(windows):
        start = time.perf_counter()
        for _ in range(per_window):
            out = fn()
        sync(out)
        elapsed = time.perf_counter() - start
        wall += elapsed
        rates.append(per_window * examples_per_call / elapsed)
    return {
        "first_call_s": first,
        "warmup_calls": calls,
        "calls_per_window": per_window,
        "rates": rates,
        # CPU seconds per wall second over the timed windows (at most `threads`): lower values
        # mean the process waited for cores that other processes held.
        "cpu_per_wall": (_cpu_seconds() - cpu_start) / wall,
        "loadavg": os.getloadavg()[0],
    }


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def tabular_data(spec: dict[str, Any]) -> dict[str, np.ndarray]:
    """The digits arrays shared by all frameworks (written by `run.py`, or made here).

    Returns `train`, `val`, `test` (float32 pixel levels on the 8-bit scale, `(N, 64)`), fixed
    dequantization noise `val_noise`/`test_noise`, and `speed_batch`: 256 dequantized training
    rows scaled to `[-0.5, 0.5)`, the input of the tabular speed cases.
    """
    path = spec.get("data_path")
    if path:
        with np.load(path) as data:
            return {k: data[k] for k in data.files}
    return make_tabular_data()


def make_tabular_data(num_val: int = 200, seed: int = 0) -> dict[str, np.ndarray]:
    """Builds the `tabular_data` arrays from `tfflow.data` (main virtualenv only)."""
    from tfflow.data import load_arrays

    arrays = load_arrays("digits_flat")
    train = np.asarray(arrays.train, np.float32)
    rng = np.random.default_rng(seed)
    val, train = train[-num_val:], train[:-num_val]
    test = np.asarray(arrays.test, np.float32)
    noise = rng.random((256, train.shape[1]), dtype=np.float32)
    return {
        "train": train,
        "val": val,
        "test": test,
        "val_noise": rng.random(val.shape, dtype=np.float32),
        "test_noise": rng.random(test.shape, dtype=np.float32),
        "speed_batch": (train[:256] + noise) / 256.0 - 0.5,
    }


def speed_inputs(spec: dict[str, Any]) -> np.ndarray:
    """The fixed input batch of a speed case: digits rows (tabular) or pixels (Glow)."""
    work = spec["workload"]
    if work["model"] == "realnvp":
        rows = tabular_data(spec)["speed_batch"]
        reps = -(-int(work["batch"]) // rows.shape[0])
        return np.tile(rows, (reps, 1))[: int(work["batch"]), : int(work["dims"])]
    return glow_pixels(work)


def glow_pixels(spec: dict[str, Any], seed: int = 0) -> np.ndarray:
    """A fixed batch of uniform pixel values in `[0, 256)`, NHWC float32 (cost is data-blind)."""
    shape = [spec["batch"]] + list(spec["shape"])
    return np.random.default_rng(seed).uniform(0.0, 256.0, shape).astype(np.float32)


def bits_per_dim(log_prob_scaled: np.ndarray, dims: int) -> float:
    """Bits/dim on the 8-bit scale from `log p(y)` of `y = x / 256 - 0.5` (nats/example)."""
    value = float(np.mean(log_prob_scaled))
    if not math.isfinite(value):
        return math.inf
    return -value / (dims * math.log(2.0)) + 8.0


def _batches(train: np.ndarray, batch: int, seed: int) -> Iterator[np.ndarray]:
    """Endless shuffled, uniformly dequantized batches scaled to `[-0.5, 0.5)`."""
    rng = np.random.default_rng(seed)
    n = train.shape[0]
    while True:
        order = rng.permutation(n)
        for i in range(0, n - batch + 1, batch):
            rows = train[order[i : i + batch]]
            noise = rng.random(rows.shape, dtype=np.float32)
            yield (rows + noise) / 256.0 - 0.5


def quality_loop(
    spec: dict[str, Any],
    train_step: Callable[[np.ndarray], Any],
    log_prob: Callable[[np.ndarray], np.ndarray],
) -> dict[str, Any]:
    """Trains for a wall-clock budget and reports test bits/dim at the best validation point.

    Every framework sees the same batches (numpy, seeded) and the same fixed-noise validation
    and test sets. The first (tracing/compiling) step is excluded from the budget; so is
    evaluation, every `eval_every` steps.

    Args:
        spec: the case spec (`quality` options and `data_path`).
        train_step: one Adam step on a batch of scaled data (numpy in, the loss out).
        log_prob: `log p(y)` per example (numpy in, numpy out) of scaled data.
    """
    options = dict(QUALITY_DEFAULTS)
    options.update(spec.get("quality", {}))
    data = tabular_data(spec)
    dims = data["train"].shape[1]
    val = (data["val"] + data["val_noise"]) / 256.0 - 0.5
    test = (data["test"] + data["test_noise"]) / 256.0 - 0.5
    batches = _batches(data["train"], int(options["batch"]), int(options["seed"]))

    def evaluate() -> tuple[float, float]:
        return bits_per_dim(log_prob(val), dims), bits_per_dim(log_prob(test), dims)

    start = time.perf_counter()
    train_step(next(batches))
    first_step_s = time.perf_counter() - start
    steps, train_s = 1, 0.0
    best = {"val_bpd": math.inf, "test_bpd": math.inf, "step": 0, "train_s": 0.0}
    curve = []
    while not curve or train_s < options["budget_s"]:
        start = time.perf_counter()
        for _ in range(int(options["eval_every"])):
            loss = train_step(next(batches))
        np.asarray(loss)  # forces pending work to finish before the clock stops
        train_s += time.perf_counter() - start
        val_bpd, test_bpd = evaluate()
        steps += int(options["eval_every"])
        curve.append([steps, round(train_s, 3), val_bpd, test_bpd])
        if val_bpd < best["val_bpd"]:
            best = {"val_bpd": val_bpd, "test_bpd": test_bpd, "step": steps, "train_s": train_s}
    final_val, final_test = evaluate()
    return {
        "budget_s": options["budget_s"],
        "steps": steps,
        "epochs": steps * int(options["batch"]) / data["train"].shape[0],
        "first_step_s": first_step_s,
        "train_s": train_s,
        "best": best,
        "final_val_bpd": final_val,
        "final_test_bpd": final_test,
        "curve": curve,
    }


def lower_bound_shapes(spec: dict[str, Any]) -> list[tuple[str, tuple[int, ...], int]]:
    """The conditioner networks of a tfflow model: `(kind, input_shape, output_size)` each.

    Mirrors `tfflow.RealNVP` (tabular: `coupling_layers` MLPs on half the features) and
    `tfflow.Glow` (per level: `steps_per_level` Glow blocks on half the squeezed channels and,
    except at the last level, the split's zero-initialised 3x3 prior convolution).
    """
    if spec["model"] == "realnvp":
        d = int(spec["dims"])
        return [("mlp", (d // 2,), 2 * (d - d // 2))] * int(spec["coupling_layers"])
    h, w, c = spec["shape"]
    nets = []
    for level in range(int(spec["levels"])):
        h, w, c = h // 2, w // 2, 4 * c
        cond, transformed = c // 2, c - c // 2
        nets += [("glow_block", (h, w, cond), 2 * transformed)] * int(spec["steps_per_level"])
        if level < int(spec["levels"]) - 1:
            kept, out = c - c // 2, c // 2
            nets.append(("prior_conv", (h, w, kept), 2 * out))
            c = kept
    return nets


def case_main(run: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Entry point of a case script: `python case.py '<json spec>'` -> one result line."""
    spec = json.loads(sys.argv[1])
    started = time.time()
    try:
        result = run(spec)
        result["status"] = "ok"
    except Exception as error:  # a failed case is reported in the table, not fatal
        import traceback

        traceback.print_exc()
        result = {"status": "error", "error": f"{type(error).__name__}: {error}"[:500]}
    result.update(
        {
            "spec": spec,
            "peak_rss_mib": peak_rss_mib(),
            "wall_s": time.time() - started,
            "pid": os.getpid(),
        }
    )
    sys.stdout.flush()
    print(RESULT_PREFIX + json.dumps(result, default=float), flush=True)
