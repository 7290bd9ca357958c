"""`WorkerRole`: which worker of a multi-worker run writes the run directory."""

from __future__ import annotations

import dataclasses
import json
import os

from tfflow.training.errors import RunConfigurationError

__all__ = ["WorkerRole"]


@dataclasses.dataclass(frozen=True)
class WorkerRole:
    """This process's task in a (possibly multi-worker) run, read as TensorFlow reads it.

    Under `MultiWorkerMirroredStrategy` every worker runs the same program, so every worker
    would write the same run directory. Only the chief does: the `chief` task if the cluster
    has one, otherwise `worker` 0 (TensorFlow's `multi_worker_util.is_chief` rule). The other
    workers still take part in every step that may involve collective operations (saving,
    evaluation, export), but write into `scratch_name`, a folder of their own that is deleted
    afterwards, as Keras' multi-worker guide recommends; they restore training from the
    chief's checkpoint, so the run directory must be on a file system all workers see.

    Attributes:
        task_type: `"chief"`, `"worker"`, ... or `None` outside a cluster.
        task_id: Index of the task within its type.
        is_chief: Whether this process writes the run directory.
    """

    task_type: str | None = None
    task_id: int = 0
    is_chief: bool = True

    @property
    def scratch_name(self) -> str:
        """Name of a non-chief worker's own folder inside the run directory."""
        return f".workertemp-{self.task_type}-{self.task_id}"

    @classmethod
    def from_tf_config(cls, tf_config: str | None) -> WorkerRole:
        """The role described by a `TF_CONFIG` JSON string (`None` or empty: single worker).

        Example:
            >>> WorkerRole.from_tf_config('{"cluster": {"worker": ["a:1", "b:1"]}, '
            ...                           '"task": {"type": "worker", "index": 1}}').is_chief
            False

        Raises:
            RunConfigurationError: If `TF_CONFIG` is not valid JSON or names no valid task.
        """
        if not tf_config or not tf_config.strip():
            return cls()
        try:
            parsed = json.loads(tf_config)
        except json.JSONDecodeError as err:
            raise RunConfigurationError(f"TF_CONFIG is not valid JSON ({err}).") from err
        if not isinstance(parsed, dict):
            raise RunConfigurationError(
                f"TF_CONFIG must be a JSON object; received {tf_config[:100]!r}."
            )
        cluster = parsed.get("cluster") or {}
        task = parsed.get("task") or {}
        if not cluster:
            return cls()
        if not isinstance(cluster, dict) or not isinstance(task, dict) or "type" not in task:
            raise RunConfigurationError(
                'TF_CONFIG must hold "cluster" and "task": {"type": ..., "index": ...}; '
                f"received {tf_config[:200]!r}."
            )
        task_type = str(task["type"])
        try:
            task_id = int(task.get("index", 0))
        except (TypeError, ValueError) as err:
            raise RunConfigurationError(
                f"TF_CONFIG task index must be an integer; received {task.get('index')!r}."
            ) from err
        members = cluster.get(task_type)
        if not isinstance(members, list) or not 0 <= task_id < len(members):
            sizes = ", ".join(f"{k}: {len(v)}" for k, v in cluster.items() if isinstance(v, list))
            raise RunConfigurationError(
                f"TF_CONFIG task {task_type}:{task_id} is not in the cluster ({sizes})."
            )
        if "chief" in cluster:
            is_chief = task_type == "chief"
        else:
            is_chief = task_type == "worker" and task_id == 0
        return cls(task_type=task_type, task_id=task_id, is_chief=is_chief)

    @classmethod
    def for_strategy(cls, strategy: str, environ: dict[str, str] | None = None) -> WorkerRole:
        """The role of this process under the `--strategy` named `strategy`.

        Only `"multiworker"` reads `TF_CONFIG` (from `environ`, default `os.environ`); the
        single-machine strategies always write the run directory.
        """
        if strategy != "multiworker":
            return cls()
        environ = os.environ if environ is None else environ
        return cls.from_tf_config(environ.get("TF_CONFIG"))
