"""`train`: one resumable training run, from settings to samples, metrics and a SavedModel."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import pathlib
import shutil
import time
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from tfflow._version import __version__
from tfflow.callbacks.atomic_backup import AtomicBackupAndRestore
from tfflow.callbacks.atomic_files import atomic_path
from tfflow.data import DatasetArrays, StreamingSource
from tfflow.models import FlowModel
from tfflow.training.builders import build_model, model_input_shape, resolve_config
from tfflow.training.callbacks import make_callbacks
from tfflow.training.config import TrainConfig
from tfflow.training.datasets import (
    check_dataset_name,
    conditioning_classes,
    evaluation_pipeline,
    initialization_pipeline,
    load_run_data,
    training_pipeline,
    training_steps,
)
from tfflow.training.disk_space import check_free_space, required_free_bytes
from tfflow.training.errors import RunConfigurationError
from tfflow.training.evaluation import evaluate_bits_per_dim
from tfflow.training.progress import echo, timed_step
from tfflow.training.resume import skip_trained_epochs
from tfflow.training.run_dir import RunDir, default_run_dir
from tfflow.training.run_lock import RunDirLock
from tfflow.training.sampling import render_samples
from tfflow.training.strategy import default_jit, make_strategy, mixed_precision_policy
from tfflow.training.workers import WorkerRole

__all__ = ["TrainResult", "dataset_record", "train"]

# Reference points shown beside the samples of tabular data.
_REFERENCE_POINTS = 5000


@dataclasses.dataclass
class TrainResult:
    """What `train` produced.

    Attributes:
        run_dir: The run directory.
        model: The trained model.
        config: The resolved settings (model sizes filled in).
        history: `keras.callbacks.History.history` of the epochs run by this call.
        evaluation: Test-set result of `evaluate_bits_per_dim`.
        export_path: The SavedModel version folder, or `None` without export.
    """

    run_dir: RunDir
    model: FlowModel
    config: TrainConfig
    history: dict[str, list[float]]
    evaluation: dict[str, Any]
    export_path: pathlib.Path | None


def dataset_record(arrays: DatasetArrays | StreamingSource) -> dict[str, Any]:
    """The `dataset` entry of `config.json`."""
    return {
        "name": arrays.name,
        "kind": arrays.kind,
        "shape": list(arrays.event_shape),
        "n_bits": arrays.n_bits,
        "num_train": arrays.num_train,
        "num_test": arrays.num_test,
        "num_classes": arrays.num_classes,
        "description": arrays.description,
    }


def _check_same_run(run_dir: RunDir, config: TrainConfig, kind: str) -> bool:
    """Whether `run_dir` already holds this run (of data of `kind`); raises if it holds
    another one. Options the saved config lacks (saved before they existed) take their
    defaults."""
    previous = run_dir.read_config()
    if previous is None:
        if run_dir.has_backup():
            raise RunConfigurationError(
                f"{str(run_dir.path)!r} has a checkpoint but no config.json; delete "
                f"{str(run_dir.backup_dir)!r} or use another --run-dir."
            )
        return False
    saved = TrainConfig.from_dict(previous.get("args", {}))
    with contextlib.suppress(RunConfigurationError):  # another model: differences say so
        saved = resolve_config(saved, kind)
    differences = config.identity_differences(saved)
    if differences and not (run_dir.has_backup() or run_dir.model_path.is_file()):
        return False  # An earlier run that failed before its first epoch: start afresh.
    if differences:
        raise RunConfigurationError(
            f"{str(run_dir.path)!r} holds a different run ({'; '.join(differences)}, new vs "
            "saved); rerun with the same settings to resume, or pass another --run-dir."
        )
    return True


def _completed_epochs(run_dir: RunDir, print_fn: Callable[[str], None]) -> int:
    """Epochs in the newest readable checkpoint, reporting corrupted newer ones.

    Raises:
        tfflow.callbacks.atomic_backup.CorruptCheckpointError: if no checkpoint is readable.
    """
    metadata = AtomicBackupAndRestore.read_metadata(run_dir.backup_dir) or {}
    for path, reason in metadata.get("rejected", ()):
        print_fn(f"checkpoint {path} is corrupted ({reason}); using the previous one")
    return int(metadata.get("epoch", 0))


def _latest_export(run_dir: RunDir) -> pathlib.Path | None:
    """The newest SavedModel version folder of the run, or `None`."""
    from tfflow.serving.exporter import existing_versions  # the serving code loads late

    versions = existing_versions(run_dir.export_dir)
    return run_dir.export_dir / str(versions[-1]) if versions else None


def _export(
    model: FlowModel, run_dir: RunDir, metadata: dict, print_fn: Callable[[str], None]
) -> pathlib.Path:
    from tfflow.serving import export  # The exporter pulls in the serving code; load it late.

    # TF Serving warm-up requests need the optional tensorflow-serving-api package.
    warmup = importlib.util.find_spec("tensorflow_serving") is not None
    with timed_step(f"exporting SavedModel to {run_dir.export_dir}", print_fn) as step:
        path = export(model, run_dir.export_dir, metadata=metadata, warmup=warmup)
        step["detail"] = f"wrote {path}"
    return path


def train(config: TrainConfig, *, print_fn: Callable[[str], None] = echo) -> TrainResult:
    """Trains a flow as `tfflow train` does, writing every artefact to the run directory.

    Rerunning with the same settings resumes from the last completed epoch (`RUN_DIR/backup`);
    a finished run is not trained further unless `epochs` is raised. Every file is written
    atomically, and the free disk space is checked before training.

    The run directory has one writer at a time: `RUN_DIR/.tfflow.lock` (see `RunDirLock`)
    is held until the run ends, so a second `train` on it fails at once naming the holder.

    Under `strategy="multiworker"` only the chief (see `WorkerRole`) writes the run
    directory; the other workers restore from its checkpoint and write into a scratch folder
    of their own inside it, deleted at the end.

    Args:
        config: The run's settings.
        print_fn: Where progress lines go (Keras' progress bar always goes to stdout).

    Returns:
        The `TrainResult`.

    Raises:
        RunConfigurationError: For settings, data or a run directory that cannot work
            (not writable, or too little free space).
        tfflow.callbacks.AtomicWriteError: If a file cannot be written during the run (e.g.
            the disk filled up); the previous checkpoint is left intact.
        tfflow.data.DatasetUnavailableError: If a TFDS dataset is not prepared offline.
        KeyboardInterrupt: On Ctrl-C; the last completed epoch is kept in `RUN_DIR/backup`.
    """
    run_dir = RunDir(config.run_dir or default_run_dir(config.model, config.dataset))
    config = dataclasses.replace(config, run_dir=str(run_dir.path))
    check_dataset_name(config.dataset)
    role = WorkerRole.for_strategy(config.strategy)
    created = not run_dir.path.exists()
    run_dir.prepare()
    # One writer per run directory: the chief holds its lock until the run ends.
    lock = RunDirLock(run_dir.path) if role.is_chief else None
    if lock is not None:
        stale = lock.acquire()
        if stale:
            print_fn(stale)
    # A non-chief worker writes its own files into a scratch folder, deleted at the end.
    write_dir = run_dir if role.is_chief else RunDir(run_dir.path / role.scratch_name)
    if not role.is_chief:
        shutil.rmtree(write_dir.path, ignore_errors=True)  # left by a killed worker
        write_dir.prepare()
    try:
        result = _train(config, run_dir, write_dir, print_fn)
        if not role.is_chief:
            result.export_path = None  # exported into the scratch folder, deleted below
        return result
    except BaseException:
        if lock is not None:
            lock.release()
        # Leave no empty directory behind when the run failed before writing anything.
        if created and run_dir.path.is_dir() and not any(run_dir.path.iterdir()):
            with contextlib.suppress(OSError):  # another worker may have written meanwhile
                run_dir.path.rmdir()
        raise
    finally:
        if lock is not None:
            lock.release()
        if not role.is_chief:
            shutil.rmtree(write_dir.path, ignore_errors=True)


def _train(
    config: TrainConfig, run_dir: RunDir, write_dir: RunDir, print_fn: Callable[[str], None]
) -> TrainResult:
    """Trains into `write_dir`: `run_dir` itself on the chief, a scratch folder elsewhere."""
    # A multi-worker strategy must exist before TensorFlow runs its first op (data loading).
    strategy = make_strategy(config.strategy)

    with timed_step(f"loading dataset {config.dataset!r}", print_fn) as step:
        arrays = load_run_data(
            config.dataset,
            data_dir=config.data_dir,
            n_bits=config.n_bits,
            num_examples=config.num_examples,
            seed=config.seed,
            label_attribute=config.label_attribute,
        )
        step["detail"] = (
            f"{arrays.num_train} train / {arrays.num_test} test examples of shape "
            f"{arrays.event_shape}"
        )
    config = resolve_config(config, arrays.kind)
    num_classes = conditioning_classes(
        arrays, conditional=config.conditional, label_attribute=config.label_attribute
    )
    resume = _check_same_run(run_dir, config, arrays.kind) and run_dir.has_backup()
    done = _completed_epochs(run_dir, print_fn) if resume else 0
    if resume and done >= config.epochs:
        print_fn(
            f"{run_dir.path} has finished {done} epochs (checkpoint in {run_dir.backup_dir}); "
            "pass a larger --epochs to train further"
        )
    elif resume:
        print_fn(
            f"resuming {run_dir.path} after epoch {done} of {config.epochs} "
            f"(checkpoint in {run_dir.backup_dir})"
        )
    keras.utils.set_random_seed(config.seed)

    with mixed_precision_policy(config.mixed_precision) as policy:
        with strategy.scope():
            model = build_model(config, arrays.event_shape, arrays.kind, num_classes=num_classes)
            jit = default_jit(model) if config.jit is None else config.jit
            model.compile(
                config.optimizer,
                warmup_steps=config.warmup_steps,
                clipnorm=config.clipnorm,
                ema_momentum=config.ema_momentum,
                jit_compile=jit,
            )
        check_free_space(write_dir.path, required_free_bytes(model, export=config.export))
        record = {
            "tfflow_version": __version__,
            "command": "train",
            "args": config.to_dict(),
            "dataset": dataset_record(arrays),
            "model": {
                "class_name": type(model).__name__,
                "input_shape": list(model_input_shape(config.model, arrays.event_shape)),
                "num_parameters": int(model.count_params()),
                "config": model.get_config(),
            },
            "runtime": {"jit_compile": jit, "dtype_policy": policy, "strategy": config.strategy},
            "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        write_dir.write_json(RunDir.CONFIG, record)
        print_fn(
            f"{type(model).__name__} with {record['model']['num_parameters']:,} parameters; "
            f"run directory {run_dir.path}"
        )

        train_data = training_pipeline(
            arrays,
            config.model,
            batch_size=config.batch_size,
            seed=config.seed,
            flip=config.flip,
            labels=config.conditional,
        )
        steps_per_epoch = training_steps(
            arrays, batch_size=config.batch_size, steps_per_epoch=config.steps_per_epoch
        )
        if steps_per_epoch is not None:
            train_data = train_data.repeat()
        # A resumed run continues the data stream where the checkpoint left it.
        train_data, steps_per_epoch = skip_trained_epochs(
            train_data, min(done, config.epochs), steps_per_epoch
        )
        test_data = evaluation_pipeline(
            arrays,
            config.model,
            batch_size=config.batch_size,
            seed=config.seed,
            labels=config.conditional,
        )
        reference = arrays.test[:_REFERENCE_POINTS] if arrays.kind == "tabular" else None
        title = f"{config.model} on {arrays.name}"

        def render(trained: keras.Model) -> np.ndarray:
            return render_samples(
                trained,
                data_shape=arrays.event_shape,
                kind=arrays.kind,
                n_bits=arrays.n_bits,
                num=config.num_samples,
                temperature=config.sample_temperature,
                seed=config.seed,
                reference=reference,
                title=title,
            )

        callbacks = make_callbacks(
            write_dir,
            render,
            resume=resume,
            verbose=config.verbose,
            title=title,
            restore_dir=run_dir.backup_dir,
        )
        model.initialize_from(
            initialization_pipeline(
                arrays, config.model, batch_size=config.batch_size, seed=config.seed
            ),
            init_examples=config.init_examples,
        )
        history = model.fit(
            train_data,
            epochs=config.epochs,
            steps_per_epoch=steps_per_epoch,
            validation_data=test_data,
            callbacks=callbacks,
            verbose=config.verbose,
            shuffle=False,  # the pipeline shuffles; Keras cannot shuffle a tf.data.Dataset
        )
        with atomic_path(write_dir.model_path) as tmp:
            model.save(tmp)

        evaluation = evaluate_bits_per_dim(model, test_data)
        evaluation.update({"dataset": arrays.name, "split": "test", "epochs": config.epochs})
        write_dir.write_json(RunDir.EVALUATION, evaluation)
        print_fn(
            f"test bits/dim: {evaluation['bits_per_dim']:.4f} "
            f"({evaluation['num_examples']} examples of {arrays.name})"
        )
        export_path = None
        trained_now = bool(history.history.get("loss"))
        if config.export and not trained_now and _latest_export(write_dir) is not None:
            export_path = _latest_export(write_dir)
            print_fn(f"no new epochs; keeping the SavedModel in {export_path}")
        elif config.export:
            metadata = {
                "dataset": arrays.name,
                "test_bits_per_dim": evaluation["bits_per_dim"],
                "test_log_prob": -evaluation["nll_nats"],
                "command": config.command_line(),
                "run_dir": str(run_dir.path),
                "epochs": config.epochs,
            }
            export_path = _export(model, write_dir, metadata, print_fn)
    return TrainResult(
        run_dir=run_dir,
        model=model,
        config=config,
        history=dict(history.history),
        evaluation=evaluation,
        export_path=export_path,
    )
