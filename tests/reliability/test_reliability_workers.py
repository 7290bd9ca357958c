"""Multi-worker runs: which worker is the chief, decided from `TF_CONFIG` as TensorFlow does.

The run-directory side (only the chief writes) is tested in
tests/cli/test_cli_multiworker_run_dir.py; the two-process `MultiWorkerMirroredStrategy` test
in tests/scale covers collective training itself.
"""

import json

import pytest

from tfflow.training import RunConfigurationError, WorkerRole

CLUSTER = {"worker": ["host0:2222", "host1:2222", "host2:2222"]}
WITH_CHIEF = {"chief": ["host0:2222"], "worker": ["host1:2222", "host2:2222"]}


def _tf_config(cluster: dict, task_type: str, index: int) -> str:
    return json.dumps({"cluster": cluster, "task": {"type": task_type, "index": index}})


@pytest.mark.parametrize(
    "cluster, task_type, index, is_chief",
    [
        (CLUSTER, "worker", 0, True),
        (CLUSTER, "worker", 1, False),
        (CLUSTER, "worker", 2, False),
        (WITH_CHIEF, "chief", 0, True),
        (WITH_CHIEF, "worker", 0, False),  # with a chief task, worker 0 is not the chief
        (WITH_CHIEF, "worker", 1, False),
        ({**CLUSTER, "evaluator": ["host9:2222"]}, "evaluator", 0, False),
    ],
)
def test_chief_decision_from_tf_config(monkeypatch, cluster, task_type, index, is_chief):
    monkeypatch.setenv("TF_CONFIG", _tf_config(cluster, task_type, index))
    role = WorkerRole.for_strategy("multiworker")
    assert role == WorkerRole(task_type=task_type, task_id=index, is_chief=is_chief)
    assert role.scratch_name == f".workertemp-{task_type}-{index}"


@pytest.mark.parametrize("tf_config", [None, "", "  ", '{"cluster": {}}'])
def test_no_cluster_means_a_single_chief(monkeypatch, tf_config):
    if tf_config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    assert WorkerRole.for_strategy("multiworker").is_chief


@pytest.mark.parametrize("strategy", ["default", "mirrored"])
def test_single_machine_strategies_ignore_tf_config(monkeypatch, strategy):
    monkeypatch.setenv("TF_CONFIG", _tf_config(CLUSTER, "worker", 1))
    assert WorkerRole.for_strategy(strategy).is_chief


@pytest.mark.parametrize(
    "tf_config, fragment",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        (json.dumps({"cluster": CLUSTER}), 'must hold "cluster" and "task"'),
        (_tf_config(CLUSTER, "worker", 3), "worker:3 is not in the cluster (worker: 3)"),
        (_tf_config(CLUSTER, "chief", 0), "chief:0 is not in the cluster"),
        (
            json.dumps({"cluster": CLUSTER, "task": {"type": "worker", "index": "x"}}),
            "index must be an integer",
        ),
    ],
)
def test_invalid_tf_config_is_a_clear_error(monkeypatch, tf_config, fragment):
    monkeypatch.setenv("TF_CONFIG", tf_config)
    with pytest.raises(RunConfigurationError) as info:
        WorkerRole.for_strategy("multiworker")
    assert fragment in str(info.value)
