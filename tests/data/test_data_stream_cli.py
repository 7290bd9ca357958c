"""`tfflow train --dataset 'DIR/*.tfrecords'` streams TFRecord files, showing indexing progress."""

import json

import numpy as np
import pytest
import tensorflow as tf

from tfflow.cli.main import main

TINY = ["--model", "glow", "--levels", "1", "--steps-per-level", "1", "--hidden", "4",
        "--batch-size", "8", "--num-samples", "4", "--no-export", "--verbose", "0"]  # fmt: skip


def _write_glow_layout(folder, counts: dict[str, int]) -> None:
    """openai/glow's files, without tfflow's index: reading them needs an indexing pass."""
    rng = np.random.RandomState(0)
    for split, count in counts.items():
        (folder / split).mkdir(parents=True)
        for shard in range(2):
            path = folder / split / f"{split}-r02-s-{shard:04d}-of-0002.tfrecords"
            with tf.io.TFRecordWriter(str(path)) as writer:
                for _ in range(count // 2):
                    image = rng.randint(0, 256, (4, 4, 3)).astype(np.uint8)
                    feature = {
                        "shape": tf.train.Feature(int64_list=tf.train.Int64List(value=[4, 4, 3])),
                        "data": tf.train.Feature(
                            bytes_list=tf.train.BytesList(value=[image.tobytes()])
                        ),
                        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[0])),
                    }
                    example = tf.train.Example(features=tf.train.Features(feature=feature))
                    writer.write(example.SerializeToString())


@pytest.mark.parametrize("steps, glob", [(None, True), (3, False)])
def test_train_streams_tfrecords(capsys, tmp_path, monkeypatch, steps, glob):
    monkeypatch.setattr("tfflow.data.progress.PROGRESS_INTERVAL_S", 0.0)  # a line per batch
    _write_glow_layout(tmp_path / "data", {"train": 40, "validation": 10})
    run_dir = tmp_path / "run"
    # A quoted pattern, or the folder holding glow's train/ and validation/ folders.
    pattern = str(tmp_path / "data" / "*" / "*.tfrecords") if glob else str(tmp_path / "data")
    argv = ["train", *TINY, "--dataset", pattern, "--epochs", "2", "--run-dir", str(run_dir)]
    if steps is not None:
        argv += ["--steps-per-epoch", str(steps)]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"indexing {pattern} train: 40 records" in out
    record = json.loads((run_dir / "config.json").read_text())["dataset"]
    assert (record["num_train"], record["num_test"], record["shape"]) == (40, 10, [4, 4, 3])
    assert "raw pixels" in record["description"]
    evaluation = json.loads((run_dir / "evaluation.json").read_text())
    assert evaluation["num_examples"] == 10  # every test example, once
    rows = (run_dir / "metrics.csv").read_text().strip().splitlines()
    assert len(rows) == 3  # header + two epochs


def test_unmatched_pattern_is_a_one_line_error(capsys, tmp_path):
    code = main(["train", *TINY, "--dataset", str(tmp_path / "*.tfrecord")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "tfflow: error: unknown dataset" in err
    assert "Traceback" not in err
