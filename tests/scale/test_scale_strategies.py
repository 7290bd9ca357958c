"""Training under tf.distribute: MirroredStrategy over 2 logical CPUs, and
MultiWorkerMirroredStrategy with two real worker processes on 127.0.0.1."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ports import free_ports

WORKER = Path(__file__).with_name("strategy_worker.py")
TIMEOUT_S = 420


def _check(report: dict, replicas: int) -> None:
    assert report["replicas"] == replicas
    for name in ("glow", "glow_recompute", "realnvp", "nice"):
        entry = report[name]
        losses = entry["loss"]
        assert all(abs(loss) < 1e6 for loss in losses), (name, losses)
        assert losses[-1] < losses[0], (name, losses)
        assert entry["log_prob_rel_diff"] < 1e-5, (name, entry)
        assert entry["actnorm_initialized"]
        assert entry["actnorm_identical_on_replicas"], name


def _env(**extra) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **extra)
    env.pop("TF_CONFIG", None)
    env.update(extra)
    return env


def test_mirrored_strategy_on_two_logical_cpus(tmp_path):
    out = tmp_path / "mirrored.json"
    subprocess.run(
        [sys.executable, str(WORKER), "mirrored", str(out)],
        check=True,
        timeout=TIMEOUT_S,
        env=_env(),
        capture_output=True,
    )
    _check(json.loads(out.read_text()), replicas=2)


@pytest.mark.slow
def test_multi_worker_mirrored_strategy_with_two_processes(tmp_path):
    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    processes = []
    for index in range(2):
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        out = tmp_path / f"worker{index}.json"
        processes.append(
            (
                out,
                subprocess.Popen(
                    [sys.executable, str(WORKER), "multiworker", str(out)],
                    env=_env(TF_CONFIG=tf_config),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                ),
            )
        )
    try:
        for _out, process in processes:
            _, stderr = process.communicate(timeout=TIMEOUT_S)
            assert process.returncode == 0, stderr.decode()[-3000:]
    finally:
        for _, process in processes:
            if process.poll() is None:
                process.kill()
    reports = [json.loads(out.read_text()) for out, _ in processes]
    for report in reports:
        _check(report, replicas=2)
    assert reports[0]["glow"]["loss"] == pytest.approx(reports[1]["glow"]["loss"])
