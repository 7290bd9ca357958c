"""Where tfflow's time goes: graph op counts and in-process A/B timings against the bound.

Usage (from the repository root):

    .venv/bin/python benchmarks/profile_tfflow.py [--workloads tabular glow28] [--rounds 15]

For each workload it prints

1. op counts of the traced `tf.function` graphs (before Grappler) of tfflow's `log_prob`,
   `sample` and training step, the conditioner stack (lower bound) and TFP's flow: convolutions
   and matmuls show how often each conditioner network runs (TFP evaluates them twice per
   `log_prob`, once for `inverse` and once for `inverse_log_det_jacobian`); and the kernels
   left after Grappler (constant folding, pruning, fusion), what actually runs per call;
2. interleaved timings in one process (so every function sees the same machine load): each
   round times every function once for about `--window-s` seconds, rotating the order; the
   median over rounds of the per-round ratio tfflow / lower bound (and tfflow / TFP, same
   metric) is robust to other processes on the machine, unlike ratios of separate processes.
   `--clock cpu` times the process's CPU seconds instead of wall seconds: steadier on a busy
   machine (time spent waiting for a core is not counted), best with `--threads 1` (idle pool
   threads spinning add CPU time).
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


def _functions(spec, tf, tfflow_case, tfp_case, lower_bound_case):
    work = spec["workload"]
    batch = int(work["batch"])
    x = tf.constant(speed_inputs(spec))
    model = tfflow_case.build_model(work)
    if model.needs_initialization():
        model.initialize(x)
    stack = lower_bound_case.ConditionerStack(work)
    tfp_flow = tfp_case.build_flow(work)
    tfp_flow.log_prob(x)
    fns = {
        "tfflow train": adam_train_step(
            lambda d: -tf.reduce_mean(model.log_prob(d)), model.trainable_variables, 1e-4, False
        ),
        "bound train": adam_train_step(stack, stack.variables, 1e-4, False),
        "TFP train": adam_train_step(
            lambda d: -tf.reduce_mean(tfp_flow.log_prob(d)), tfp_flow.variables, 1e-4, False
        ),
        "tfflow log_prob": tf.function(model.log_prob),
        "tfflow sample": tf.function(lambda _: model.sample(batch)),
        "tfflow decode": tf.function(model.decode),
        "bound forward": tf.function(stack),
        "TFP log_prob": tf.function(tfp_flow.log_prob),
        "TFP sample": tf.function(lambda _: tfp_flow.sample(batch)),
    }
    z = tf.random.normal([batch, model.event_size])
    args = {name: (z if name == "tfflow decode" else x) for name in fns}
    return fns, args


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", nargs="+", default=["tabular", "glow28", "glow32"])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--window-s", type=float, default=0.3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    args = parser.parse_args(argv)
    set_tf_threads(args.threads)
    import lower_bound_case
    import tensorflow as tf
    import tfflow_case
    import tfp_case

    for name in args.workloads:
        spec = {"workload": workload(name)}
        fns, fn_args = _functions(spec, tf, tfflow_case, tfp_case, lower_bound_case)
        header = " | ".join(HEAVY_OPS)
        print(f"\n## {name}\n\n| function | ops | {header} | kernels after Grappler |")
        print("|---|--:|" + "--:|" * len(HEAVY_OPS) + "--:|")
        for label, fn in fns.items():
            counts = count_ops(fn, fn_args[label])
            heavy = " | ".join(str(counts.get(op, 0)) for op in HEAVY_OPS)
            kernels = sum(count_kernels(fn, fn_args[label]).values())
            print(f"| {label} | {sum(counts.values())} | {heavy} | {kernels} |")
        calls = {label: (lambda f=fn, a=fn_args[label]: f(a)) for label, fn in fns.items()}
        clock = time.process_time if args.clock == "cpu" else time.perf_counter
        times = interleaved(calls, args.rounds, args.window_s, clock)
        batch = spec["workload"]["batch"]
        print(f"\n| function | median {args.clock} ms/call | examples/s | / bound | x TFP |")
        print("|---|--:|--:|--:|--:|")
        for label, values in times.items():
            kind = "train" if "train" in label else "forward"
            bound = times["bound train" if kind == "train" else "bound forward"]
            # Medians of per-round ratios: the bound's (TFP's) time over this function's.
            ratio = statistics.median(b / v for b, v in zip(bound, values, strict=True))
            tfp = times.get(label.replace("tfflow", "TFP")) if label.startswith("tfflow") else None
            vs_tfp = ""
            if tfp:
                vs_tfp = f"{statistics.median(t / v for t, v in zip(tfp, values, strict=True)):.2f}"
            med = statistics.median(values)
            print(f"| {label} | {1e3 * med:.2f} | {batch / med:,.0f} | {ratio:.2f} | {vs_tfp} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
