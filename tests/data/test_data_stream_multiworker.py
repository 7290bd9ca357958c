"""Two real `MultiWorkerMirroredStrategy` workers on 127.0.0.1 read distinct shards of a stream.

Each worker runs `stream_worker.py`, iterates one training epoch and the test split through
`strategy.experimental_distribute_dataset` (what Keras' `fit` does), and reports the example
ids (the labels) it received.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ports import free_ports

from tfflow.data import write_tfrecords

WORKER = Path(__file__).with_name("stream_worker.py")
TIMEOUT_S = 300
NUM_TRAIN, NUM_TEST = 100, 21


def _run_workers(data_dir: Path, tmp_path: Path) -> list[dict]:
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    processes = []
    for index in range(2):
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_CONFIG=tf_config)
        out = tmp_path / f"worker{index}.json"
        command = [sys.executable, str(WORKER), str(data_dir), str(out)]
        processes.append((out, subprocess.Popen(command, env=env, stderr=subprocess.PIPE)))
    try:
        for _, process in processes:
            _, stderr = process.communicate(timeout=TIMEOUT_S)
            assert process.returncode == 0, stderr.decode()[-3000:]
    finally:
        for _, process in processes:
            if process.poll() is None:
                process.kill()
    return [json.loads(out.read_text()) for out, _ in processes]


@pytest.mark.slow
def test_two_workers_read_distinct_examples_that_cover_the_epoch(tmp_path):
    images = np.zeros((NUM_TRAIN, 4, 4, 1), np.uint8)
    data_dir = tmp_path / "records"
    # Four training files of 25: each worker reads two of them (AutoShardPolicy.FILE).
    write_tfrecords(images, data_dir, labels=np.arange(NUM_TRAIN), examples_per_shard=25)
    test_ids = np.arange(NUM_TRAIN, NUM_TRAIN + NUM_TEST)
    write_tfrecords(images[:NUM_TEST], data_dir, labels=test_ids, split="test")

    reports = _run_workers(data_dir, tmp_path)
    assert [report["replicas"] for report in reports] == [2, 2]
    for split, expected in (("train", range(NUM_TRAIN)), ("test", test_ids)):
        seen = [[i for step in report[split] for i in step] for report in reports]
        assert all(len(ids) == len(set(ids)) for ids in seen), split  # no repeats
        assert not set(seen[0]) & set(seen[1]), split  # distinct examples per worker
        assert sorted(seen[0] + seen[1]) == sorted(expected), split  # together: the epoch
    # The global batch of 8 is split across the two replicas: 4 examples per worker and step.
    assert max(len(step) for report in reports for step in report["train"]) == 4
