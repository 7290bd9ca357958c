"""Writes a synthetic TFRecord image set with `tfflow.data.write_tfrecords` (issue 17).

    python benchmarks/data_synthetic.py OUT_DIR --train 200000 [--test 1000] [--size 32]

Uniform random `uint8` images (the worst case for PNG: incompressible), written in chunks of
10,000 so that the set never sits in memory; shards of 10,000 records. Used by
`data_stream_rss.py` and `data_stream_throughput.py`.
"""

from __future__ import annotations

import argparse
import pathlib
import time

CHUNK = 10_000


def write_set(directory: pathlib.Path, num_train: int, num_test: int, size: int) -> float:
    """Writes the set; returns the seconds it took. Skips a folder that already has it."""
    import numpy as np

    from tfflow.data import write_tfrecords

    if (directory / "tfflow_dataset.json").is_file():
        return 0.0
    rng = np.random.RandomState(0)

    def chunks(count: int):
        for start in range(0, count, CHUNK):
            yield rng.randint(0, 256, (min(CHUNK, count - start), size, size, 3), np.uint8)

    start = time.perf_counter()
    write_tfrecords(chunks(num_train), directory, progress=print)
    write_tfrecords(chunks(num_test), directory, split="test", progress=print)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=pathlib.Path)
    parser.add_argument("--train", type=int, default=200_000)
    parser.add_argument("--test", type=int, default=1_000)
    parser.add_argument("--size", type=int, default=32)
    args = parser.parse_args()
    seconds = write_set(args.out, args.train, args.test, args.size)
    print(f"wrote {args.out} in {seconds:.1f} s")


if __name__ == "__main__":
    main()
