"""Median start-up time of `import tfflow` in fresh processes, before and after a change.

    python benchmarks/import_time.py --before ../wt-base --after . --runs 5
    python benchmarks/import_time.py --installed --before venv-before --after venv-after --runs 7

Each round runs, interleaved (before, after, before, after, ...), `python -c STATEMENT` for
`import tfflow` and `import tfflow.cli.main` (the command line's start-up, which imports
`tfflow.data`). Two times are reported per run: the import itself (`time.perf_counter()` around
the statement, inside the process) and the whole process (interpreter start-up included).

By default `--before`/`--after` are source trees: this interpreter runs with `PYTHONPATH` set to
each, and a third variant runs the `--after` tree with scikit-learn hidden
(`sys.modules["sklearn"] = None`, as in an install without it). With `--installed` they are
virtualenvs with tfflow installed (`pip install <tree>`): each one's `bin/python` runs from an
empty temporary directory, without `PYTHONPATH`, so the installed copy is the one imported.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["main"]

_STATEMENTS = ("import tfflow", "import tfflow.cli.main")
_HIDE_SKLEARN = "import sys; sys.modules['sklearn'] = None; "
_TIMED = "import time; _t = time.perf_counter(); {}; print(time.perf_counter() - _t)"


def _seconds(python: str, code: str, cwd: Path, pythonpath: Path | None) -> tuple[float, float]:
    """Returns (import seconds measured inside the process, whole-process seconds)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("PYTHONPATH", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    start = time.perf_counter()
    done = subprocess.run([python, "-c", code], cwd=cwd, env=env, capture_output=True, text=True)
    process = time.perf_counter() - start
    if done.returncode != 0:  # e.g. the tree needs a package this interpreter lacks
        raise RuntimeError(f"{python} -c {code!r} failed:\n{done.stderr[-2000:]}")
    return float(done.stdout.strip().splitlines()[-1]), process


def _variants(args: argparse.Namespace, statement: str, scratch: Path) -> dict[str, tuple]:
    """Maps a variant's name to (python, code, cwd, PYTHONPATH)."""
    timed = _TIMED.format(statement)
    if args.installed:
        return {
            name: (str(venv.resolve() / "bin" / "python"), timed, scratch, None)
            for name, venv in (("before", args.before), ("after", args.after))
        }
    before, after = args.before.resolve(), args.after.resolve()
    return {
        "before": (sys.executable, timed, before, before),
        "after": (sys.executable, timed, after, after),
        "after, scikit-learn absent": (sys.executable, _HIDE_SKLEARN + timed, after, after),
    }


def _summary(runs: list[float]) -> str:
    return f"median {statistics.median(runs):.2f} s, runs {[round(t, 2) for t in runs]}"


def main() -> None:
    """Prints the median and every run for each statement and variant."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--installed",
        action="store_true",
        help="--before/--after are virtualenvs with tfflow installed, not source trees",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        for statement in _STATEMENTS:
            variants = _variants(args, statement, Path(scratch))
            times: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
            for _ in range(args.runs):
                for name, variant in variants.items():
                    times[name].append(_seconds(*variant))
            for name, runs in times.items():
                print(f"{statement!r} {name}: import {_summary([i for i, _ in runs])}")
                print(f"{statement!r} {name}: process {_summary([p for _, p in runs])}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
