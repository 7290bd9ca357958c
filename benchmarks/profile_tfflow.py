"""Where tfflow's time goes: graph op counts and in-process A/B timings against the bound.

Usage (from the repository root):

    .venv/bin/python benchmarks/profile_tfflow.py [--workloads tabular glow28] [--rounds 15]
        [--modes graph xla] [--baseline main] [--bf16] [--no-counts]

For each workload it prints

1. op counts of the traced `tf.function` graphs (before Grappler) of tfflow's `log_prob`,
   `sample` and training step, the conditioner stack (lower bound) and TFP's flow: convolutions
   and matmuls show how often each conditioner network runs (TFP evaluates them twice per
   `log_prob`, once for `inverse` and once for `inverse_log_det_jacobian`); and the kernels
   left after Grappler (constant folding, pruning, fusion), what actually runs per call
   (graph mode only);
2. interleaved timings in one process (so every function sees the same machine load): each
   round times every function once for about `--window-s` seconds, rotating the order. Every
   function runs in each of `--modes`: `graph` (`tf.function`) and `xla`
   (`jit_compile=True`), for tfflow, TFP and the bound alike, and optionally `eager` (the
   method called directly, as a user does: `model.log_prob(x)`); `--baseline REV` adds tfflow as
   of git revision REV (imported side by side, `cases/baseline_package.py`), `--bf16` the
   tfflow model built under the `mixed_bfloat16` policy;
3. a summary per metric: each implementation in its fastest mode, with the median over rounds
   of the per-round ratios against the bound's fastest mode (`/ bound`: the bound's time
   over this one's, 1.00 = at the bound; with the lowest and highest single round beside
   it) and against TFP's fastest mode (`x TFP best`).
   Ratios of same-round times are robust to other processes on the machine, unlike ratios
   of separate processes.

`--clock cpu` times the process's CPU seconds instead of wall seconds: steadier on a busy
machine (time spent waiting for a core is not counted), best with `--threads 1` (idle pool
threads spinning add CPU time).

Threads: `--threads` intra-op threads (2) and `--inter-threads` inter-op threads (1, as in the
cross-framework cases; 0 gives TensorFlow's default pools, what a user's process has). With
one inter-op thread a graph runs its independent small ops one after another, which makes
graph-mode training of small models (tabular) about 1.3x slower than with the default pools,
while XLA programs are unaffected; tables of what users get use `--inter-threads 0`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases"))

from bench_common import speed_inputs, workload  # noqa: E402
from bench_tf import adam_train_step, set_tf_threads  # noqa: E402

__all__ = ["count_kernels", "count_ops", "interleaved", "main"]

HEAVY_OPS = ("Conv2D", "MatMul", "BatchMatMulV2", "MatrixInverse", "Conv2DBackpropInput")


def count_ops(fn, *args) -> Counter:
    """Op types in the traced graph of `fn(*args)` (nested function bodies included)."""
    graph = fn.get_concrete_function(*args).graph
    counts = Counter(op.type for op in graph.get_operations())
    for function in graph._functions.values():  # noqa: SLF001 - while/cond bodies
        for node in function.definition.node_def:
            counts[node.op] += 1
    return counts


def count_kernels(fn, *args) -> Counter:
    """Op types of `fn`'s graphs after Grappler, from the run metadata of its first call.

    Arguments, return values and constants are left out: the rest run on every call.
    """
    from tensorflow.python.eager import context

    context.enable_run_metadata()
    try:
        fn(*args)
        metadata = context.export_run_metadata()
    finally:
        context.disable_run_metadata()
    counts = Counter()
    for function in metadata.function_graphs:
        graph = function.post_optimization_graph
        nodes = [*graph.node, *(n for f in graph.library.function for n in f.node_def)]
        counts.update(n.op for n in nodes if n.op not in ("_Arg", "_Retval", "Const", "NoOp"))
    return counts


def interleaved(
    fns: dict, rounds: int, window_s: float, clock=time.perf_counter
) -> dict[str, list[float]]:
    """Seconds per call of each function, one window per function per round (rotated);
    `clock` is `time.perf_counter` (wall) or `time.process_time` (CPU)."""
    names = list(fns)
    for fn in fns.values():  # trace / compile and warm up
        fn()
        fn()
    calls = {}
    for name, fn in fns.items():
        start = time.perf_counter()
        fn().numpy()
        calls[name] = max(1, round(window_s / (time.perf_counter() - start)))
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = clock()
            for _ in range(calls[name]):
                out = fns[name]()
            out.numpy()
            times[name].append((clock() - start) / calls[name])
    return times


def _model_functions(prefix, model, x, batch, tf, modes) -> dict:
    """`train`, `log_prob` and `sample` of a tfflow(-like) model in each compile mode."""
    fns = {}
    for mode in modes:
        if mode == "eager":  # what a user calling the method gets (training runs in fit)
            fns[f"{prefix} log_prob eager"] = model.log_prob
            fns[f"{prefix} sample eager"] = lambda _: model.sample(batch)
            continue
        jit = mode == "xla"
        fns[f"{prefix} train {mode}"] = adam_train_step(
            lambda d: -tf.reduce_mean(model.log_prob(d)), model.trainable_variables, 1e-4, jit
        )
        # One argument, like TFP's and the bound's functions: a tf.function of the method
        # itself would bind its optional arguments on every call (about 0.15 ms).
        fns[f"{prefix} log_prob {mode}"] = tf.function(lambda d: model.log_prob(d), jit_compile=jit)
        fns[f"{prefix} sample {mode}"] = tf.function(lambda _: model.sample(batch), jit_compile=jit)
    return fns


def _functions(spec, tf, cases, modes, baseline=None, bf16=False):
    tfflow_case, tfp_case, lower_bound_case = cases
    work = spec["workload"]
    batch = int(work["batch"])
    x = tf.constant(speed_inputs(spec))
    model = tfflow_case.build_model(work)
    if model.needs_initialization():
        model.initialize(x)
    fns = _model_functions("tfflow", model, x, batch, tf, modes)
    if bf16:
        import keras

        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        try:
            half = tfflow_case.build_model(work)
        finally:
            keras.mixed_precision.set_global_policy("float32")
        if half.needs_initialization():
            half.initialize(x)
        fns.update(_model_functions("tfflow-bf16", half, x, batch, tf, ["graph"]))
    if baseline is not None:
        old = _baseline_model(baseline, work)
        if old.needs_initialization():
            old.initialize(x)
        fns.update(_model_functions("baseline", old, x, batch, tf, modes))
    stack = lower_bound_case.ConditionerStack(work)
    tfp_flow = tfp_case.build_flow(work)
    tfp_flow.log_prob(x)
    for mode in modes:
        if mode == "eager":
            fns["bound forward eager"] = stack
            fns["TFP log_prob eager"] = tfp_flow.log_prob
            fns["TFP sample eager"] = lambda _: tfp_flow.sample(batch)
            continue
        jit = mode == "xla"
        fns[f"bound train {mode}"] = adam_train_step(stack, stack.train_variables, 1e-4, jit)
        fns[f"bound forward {mode}"] = tf.function(stack, jit_compile=jit)
        fns[f"TFP train {mode}"] = adam_train_step(
            lambda d: -tf.reduce_mean(tfp_flow.log_prob(d)), tfp_flow.variables, 1e-4, jit
        )
        fns[f"TFP log_prob {mode}"] = tf.function(tfp_flow.log_prob, jit_compile=jit)
        fns[f"TFP sample {mode}"] = tf.function(lambda _: tfp_flow.sample(batch), jit_compile=jit)
    return fns, x


def _baseline_model(package, work):
    """The workload's model built from the baseline package (same arguments as tfflow_case)."""
    if work["model"] == "realnvp":
        return package.RealNVP(
            (int(work["dims"]),),
            coupling_layers=int(work["coupling_layers"]),
            hidden_units=int(work["hidden_units"]),
            hidden_layers=int(work["hidden_layers"]),
        )
    return package.Glow(
        tuple(work["shape"]),
        levels=int(work["levels"]),
        steps_per_level=int(work["steps_per_level"]),
        hidden_channels=int(work["hidden_channels"]),
    )


