"""Aggregates case results (medians over windows and processes) and writes the markdown report."""

from __future__ import annotations

import argparse
import json
import math
import pathlib
import statistics
import sys
from collections import defaultdict
from typing import Any

__all__ = ["LABELS", "TARGETS", "markdown_report", "results_markdown", "summarize"]

LABELS = {
    ("tfflow", "graph"): "tfflow (tf.function)",
    ("tfflow", "xla"): "tfflow (XLA)",
    ("tfflow", "fit"): "tfflow (Keras train_function)",
    ("tfp", "graph"): "TFP",
    ("tfp", "xla"): "TFP (XLA)",
    ("torch", "eager"): "torch",
    ("lower_bound", "graph"): "lower bound",
    ("lower_bound", "xla"): "lower bound (XLA)",
}
WORKLOAD_TITLES = {
    "tabular": "tabular RealNVP 64-d, 8 couplings, MLP 2x256, batch 256",
    "glow28": "Glow 28x28x1, L=2, K=8, 128 ch, batch 64",
    "glow32": "Glow 32x32x3, L=3, K=8, 256 ch, batch 32",
}
METRIC_ORDER = ("train", "log_prob", "sample", "forward")
# (description, workloads, metric, numerator, denominator, minimum ratio)
TARGETS = [
    ("training within 1.15x of the lower bound", ("tabular", "glow28", "glow32"), "train",
     ("tfflow", "graph"), ("lower_bound", "graph"), 1 / 1.15),
    ("training >= 1.4x TFP (tabular)", ("tabular",), "train",
     ("tfflow", "graph"), ("tfp", "graph"), 1.4),
    ("training >= 1.7x TFP (Glow)", ("glow28", "glow32"), "train",
     ("tfflow", "graph"), ("tfp", "graph"), 1.7),
    ("training >= 1.3x normflows (Glow)", ("glow28", "glow32"), "train",
     ("tfflow", "graph"), ("torch", "eager"), 1.3),
    ("log_prob within 1.15x of the forward-only bound", ("tabular", "glow28", "glow32"),
     "log_prob", ("tfflow", "graph"), ("lower_bound", "graph"), 1 / 1.15),
    ("sampling within 1.15x of the forward-only bound", ("tabular", "glow28", "glow32"),
     "sample", ("tfflow", "graph"), ("lower_bound", "graph"), 1 / 1.15),
    ("XLA training vs tf.function (informational)", ("tabular", "glow28", "glow32"), "train",
     ("tfflow", "xla"), ("tfflow", "graph"), None),
]  # fmt: skip


