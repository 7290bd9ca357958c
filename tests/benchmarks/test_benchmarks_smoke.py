"""Smoke test of the benchmark harness: every case runs a step at toy sizes (no timing checks)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCHMARKS = os.path.join(ROOT, "benchmarks")
CASES = os.path.join(BENCHMARKS, "cases")
for path in (BENCHMARKS, CASES):
    if path not in sys.path:
        sys.path.insert(0, path)

import bench_common  # noqa: E402

TORCH_PYTHON = os.path.join(BENCHMARKS, ".venv-torch", "bin", "python")

TINY = {
    "tabular": {
        "name": "tabular",
        "model": "realnvp",
        "dims": 8,
        "coupling_layers": 2,
        "hidden_units": 8,
        "hidden_layers": 1,
        "batch": 4,
    },
    "glow": {
        "name": "glow28",
        "model": "glow",
        "shape": [8, 8, 1],
        "levels": 2,
        "steps_per_level": 1,
        "hidden_channels": 8,
        "batch": 2,
    },
}
# threads=0 keeps TF's default thread pools in the pytest process.
ONE_STEP = {"windows": 1, "window_s": 0.0, "warmup_s": 0.0, "learning_rate": 1e-4, "threads": 0}


def _spec(case: str, variant: str, work: str, metrics: list[str], **extra) -> dict:
    extra.setdefault("kind", "speed")
    return dict(
        case=case,
        variant=variant,
        workload=dict(TINY[work]),
        metrics=metrics,
        **ONE_STEP,
        **extra,
    )


def _check_speed(result: dict, metrics: list[str]) -> None:
    for metric in metrics:
        rates = result[metric]["rates"]
        assert len(rates) == 1 and all(math.isfinite(r) and r > 0 for r in rates)
    assert result["rss_mib"]["setup"] > 0


@pytest.mark.parametrize(
    "case,variant,metrics,work",
    [
        # The suite's cases (benchmarks/run.py SPEED_CASES); XLA compiles only the toy tabular
        # model, to keep this test fast.
        ("tfflow", "graph", ["train", "log_prob", "sample", "train@fit"], "tabular"),
        ("tfflow", "graph", ["train", "log_prob", "sample", "train@fit"], "glow"),
        ("tfflow", "xla", ["train", "log_prob", "sample"], "tabular"),
        ("tfp", "graph", ["train", "log_prob", "sample", "train@xla"], "tabular"),
        ("tfp", "graph", ["train", "log_prob", "sample"], "glow"),
        ("lower_bound", "graph", ["train", "forward", "train@xla", "forward@xla"], "tabular"),
        ("lower_bound", "graph", ["train", "forward"], "glow"),
    ],
)
def test_tf_case_runs_one_step(case, variant, metrics, work):
    module = __import__(f"{case}_case")
    result = module.run(_spec(case, variant, work, metrics))
    _check_speed(result, metrics)


@pytest.mark.parametrize("case", ["tfflow", "tfp"])
def test_quality_case_reports_bits_per_dim(case, tmp_path):
    data = tmp_path / "digits.npz"
    np.savez(data, **bench_common.make_tabular_data())
    module = __import__(f"{case}_case")
    spec = _spec(case, "graph", "tabular", [], kind="quality", data_path=str(data))
    spec["workload"].update(dims=64, batch=64)
    spec["quality"] = {"budget_s": 0.0, "eval_every": 1, "batch": 64}
    result = module.run(spec)
    assert result["steps"] == 2
    assert 0.0 < result["best"]["test_bpd"] < 16.0


def test_lower_bound_has_the_conditioner_parameters_of_the_flow():
    import lower_bound_case
    import tfflow_case

    from tfflow.layers import MLP, GlowBlock, ZeroConv2D

    for work in TINY.values():
        model = tfflow_case.build_model(work)
        conditioners = [
            layer for layer in model.flow_layers if isinstance(layer, MLP | GlowBlock | ZeroConv2D)
        ]
        expected = sum(int(np.prod(v.shape)) for c in conditioners for v in c.trainable_weights)
        stack = lower_bound_case.ConditionerStack(work)
        assert len(stack.nets) == len(conditioners)
        assert sum(int(np.prod(v.shape)) for v in stack.variables) == expected


def test_lower_bound_computes_the_input_gradient_of_every_network_the_flow_does():
    # A Glow flow needs the input gradient of every conditioner convolution, the first
    # network of each level included (ActNorm and the 1x1 convolution come before it).
    import lower_bound_case
    import tensorflow as tf
    import tfflow_case
    from bench_tf import adam_train_step
    from profile_tfflow import count_kernels

    def input_gradients(step, x):
        # After Grappler, which prunes the input gradients nothing reads.
        counts = count_kernels(step, x)
        return sum(n for op, n in counts.items() if "Conv2DBackpropInput" in op)

    work = TINY["glow"]
    x = tf.constant(bench_common.glow_pixels(work))
    model = tfflow_case.build_model(work)
    model.initialize(x)
    flow_step = adam_train_step(
        lambda d: -tf.reduce_mean(model.log_prob(d)), model.trainable_variables, 1e-4, False
    )
    stack = lower_bound_case.ConditionerStack(work)
    bound_step = adam_train_step(stack, stack.train_variables, 1e-4, False)
    convolutions = 3 * 2 * work["steps_per_level"] + 1  # Glow blocks and the split's prior
    assert input_gradients(bound_step, x) == convolutions
    assert input_gradients(flow_step, x) == convolutions


def test_lower_bound_runs_the_levels_in_sequence_as_the_flow_does():
    # Level 2 of a Glow transforms level 1's result: the bound's level-2 networks must wait
    # for level 1's, or inter-op threads run them side by side (faster than any flow can).
    import re

    import lower_bound_case
    import tensorflow as tf

    def in_network(op, name):  # Keras scopes a layer's ops as "name/" or "name_1/"
        return re.match(rf"{name}(_\d+)?/", op.name) is not None

    work = TINY["glow"]
    stack = lower_bound_case.ConditionerStack(work)
    graph = tf.function(stack).get_concrete_function(0).graph
    level_2_start = f"g{work['steps_per_level'] + 1}"  # after level 1's blocks and prior
    level_1_end = f"p{work['steps_per_level']}"
    first = next(
        op for op in graph.get_operations() if op.type == "Conv2D" and in_network(op, level_2_start)
    )
    ancestors, frontier = {}, [first]
    while frontier:
        op = frontier.pop()
        for parent in [t.op for t in op.inputs] + list(op.control_inputs):
            if parent.name not in ancestors:
                ancestors[parent.name] = parent
                frontier.append(parent)
    assert any(in_network(op, level_1_end) for op in ancestors.values())


@pytest.mark.skipif(not os.path.exists(TORCH_PYTHON), reason="benchmarks/.venv-torch is absent")
@pytest.mark.parametrize("work", ["tabular", "glow"])
def test_torch_case_runs_one_step(work, tmp_path):
    data = tmp_path / "digits.npz"
    np.savez(data, **bench_common.make_tabular_data())
    metrics = ["train", "log_prob", "sample"]
    spec = _spec("torch", "eager", work, metrics, data_path=str(data))
    spec["threads"] = 2
    done = subprocess.run(
        [TORCH_PYTHON, os.path.join(CASES, "torch_case.py"), json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = [x for x in done.stdout.splitlines() if x.startswith(bench_common.RESULT_PREFIX)][-1]
    result = json.loads(line[len(bench_common.RESULT_PREFIX) :])
    assert result["status"] == "ok", result.get("error")
    _check_speed(result, metrics)


def test_report_tables_and_ratios_from_fake_results():
    import report
    import run

    settings = dict(run.QUICK, threads=2, depths=[4], quick=True)
    jobs = run.build_jobs(settings)
    ids = [j["id"] for j in jobs]
    assert len(ids) == len(set(ids)) and "glow32/tfflow-xla" in ids and "quality/torch" in ids
    fake = []
    for case, variant, rate in [("tfflow", "graph", 90.0), ("lower_bound", "graph", 100.0)]:
        metric = {"rates": [rate], "first_call_s": 1.0, "cpu_per_wall": 2.0, "loadavg": 1.0}
        fake.append(
            {
                "status": "ok",
                "id": f"glow28/{case}-{variant}",
                "spec": {"kind": "speed", "case": case, "variant": variant,
                         "workload": {"name": "glow28"}, "metrics": ["train"]},
                "train": metric,
                "peak_rss_mib": 100.0,
                "rss_mib": {"setup": 50.0, "train": 100.0},
                "params": 10,
            }
        )  # fmt: skip
    summary = report.summarize(fake)
    row = [r for r in summary["speed"] if r["case"] == "tfflow"][0]
    assert row["vs_lower_bound"] == pytest.approx(0.9)
    text = report.markdown_report(summary, {"settings": settings})
    assert "| glow28 | train | tfflow (tf.function) | 90 |" in text
    assert "| training within 1.15x of the lower bound | glow28 | 0.90 | >= 0.87 | met |" in text
