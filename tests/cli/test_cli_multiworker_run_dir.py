"""Under `--strategy multiworker` only the chief writes the run directory.

Unit level: the strategy is replaced by the default one so that one process can play the
chief (`TF_CONFIG` task worker 0) or a non-chief worker (worker 1); the two-process
`MultiWorkerMirroredStrategy` test in tests/scale covers collective training itself.
"""

import json

import tensorflow as tf
from cli_helpers import TINY_GLOW, run_cli

WORKERS = ["host0:2222", "host1:2222"]


def _tree(path) -> dict:
    """Every file under `path` with its bytes."""
    return {str(p.relative_to(path)): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def _as_worker(monkeypatch, index: int) -> None:
    tf_config = {"cluster": {"worker": WORKERS}, "task": {"type": "worker", "index": index}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(tf_config))
    # One process cannot form a cluster: train under the default strategy instead.
    monkeypatch.setattr(
        "tfflow.training.trainer.make_strategy", lambda name: tf.distribute.get_strategy()
    )


def test_only_the_chief_writes_the_run_directory(capsys, tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    argv = ["train", *TINY_GLOW, "--strategy", "multiworker", "--no-export", "--run-dir", run_dir]

    _as_worker(monkeypatch, 0)  # the chief trains epoch 1 and writes everything
    code, _, err = run_cli(capsys, *argv, "--epochs", "1")
    assert code == 0, err
    chief_files = _tree(run_dir)
    for name in ("config.json", "metrics.csv", "model.keras", "evaluation.json"):
        assert name in chief_files, sorted(chief_files)
    assert "backup/latest.weights.h5" in chief_files
    assert "samples/epoch_001.png" in chief_files
    assert any(name.startswith("tensorboard/") for name in chief_files)

    _as_worker(monkeypatch, 1)  # a non-chief worker resumes from the chief's checkpoint
    code, out, err = run_cli(capsys, *argv, "--epochs", "2")
    assert code == 0, err
    assert "after epoch 1 of 2" in out  # restored the chief's checkpoint
    assert "epoch 2/2" in out  # and trained the next epoch
    assert _tree(run_dir) == chief_files  # without writing a byte into the run directory
    assert [p.name for p in run_dir.iterdir() if p.name.startswith(".")] == []


def test_non_chief_scratch_left_by_a_killed_worker_is_replaced(capsys, tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    stale = run_dir / ".workertemp-worker-1" / "backup" / "latest.weights.h5"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"torn")
    _as_worker(monkeypatch, 1)
    code, _, err = run_cli(
        capsys, "train", *TINY_GLOW, "--strategy", "multiworker", "--epochs", "1",
        "--no-export", "--run-dir", run_dir,
    )  # fmt: skip
    assert code == 0, err
    assert list(run_dir.iterdir()) == []