def _median(values: list[float]) -> float:
    values = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.median(values) if values else math.nan


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Groups raw process results into speed, depth and quality summaries."""
    speed: dict[tuple, dict[str, Any]] = defaultdict(lambda: defaultdict(list))
    depth: dict[tuple[int, bool], dict[str, Any]] = defaultdict(lambda: defaultdict(list))
    quality: dict[str, list[dict[str, Any]]] = defaultdict(list)
    errors = []
    for result in results:
        spec = result.get("spec", {})
        if result.get("status") != "ok":
            errors.append({"id": result.get("id"), "error": result.get("error", "")})
            continue
        kind = spec["kind"]
        if kind == "quality":
            quality[spec["case"]].append(result)
            continue
        if kind == "depth":
            work = spec["workload"]
            entry = depth[(int(work["steps_per_level"]), bool(work.get("recompute", False)))]
            entry["rates"] += result["train"]["rates"]
            entry["peak_rss_mib"].append(result["peak_rss_mib"])
            entry["setup_rss_mib"].append(result["rss_mib"]["setup"])
            entry["tensor_peak_mib"].append(result.get("tensor_peak_mib"))
            entry["params"].append(result["params"])
            entry["first_call_s"].append(result["train"]["first_call_s"])
            continue
        for measured in spec.get("metrics", []):
            if measured not in result:
                continue
            metric, _, variant = measured.partition("@")
            key = (spec["workload"]["name"], spec["case"], variant or spec["variant"], metric)
            timing = result[measured]
            entry = speed[key]
            entry["rates"] += timing["rates"]
            entry["process_medians"].append(_median(timing["rates"]))
            entry["first_call_s"].append(timing["first_call_s"])
            entry["cpu_per_wall"].append(timing.get("cpu_per_wall"))
            entry["loadavg"].append(timing.get("loadavg"))
            # Peak RSS of the process when this metric finished (metrics run in order).
            entry["peak_rss_mib"].append(result["rss_mib"].get(measured, result["peak_rss_mib"]))
            entry["params"].append(result.get("params"))
            if "implementation" in result:
                entry["implementation"] = [result["implementation"]]
            if "fit_jit_compile" in result:
                entry["fit_jit_compile"] = [result["fit_jit_compile"]]
    rows = []
    for (work, case, variant, metric), entry in speed.items():
        rates = entry["rates"]
        rows.append(
            {
                "workload": work,
                "case": case,
                "variant": variant,
                "metric": metric,
                "label": _label(case, variant, entry),
                "windows": len(rates),
                "processes": len(entry["process_medians"]),
                "min": min(rates),
                "median": _median(rates),
                "max": max(rates),
                "process_medians": entry["process_medians"],
                "peak_rss_mib": _median(entry["peak_rss_mib"]),
                "first_call_s": _median(entry["first_call_s"]),
                "cpu_per_wall": _median(entry["cpu_per_wall"]),
                "loadavg": _median(entry["loadavg"]),
                "params": entry["params"][0],
                "fit_jit_compile": (entry.get("fit_jit_compile") or [None])[0],
            }
        )
    _add_ratios(rows)
    depth_rows = []
    for k in sorted({k for k, _ in depth}):
        row: dict[str, Any] = {"steps_per_level": k}
        for recompute, prefix in ((False, ""), (True, "recompute_")):
            e = depth.get((k, recompute))
            if e is None:
                continue
            row["params"] = e["params"][0]
            row.update(
                {
                    f"{prefix}median": _median(e["rates"]),
                    f"{prefix}peak_rss_mib": _median(e["peak_rss_mib"]),
                    f"{prefix}setup_rss_mib": _median(e["setup_rss_mib"]),
                    f"{prefix}tensor_peak_mib": _median(e["tensor_peak_mib"]),
                    f"{prefix}first_call_s": _median(e["first_call_s"]),
                }
            )
        depth_rows.append(row)
    quality_rows = []
    for case, runs in quality.items():
        quality_rows.append(
            {
                "case": case,
                "label": runs[0].get("implementation", LABELS.get((case, "graph"), case)),
                "runs": len(runs),
                "test_bpd": _median([r["best"]["test_bpd"] for r in runs]),
                "val_bpd": _median([r["best"]["val_bpd"] for r in runs]),
                "best_step": _median([r["best"]["step"] for r in runs]),
                "steps": _median([r["steps"] for r in runs]),
                "epochs": _median([r["epochs"] for r in runs]),
                "final_test_bpd": _median([r["final_test_bpd"] for r in runs]),
                "budget_s": runs[0]["budget_s"],
            }
        )
    return {"speed": rows, "depth": depth_rows, "quality": quality_rows, "errors": errors}


def _label(case: str, variant: str, entry: dict[str, Any]) -> str:
    if case == "torch" and entry.get("implementation"):
        return entry["implementation"][0]
    return LABELS.get((case, variant), f"{case} ({variant})")


def _find(rows, work, case, variant, metric):
    for row in rows:
        if (row["workload"], row["case"], row["variant"], row["metric"]) == (
            work,
            case,
            variant,
            metric,
        ):
            return row
    return None


def _ratio(row, other) -> float:
    if row is None or other is None or not other["median"]:
        return math.nan
    return row["median"] / other["median"]


def _add_ratios(rows: list[dict[str, Any]]) -> None:
    """Ratios of medians to the lower bound (same compile mode), TFP and torch."""
    for row in rows:
        work, metric = row["workload"], row["metric"]
        bound_metric = "train" if metric == "train" else "forward"
        bound_variant = "xla" if row["variant"] == "xla" else "graph"
        bound = _find(rows, work, "lower_bound", bound_variant, bound_metric)
        row["vs_lower_bound"] = _ratio(row, bound)
        row["vs_tfp"] = _ratio(row, _find(rows, work, "tfp", "graph", metric))
        row["vs_torch"] = _ratio(row, _find(rows, work, "torch", "eager", metric))


def _fmt(value: float, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:,.{digits}f}"


def _speed_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| workload | metric | implementation | median ex/s | min | max | / lower bound "
        "| x TFP | x torch | peak RSS MiB | first call s | CPU/wall |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    order = {k: i for i, k in enumerate(LABELS)}
    rows = sorted(
        rows,
        key=lambda r: (
            list(WORKLOAD_TITLES).index(r["workload"]) if r["workload"] in WORKLOAD_TITLES else 9,
            METRIC_ORDER.index(r["metric"]),
            order.get((r["case"], r["variant"]), 99),
        ),
    )
    for r in rows:
        lines.append(
            f"| {r['workload']} | {r['metric']} | {r['label']} | {_fmt(r['median'])} | "
            f"{_fmt(r['min'])} | {_fmt(r['max'])} | {_fmt(r['vs_lower_bound'], 2)} | "
            f"{_fmt(r['vs_tfp'], 2)} | {_fmt(r['vs_torch'], 2)} | {_fmt(r['peak_rss_mib'])} | "
            f"{_fmt(r['first_call_s'], 1)} | {_fmt(r['cpu_per_wall'], 2)} |"
        )
    return lines


def _targets_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| target | workload | measured ratio | required | status |", "|---|---|--:|--:|---|"]
    for text, works, metric, num, den, minimum in TARGETS:
        for work in works:
            top = _find(rows, work, *num, metric)
            bottom_metric = "forward" if den[0] == "lower_bound" and metric != "train" else metric
            bottom = _find(rows, work, *den, bottom_metric)
            ratio = _ratio(top, bottom)
            if minimum is None:
                status = "info"
            elif not math.isfinite(ratio):
                status = "not measured"
            else:
                status = "met" if ratio >= minimum else "MISSED"
            required = "-" if minimum is None else f">= {minimum:.2f}"
            lines.append(f"| {text} | {work} | {_fmt(ratio, 2)} | {required} | {status} |")
    return lines


def _depth_cells(row: dict[str, Any], prefix: str) -> str:
    """`train img/s | peak RSS | peak - setup RSS | tensor peak` of one mode of a depth row."""
    if f"{prefix}median" not in row:
        return "not measured | - | - | -"
    peak, setup = row[f"{prefix}peak_rss_mib"], row[f"{prefix}setup_rss_mib"]
    return (
        f"{_fmt(row[f'{prefix}median'], 1)} | {_fmt(peak)} | {_fmt(peak - setup)} | "
        f"{_fmt(row[f'{prefix}tensor_peak_mib'])}"
    )


def _depth_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| K per level | params | train img/s | peak RSS MiB | peak - setup RSS MiB "
        "| tensor peak MiB | recompute: train img/s | peak RSS MiB | peak - setup RSS MiB "
        "| tensor peak MiB |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['steps_per_level']} | {_fmt(r.get('params'))} | {_depth_cells(r, '')} | "
            f"{_depth_cells(r, 'recompute_')} |"
        )
    return lines


def _bpd(value: float) -> str:
    """Bits/dim, or "diverged" for non-finite or absurd values (an exploded model)."""
    if value is None or not math.isfinite(value) or value > 64:
        return "diverged"
    return f"{value:.3f}"


def _quality_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| implementation | runs | steps in budget | epochs | test bits/dim (best val) "
        "| val bits/dim | best at step | final test bits/dim |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {r['runs']} | {_fmt(r['steps'])} | {_fmt(r['epochs'], 1)} | "
            f"{_bpd(r['test_bpd'])} | {_bpd(r['val_bpd'])} | {_fmt(r['best_step'])} | "
            f"{_bpd(r['final_test_bpd'])} |"
        )
    return lines


def markdown_report(summary: dict[str, Any], meta: dict[str, Any]) -> str:
    """The tables printed by `run.py` (and pasted into RESULTS.md)."""
    s = meta.get("settings", {})
    out = [
        f"## Throughput (examples/s; median over {s.get('windows')} windows x "
        f"{s.get('processes')} processes per case)",
        "",
        "Ratios are of medians measured in this run. `/ lower bound`: against the conditioner "
        "networks alone in the same compile mode (training: fwd + bwd + Adam; log_prob and "
        "sample: forward only). `x TFP`, `x torch`: against TFP (tf.function) and the torch "
        "peer (zuko tabular, normflows Glow) on the same metric. CPU/wall: CPU seconds per "
        "second over the timed windows (2.0 = both cores busy; lower = waiting for cores "
        "held by other processes).",
        "",
        *_speed_table(summary["speed"]),
        "",
        "## Targets",
        "",
        *_targets_table(summary["speed"]),
    ]
    fit = [
        r for r in summary["speed"] if r["variant"] == "fit" and r["fit_jit_compile"] is not None
    ]
    if fit:
        resolved = ", ".join(f"{r['workload']} `{r['fit_jit_compile']}`" for r in fit)
        out += [
            "",
            f"`compile()`'s default `jit_compile` (the Keras train_function rows) in this run: "
            f"{resolved}.",
        ]
    if summary["depth"]:
        out += [
            "",
            "## Memory with depth (tfflow Glow 28x28x1, L=2, 128 ch, batch 64, training)",
            "",
            "One process per cell. Peak RSS: the process's; setup: after building the model. "
            "Tensor peak: TensorFlow's CPU allocator (activations, gradients, temporaries). "
            "`recompute`: `Glow(..., recompute=True)`.",
            "",
            *_depth_table(summary["depth"]),
        ]
    if summary["quality"]:
        budget = summary["quality"][0]["budget_s"]
        out += [
            "",
            f"## Quality: digits 8x8 (64-d RealNVP, 8 couplings, 2x256), {budget:g} s of "
            "training each",
            "",
            *_quality_table(summary["quality"]),
        ]
    if summary["errors"]:
        out += ["", "## Errors", ""]
        out += [f"- `{e['id']}`: {e['error'][:300]}" for e in summary["errors"]]
    skipped = meta.get("skipped")
    if skipped:
        out += ["", f"Skipped ({meta.get('torch')}): {', '.join(skipped)}"]
    return "\n".join(out) + "\n"


def _versions(raw: list[dict[str, Any]]) -> dict[str, str]:
    versions: dict[str, str] = {}
    for result in raw:
        versions.update(result.get("versions", {}))
    return versions


# RESULTS.md holds hand-written sections around the generated one; `--results-md` rewrites
# only the text between these markers.
BEGIN_MARKER = "<!-- report.py:begin (generated from benchmarks/results.json) -->"
END_MARKER = "<!-- report.py:end -->"
_TITLE = "# tfflow benchmark results"


def results_markdown(data: dict[str, Any]) -> str:
    """RESULTS.md's generated section: machine, versions, command and settings, then the
    report's tables."""
    meta, summary = data["meta"], data["summary"]
    machine = meta.get("machine", {})
    settings = meta.get("settings", {})
    threads = {json.dumps(r.get("threads"), sort_keys=True) for r in data["raw"] if "threads" in r}
    lines = [
        f"Run of `{meta.get('command', 'python benchmarks/run.py')}`, finished {meta.get('date')},"
        f" {meta.get('total_s', 0) / 60:.0f} minutes. Regenerate this section (between the "
        "`report.py` markers; the hand-written sections are kept) from the JSON with "
        "`.venv/bin/python benchmarks/report.py benchmarks/results.json --results-md "
        "benchmarks/RESULTS.md`.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
    ]
    for key, value in machine.items():
        lines.append(f"| {key} | {value} |")
    lines += [
        f"| load average (1 min) before / after | {meta.get('loadavg_before', ['-'])[0]:.2f} / "
        f"{meta.get('loadavg_after', ['-'])[0]:.2f} |",
        "",
        "## Versions and settings",
        "",
        "| | |",
        "|---|---|",
    ]
    for key, value in sorted(_versions(data["raw"]).items()):
        lines.append(f"| {key} | {value} |")
    lines += [
        f"| threads per case process | {'; '.join(sorted(threads))} |",
        f"| torch OMP_WAIT_POLICY | {meta.get('torch_omp_wait_policy') or 'default'} |",
        f"| processes per case | {settings.get('processes')} (interleaved rounds) |",
        f"| windows per metric and process | {settings.get('windows')} x "
        f"~{settings.get('window_s')} s after {settings.get('warmup_s')} s warm-up |",
        f"| quality budget | {settings.get('budget_s')} s per implementation |",
        "",
        markdown_report(summary, meta),
    ]
    return "\n".join(lines)


