"""Peak RSS of `tfflow train` on streamed TFRecord sets of different sizes (issue 17).

    python benchmarks/data_stream_rss.py WORK_DIR [--sizes 10000 200000] [--rounds 2]

Writes each synthetic set of 32x32x3 images (`data_synthetic.py`, 1,000 test images each)
into WORK_DIR (about 3.3 KB per image on disk; check `df` first), then runs, for every size
and round (sizes interleaved within a round):

    tfflow train --dataset WORK_DIR/set-N --steps-per-epoch 50 --epochs 1 --model glow
        --levels 3 --steps-per-level 2 --hidden 32 --batch-size 64 --num-samples 4
        --no-export --verbose 0

in a fresh process, and reads its peak RSS (`ru_maxrss` of the finished child). Streaming
means the peak should not depend on the number of training images.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import time

from data_synthetic import write_set

TRAIN_ARGS = ["--steps-per-epoch", "50", "--epochs", "1", "--model", "glow", "--levels", "3",
              "--steps-per-level", "2", "--hidden", "32", "--batch-size", "64",
              "--num-samples", "4", "--no-export", "--verbose", "0"]  # fmt: skip
# Run in a wrapper process so that RUSAGE_CHILDREN covers exactly one `tfflow train`.
_WRAPPER = (
    "import resource, subprocess, sys; "
    "code = subprocess.run(sys.argv[1:]).returncode; "
    "print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
    "sys.exit(code)"
)


def peak_rss_mb(dataset: pathlib.Path) -> tuple[float, float]:
    """Runs `tfflow train` on `dataset`; returns (peak RSS in MB, wall seconds)."""
    with tempfile.TemporaryDirectory() as run_dir:
        command = [sys.executable, "-m", "tfflow", "train", "--dataset", str(dataset),
                   *TRAIN_ARGS, "--run-dir", run_dir]  # fmt: skip
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-c", _WRAPPER, *command], capture_output=True, text=True
        )
        seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"tfflow train failed:\n{result.stderr[-3000:]}")
    line = next(x for x in result.stdout.splitlines() if x.startswith("PEAK_RSS_KB"))
    return int(line.split()[1]) / 1024, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work_dir", type=pathlib.Path)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 200_000])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    sets = {}
    for size in args.sizes:
        sets[size] = args.work_dir / f"set-{size}"
        seconds = write_set(sets[size], size, 1_000, 32)
        print(f"set of {size:,} images: {sets[size]} (written in {seconds:.0f} s)", flush=True)
    results = {size: [] for size in args.sizes}
    for round_index in range(args.rounds):
        for size in args.sizes if round_index % 2 == 0 else reversed(args.sizes):
            rss, seconds = peak_rss_mb(sets[size])
            results[size].append(rss)
            print(f"round {round_index + 1}: {size:>7,} images: peak RSS {rss:.0f} MB "
                  f"({seconds:.0f} s)", flush=True)  # fmt: skip
    print("\n| training images | peak RSS per round (MB) | median |")
    print("|--:|--|--:|")
    for size, values in results.items():
        median = sorted(values)[len(values) // 2]
        print(f"| {size:,} | {', '.join(f'{v:.0f}' for v in values)} | {median:.0f} |")
    smallest, largest = (sorted(results[s])[len(results[s]) // 2] for s in (min(sets), max(sets)))
    print(f"\nlargest / smallest: {largest / smallest:.3f}")
    print("BENCHMARK_RESULT " + json.dumps({str(k): v for k, v in results.items()}))


if __name__ == "__main__":
    main()