def _metric(label: str) -> str:
    return "train" if " train " in label else "forward"


def _best(times: dict, prefix: str, metric: str) -> tuple[str, list[float]] | None:
    """The label and times of `prefix`'s fastest compile mode (lowest median) on `metric`."""
    labels = [k for k in times if k.startswith(f"{prefix} {metric} ")]
    if not labels:
        return None
    label = min(labels, key=lambda k: statistics.median(times[k]))
    return label, times[label]


def _round_ratios(numerator: list[float], denominator: list[float]) -> list[float]:
    """`numerator / denominator` of each round (same-round times)."""
    return [n / d for n, d in zip(numerator, denominator, strict=True)]


def _ratio(numerator: list[float], denominator: list[float]) -> float:
    """Median over rounds of `numerator / denominator`."""
    return statistics.median(_round_ratios(numerator, denominator))


def _ratio_range(numerator: list[float], denominator: list[float]) -> str:
    """`"min-max"` over rounds of `numerator / denominator`: how far single rounds stray."""
    ratios = _round_ratios(numerator, denominator)
    return f"{min(ratios):.2f}-{max(ratios):.2f}"


def summary(times: dict, batch: int) -> list[str]:
    """Markdown rows: per metric, the best mode of each implementation and the ratios
    `speed / bound` (bound time over its time) and `x TFP` (TFP's best mode's time over its)."""
    rows = [
        "| metric | implementation (best mode) | examples/s | / bound | range | x TFP best |",
        "|---|---|--:|--:|--:|--:|",
    ]
    for metric in ("train", "log_prob", "sample"):
        bound = _best(times, "bound", "train" if metric == "train" else "forward")
        tfp = _best(times, "TFP", metric)
        for prefix in ("tfflow", "tfflow-bf16", "baseline", "TFP", "bound"):
            best = _best(
                times, prefix, metric if prefix != "bound" or metric == "train" else "forward"
            )
            if best is None or (prefix == "bound" and metric == "sample"):
                continue
            label, values = best
            speed = batch / statistics.median(values)
            vs_bound = _ratio(bound[1], values) if bound else float("nan")
            spread = _ratio_range(bound[1], values) if bound else ""
            vs_tfp = _ratio(tfp[1], values) if tfp else float("nan")
            rows.append(
                f"| {metric} | {label} | {speed:,.0f} | {vs_bound:.2f} | {spread} | {vs_tfp:.2f} |"
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", nargs="+", default=["tabular", "glow28", "glow32"])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--window-s", type=float, default=0.3)
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads")
    parser.add_argument(
        "--inter-threads",
        type=int,
        default=1,
        help="inter-op threads (0: TensorFlow's default, as a user gets it; one thread runs a "
        "graph's independent small ops one after another, which slows graph-mode training of "
        "small models)",
    )
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument(
        "--modes",
        nargs="+",
        choices=("graph", "xla", "eager"),
        default=["graph", "xla"],
        help="compile modes of every function: graph (tf.function), xla (jit_compile=True) "
        "and eager (the method called directly, as a user does; no training step)",
    )
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also time tfflow as of this git revision (e.g. main), in the same process",
    )
    parser.add_argument("--no-counts", action="store_true", help="skip the op/kernel counts")
    parser.add_argument(
        "--implementations",
        nargs="+",
        default=["tfflow", "tfflow-bf16", "baseline", "TFP", "bound"],
        help="time only these (the bound is always timed: every ratio is against it)",
    )
    parser.add_argument(
        "--bf16",
        action="store_true",
        help="also time the tfflow model built under the mixed_bfloat16 policy (graph mode)",
    )
    args = parser.parse_args(argv)
    set_tf_threads(args.threads, args.inter_threads)
    import lower_bound_case
    import tensorflow as tf
    import tfflow_case
    import tfp_case

    baseline = None
    if args.baseline:
        from baseline_package import import_baseline

        baseline = import_baseline(args.baseline)
    cases = (tfflow_case, tfp_case, lower_bound_case)
    for name in args.workloads:
        spec = {"workload": workload(name)}
        fns, x = _functions(spec, tf, cases, args.modes, baseline, args.bf16)
        keep = set(args.implementations) | {"bound"}
        fns = {label: fn for label, fn in fns.items() if label.split(" ", 1)[0] in keep}
        batch = spec["workload"]["batch"]
        print(f"\n## {name}")
        if not args.no_counts:
            header = " | ".join(HEAVY_OPS)
            print(f"\n| function | ops | {header} | kernels after Grappler |")
            print("|---|--:|" + "--:|" * len(HEAVY_OPS) + "--:|")
            for label, fn in fns.items():
                if label.endswith((" xla", " eager")):
                    continue
                counts = count_ops(fn, x)
                heavy = " | ".join(str(counts.get(op, 0)) for op in HEAVY_OPS)
                kernels = sum(count_kernels(fn, x).values())
                print(f"| {label} | {sum(counts.values())} | {heavy} | {kernels} |")
        calls = {label: (lambda f=fn, a=x: f(a)) for label, fn in fns.items()}
        clock = time.process_time if args.clock == "cpu" else time.perf_counter
        times = interleaved(calls, args.rounds, args.window_s, clock)
        print(f"\n| function | median {args.clock} ms/call | examples/s | / bound (same mode) |")
        print("|---|--:|--:|--:|")
        for label, values in times.items():
            mode = label.rsplit(" ", 1)[1]
            bound = times[f"bound {_metric(label)} {mode}"]
            med = statistics.median(values)
            ratio = _ratio(bound, values)
            print(f"| {label} | {1e3 * med:.2f} | {batch / med:,.0f} | {ratio:.2f} |")
        print(f"\nBest mode of each ({args.rounds} rounds, medians of per-round ratios):\n")
        print("\n".join(summary(times, batch)))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