def update_results_md(text: str | None, generated: str) -> str:
    """RESULTS.md with `generated` between `BEGIN_MARKER` and `END_MARKER`, the rest of
    `text` unchanged; a new file (`text=None`) gets a title and the generated section.

    Raises:
        ValueError: if `text` does not hold each marker exactly once, in order (writing
            would lose hand-written text).
    """
    block = f"{BEGIN_MARKER}\n{generated.strip()}\n{END_MARKER}"
    if text is None:
        return f"{_TITLE}\n\n{block}\n"
    begin, end = text.count(BEGIN_MARKER), text.count(END_MARKER)
    if begin != 1 or end != 1 or text.index(BEGIN_MARKER) > text.index(END_MARKER):
        raise ValueError(
            f"RESULTS.md must hold {BEGIN_MARKER!r} and {END_MARKER!r} once each, in this "
            f"order, around the generated section; found {begin} and {end}. Add them rather "
            "than let the generator overwrite hand-written text."
        )
    head, rest = text.split(BEGIN_MARKER)
    tail = rest.split(END_MARKER)[1]
    return f"{head}{block}{tail}"


def main(argv: list[str] | None = None) -> int:
    """`python benchmarks/report.py results.json [--results-md RESULTS.md]`."""
    parser = argparse.ArgumentParser(description="Re-render the report of a results.json.")
    parser.add_argument("results", help="results.json written by run.py")
    parser.add_argument(
        "--results-md",
        help="update the generated section of this RESULTS.md (machine, versions, tables), "
        "keeping the hand-written text around it; creates the file if absent",
    )
    args = parser.parse_args(argv)
    with open(args.results) as f:
        data = json.load(f)
    if args.results_md:
        path = pathlib.Path(args.results_md)
        old = path.read_text() if path.exists() else None
        try:
            new = update_results_md(old, results_markdown(data))
        except ValueError as err:
            print(f"report.py: error: {path}: {err}", file=sys.stderr)
            return 2
        path.write_text(new)
    else:
        print(markdown_report(data["summary"], data["meta"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
