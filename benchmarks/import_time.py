"""Median start-up time of `import tfflow` in fresh processes, for two source trees.

    python benchmarks/import_time.py --before ../wt-base --after . --runs 5

Each round runs, interleaved, `python -c STATEMENT` with `PYTHONPATH` set to the `--before`
tree, to the `--after` tree, and to the `--after` tree with scikit-learn hidden
(`sys.modules["sklearn"] = None`, as in an install without it), for `import tfflow` and
`import tfflow.cli.main` (the command line's start-up, which imports `tfflow.data`).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["main"]

_STATEMENTS = ("import tfflow", "import tfflow.cli.main")
_HIDE_SKLEARN = "import sys; sys.modules['sklearn'] = None; "


def _seconds(tree: Path, code: str) -> float:
    env = dict(os.environ, PYTHONPATH=str(tree), TF_CPP_MIN_LOG_LEVEL="3")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=tree, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    """Prints the median and every run for each statement and variant."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for statement in _STATEMENTS:
        variants = {
            "before": (args.before.resolve(), statement),
            "after": (args.after.resolve(), statement),
            "after, scikit-learn absent": (args.after.resolve(), _HIDE_SKLEARN + statement),
        }
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.runs):
            for name, (tree, code) in variants.items():
                times[name].append(_seconds(tree, code))
        for name, runs in times.items():
            print(
                f"{statement!r} {name}: median {statistics.median(runs):.2f} s, "
                f"runs {[round(t, 2) for t in runs]}"
            )


if __name__ == "__main__":
    main()
