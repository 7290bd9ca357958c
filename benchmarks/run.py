"""Runs the tfflow benchmark suite: every case in its own process, interleaved, one table.

Usage (from the repository root):

    .venv/bin/python benchmarks/run.py [--quick] [--cases PATTERN ...] [--out FILE]

See `benchmarks/README.md` for what is measured and how to read the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CASES_DIR = os.path.join(HERE, "cases")
sys.path.insert(0, CASES_DIR)

import numpy as np  # noqa: E402
from bench_common import RESULT_PREFIX, WORKLOADS, make_tabular_data, workload  # noqa: E402
from report import markdown_report, summarize  # noqa: E402

__all__ = ["build_jobs", "main"]

TORCH_VENV = os.path.join(HERE, ".venv-torch")
TORCH_REQUIREMENTS = (["torch==2.13.0"], ["zuko", "normflows"])

# (case, variant, metrics) for every workload; torch runs eagerly (no compile step). A metric
# "name@variant" is measured in the same process after the others (so the process's peak RSS
# of its own variant is recorded first): this keeps the suite near 25 minutes on 2 cores.
SPEED_CASES = [
    ("tfflow", "graph", ["train", "log_prob", "sample", "train@fit"]),
    ("tfflow", "xla", ["train", "log_prob", "sample"]),
    ("tfp", "graph", ["train", "log_prob", "sample", "train@xla"]),
    ("torch", "eager", ["train", "log_prob", "sample"]),
    ("lower_bound", "graph", ["train", "forward", "train@xla", "forward@xla"]),
]
QUALITY_CASES = [("tfflow", "graph"), ("tfp", "graph"), ("torch", "eager")]
DEPTHS = (4, 8, 16, 32)

FULL = {"processes": 2, "windows": 4, "window_s": 0.6, "warmup_s": 0.6, "budget_s": 15.0}
QUICK = {"processes": 1, "windows": 3, "window_s": 0.25, "warmup_s": 0.25, "budget_s": 4.0}


def _job(kind: str, case: str, variant: str, work: dict[str, Any], **extra: Any) -> dict:
    if kind == "speed":
        job_id = f"{work['name']}/{case}-{variant}"
    elif kind == "depth":
        job_id = f"depth/K{work['steps_per_level']}" + ("-recompute" if work["recompute"] else "")
    else:
        job_id = f"quality/{case}"
    return dict(id=job_id, kind=kind, case=case, variant=variant, workload=work, **extra)


def build_jobs(settings: dict[str, Any]) -> list[dict[str, Any]]:
    """Every job of the suite (before `--cases` filtering), in first-round order."""
    timing = {k: settings[k] for k in ("windows", "window_s", "warmup_s")}
    common = dict(timing, learning_rate=1e-4, threads=settings["threads"])
    jobs = []
    for name in WORKLOADS:
        for case, variant, metrics in SPEED_CASES:
            jobs.append(_job("speed", case, variant, workload(name), metrics=metrics, **common))
    depth_timing = dict(common, windows=2, window_s=0.0, warmup_s=0.0)
    for k in settings["depths"]:
        for recompute in (False, True):
            work = workload("glow28", steps_per_level=k, recompute=recompute)
            jobs.append(_job("depth", "tfflow", "graph", work, metrics=["train"], **depth_timing))
    for case, variant in QUALITY_CASES:
        quality = {"budget_s": settings["budget_s"]}
        jobs.append(_job("quality", case, variant, workload("tabular"), quality=quality, **common))
    return jobs


def _select(jobs: list[dict], patterns: list[str] | None) -> list[dict]:
    if not patterns:
        return jobs
    return [j for j in jobs if any(p in j["id"] for p in patterns)]


def _setup_torch(pip_args: list[str]) -> tuple[str | None, str]:
    """Creates `benchmarks/.venv-torch` if needed; returns (python or None, why not)."""
    python = os.path.join(TORCH_VENV, "bin", "python")
    check = [python, "-c", "import torch, zuko, normflows"]
    if os.path.exists(python) and subprocess.run(check, capture_output=True).returncode == 0:
        return python, ""
    print(f"setting up {TORCH_VENV} (torch 2.13.0 CPU, zuko, normflows) ...", file=sys.stderr)
    try:
        base = shutil.which("python3") or sys.executable
        subprocess.run([base, "-m", "venv", TORCH_VENV], check=True, capture_output=True)
        pip = [python, "-m", "pip", "install", "--quiet", *pip_args]
        # torch first and pinned, so installing zuko/normflows never pulls another (CUDA) torch.
        for requirement in TORCH_REQUIREMENTS:
            subprocess.run(pip + requirement, check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", "") or str(error)
        return None, f"torch virtualenv setup failed: {detail.strip()[-300:]}"
    if subprocess.run(check, capture_output=True).returncode != 0:
        return None, "torch, zuko or normflows not importable in benchmarks/.venv-torch"
    return python, ""


def _run_job(job: dict, python: str, env: dict, timeout: float, nice: int) -> dict[str, Any]:
    script = os.path.join(CASES_DIR, f"{job['case']}_case.py")
    spec = {k: v for k, v in job.items() if k != "id"}
    command = [python, script, json.dumps(spec)]
    if nice:
        command = ["nice", "-n", str(nice), *command]
    start = time.time()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout
        )
        output, stderr = done.stdout, done.stderr
    except subprocess.TimeoutExpired as error:
        output = error.stdout or ""
        stderr = f"timed out after {timeout:.0f} s"
        if isinstance(output, bytes):
            output = output.decode(errors="replace")
    for line in reversed(output.splitlines()):
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX) :])
            break
    else:
        result = {"status": "error", "error": (stderr or "no result line").strip()[-800:]}
    if result.get("status") == "error" and "stderr_tail" not in result:
        result["stderr_tail"] = (stderr or "").strip()[-1500:]
    result.update(id=job["id"], process_wall_s=time.time() - start)
    return result


def _progress(index: int, total: int, result: dict[str, Any]) -> str:
    parts = []
    for metric in ("train", "log_prob", "sample", "forward"):
        if isinstance(result.get(metric), dict):
            parts.append(f"{metric} {statistics.median(result[metric]['rates']):,.0f}/s")
    if "best" in result:
        parts.append(f"test bpd {result['best']['test_bpd']:.3f} ({result['steps']} steps)")
    status = result.get("status")
    if status != "ok":
        parts.append(f"{status}: {result.get('error', '')[:200]}")
    took = result.get("process_wall_s", 0.0)
    return f"[{index}/{total}] {result['id']}: {', '.join(parts)} ({took:.0f} s)"


def machine_description() -> dict[str, Any]:
    """`lscpu` summary, memory, OS and Python, for RESULTS.md."""
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        keep = (
            "Architecture",
            "Model name",
            "CPU(s)",
            "Thread(s) per core",
            "Core(s) per socket",
            "Socket(s)",
            "L1d cache",
            "L2 cache",
            "L3 cache",
            "Hypervisor vendor",
        )
        for line in lscpu.splitlines():
            key, _, value = line.partition(":")
            if key.strip() in keep:
                info[key.strip()] = value.strip()
            if key.strip() == "Flags":
                flags = value.split()
                info["simd"] = " ".join(f for f in flags if f.startswith(("avx", "amx", "fma")))
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            info["memory"] = f.readline().split(":")[1].strip()
    except OSError:
        pass
    return info


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short windows, one process")
    parser.add_argument(
        "--cases",
        nargs="+",
        metavar="PATTERN",
        help="run only jobs whose id contains one of these (ids: see --list)",
    )
    parser.add_argument("--list", action="store_true", help="list the job ids and exit")
    parser.add_argument("--out", default=os.path.join(HERE, "results.json"), help="JSON output")
    parser.add_argument("--markdown", help="also write the markdown report to this file")
    parser.add_argument("--processes", type=int, help="processes per case (interleaved rounds)")
    parser.add_argument("--windows", type=int, help="timed windows per metric and process")
    parser.add_argument("--window-s", type=float, help="target seconds per timed window")
    parser.add_argument("--warmup-s", type=float, help="warm-up seconds after the first call")
    parser.add_argument("--budget-s", type=float, help="wall-clock budget of the quality case")
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads (all frameworks)")
    parser.add_argument(
        "--depths", type=int, nargs="*", default=list(DEPTHS), help="Glow K of the depth scan"
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per process")
    parser.add_argument("--nice", type=int, default=0, help="run case processes under `nice -n`")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch cases")
    parser.add_argument(
        "--torch-omp-wait-policy",
        default="",
        help="OMP_WAIT_POLICY of torch processes (default: OpenMP's own, which spins; "
        "PASSIVE on a machine shared with other busy processes)",
    )
    parser.add_argument(
        "--torch-pip-args",
        default="",
        help="extra pip arguments (one string) for creating benchmarks/.venv-torch, "
        "e.g. --torch-pip-args='--index-url URL'",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Runs the suite; returns the process exit status."""
    args = _parse(argv)
    settings = dict(QUICK if args.quick else FULL)
    for key in ("processes", "windows", "window_s", "warmup_s", "budget_s"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    settings.update(threads=args.threads, depths=args.depths, quick=args.quick)
    jobs = _select(build_jobs(settings), args.cases)
    if args.list or not jobs:
        print("\n".join(j["id"] for j in build_jobs(settings)))
        return 0 if args.list else 2

    torch_python, torch_missing = None, "skipped (--no-torch)"
    if not args.no_torch and any(j["case"] == "torch" for j in jobs):
        torch_python, torch_missing = _setup_torch(shlex.split(args.torch_pip_args))
    if torch_python is None:
        print(f"PyTorch cases skipped: {torch_missing}", file=sys.stderr)

    scratch = tempfile.mkdtemp(prefix="tfflow-bench-")
    data_path = os.path.join(scratch, "digits.npz")
    np.savez(data_path, **make_tabular_data())
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    torch_env = dict(env)
    if args.torch_omp_wait_policy:
        torch_env["OMP_WAIT_POLICY"] = args.torch_omp_wait_policy

    # Interleaving: round r runs every job once, the order rotated by r, so slow phases of the
    # shared machine spread over all cases. Quality and depth jobs run once, in round 0.
    speed = [j for j in jobs if j["kind"] == "speed"]
    single = [j for j in jobs if j["kind"] != "speed"]
    schedule = []
    for r in range(int(settings["processes"])):
        shift = (r * max(1, len(speed) // settings["processes"])) % max(1, len(speed))
        schedule += speed[shift:] + speed[:shift]
        if r == 0:
            schedule += single
    started = time.time()
    load_before = os.getloadavg()
    results, skipped = [], []
    for index, job in enumerate(schedule, 1):
        job = dict(job, data_path=data_path)
        if job["case"] == "torch":
            if torch_python is None:
                if job["id"] not in skipped:
                    skipped.append(job["id"])
                continue
            result = _run_job(job, torch_python, torch_env, args.timeout, args.nice)
        else:
            result = _run_job(job, sys.executable, env, args.timeout, args.nice)
        results.append(result)
        print(_progress(index, len(schedule), result), file=sys.stderr, flush=True)
    shutil.rmtree(scratch, ignore_errors=True)

    command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    meta = {
        "command": command.strip(),
        "settings": settings,
        "machine": machine_description(),
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "total_s": time.time() - started,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "torch": torch_missing if torch_python is None else "ok",
        "torch_omp_wait_policy": args.torch_omp_wait_policy,
        "skipped": skipped,
    }
    summary = summarize(results)
    markdown = markdown_report(summary, meta)
    print(markdown)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"meta": meta, "summary": summary, "raw": results}, f, indent=1, default=float)
        f.write("\n")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown)
    failed = [r["id"] for r in results if r.get("status") != "ok"]
    if failed:
        print(f"failed: {', '.join(sorted(set(failed)))}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
