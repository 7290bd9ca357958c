"""Reads a TFRecord stream as one worker of a `MultiWorkerMirroredStrategy`; run by a test.

Usage: python stream_worker.py DATA_DIR OUT.json   (TF_CONFIG set by the caller)

The labels of the data are the example ids. Writes, for the training split (one epoch) and
the test split, the ids this worker's replica received, step by step.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

data_dir, out_path = sys.argv[1], sys.argv[2]
strategy = tf.distribute.MultiWorkerMirroredStrategy()

from tfflow.data import make_stream, open_source  # noqa: E402

source = open_source(data_dir)
report = {"replicas": strategy.num_replicas_in_sync, "num_train": source.num_train}
for split, training in (("train", True), ("test", False)):
    dataset = make_stream(
        source, split, batch_size=8, training=training, seed=3, labels=True, drop_remainder=False
    )
    steps = []
    for _, labels in strategy.experimental_distribute_dataset(dataset):
        local = strategy.experimental_local_results(labels)
        steps.append([int(v) for replica in local for v in replica.numpy()])
    report[split] = steps
with open(out_path, "w") as f:
    json.dump(report, f)
