"""Checkpoints and run-directory files survive a crash or a full disk in the middle of a write.

Each fault is also run against what tfflow used before (Keras' own `BackupAndRestore`) where
that shows the fault is real: the same torn write leaves Keras' checkpoint unreadable.
"""

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from checkpoint_faults import PartialWrite, tiny_data, tiny_glow

from tfflow.callbacks import (
    AtomicBackupAndRestore,
    AtomicCSVLogger,
    AtomicWriteError,
    atomic_files,
    atomic_path,
    atomic_write_text,
)
from tfflow.training import RunDir, plot_training_curve, write_png

FAULTS = Path(__file__).with_name("checkpoint_faults.py")


def _weights(model) -> list[np.ndarray]:
    return [v.numpy().copy() for v in model.weights]


def _assert_same_weights(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def _train_one_epoch(backup: Path):
    model = tiny_glow()
    model.fit(
        tiny_data(),
        batch_size=32,
        epochs=1,
        verbose=0,
        callbacks=[AtomicBackupAndRestore(backup, delete_checkpoint=False)],
    )
    return model


def test_torn_checkpoint_write_keeps_previous_checkpoint_and_resumes(tmp_path):
    backup = tmp_path / "backup"
    model = _train_one_epoch(backup)
    after_epoch_1 = _weights(model)
    weights_file = backup / AtomicBackupAndRestore.WEIGHTS
    committed_bytes = weights_file.read_bytes()

    # Epoch 2's checkpoint write tears half-way and fails with ENOSPC.
    model.save_weights = PartialWrite(model.save_weights, after=0)
    callback = AtomicBackupAndRestore(backup, delete_checkpoint=False)
    with pytest.raises(AtomicWriteError) as info:
        model.fit(tiny_data(), batch_size=32, epochs=3, verbose=0, callbacks=[callback])
    message = str(info.value)
    assert "No space left on device" in message, message
    assert "the last checkpoint (epoch 1) is intact" in message, message
    assert info.value.errno == errno.ENOSPC
    assert model.save_weights.calls == 1

    # The previous checkpoint is byte for byte what it was; no temporary file is left.
    assert weights_file.read_bytes() == committed_bytes
    assert sorted(p.name for p in backup.iterdir()) == [
        "latest.weights.h5",
        "training_metadata.json",
    ]
    assert AtomicBackupAndRestore.read_metadata(backup)["epoch"] == 1

    # A fresh process-equivalent (new model, new callback) resumes from epoch 1's weights.
    resumed = tiny_glow()
    restore = AtomicBackupAndRestore(backup, delete_checkpoint=False)
    history = resumed.fit(tiny_data(), batch_size=32, epochs=1, verbose=0, callbacks=[restore])
    assert history.history == {}  # epoch 1 of 1 is already done: nothing to train
    _assert_same_weights(_weights(resumed), after_epoch_1)
    history = resumed.fit(tiny_data(), batch_size=32, epochs=3, verbose=0, callbacks=[restore])
    assert len(history.history["loss"]) == 2 and np.all(np.isfinite(history.history["loss"]))
    assert AtomicBackupAndRestore.read_metadata(backup)["epoch"] == 3


def test_same_torn_write_corrupts_keras_backup_and_restore(tmp_path):
    """The control: Keras' callback writes in place, so the same fault loses the run."""
    backup = tmp_path / "backup"
    model = tiny_glow()
    callback = keras.callbacks.BackupAndRestore(str(backup), delete_checkpoint=False)
    model.fit(tiny_data(), batch_size=32, epochs=1, verbose=0, callbacks=[callback])
    model.save_weights = PartialWrite(model.save_weights, after=0)
    with pytest.raises(OSError):
        model.fit(tiny_data(), batch_size=32, epochs=3, verbose=0, callbacks=[callback])
    with pytest.raises(OSError):  # the torn HDF5 file cannot be restored
        tiny_glow().fit(
            tiny_data(),
            batch_size=32,
            epochs=3,
            verbose=0,
            callbacks=[keras.callbacks.BackupAndRestore(str(backup), delete_checkpoint=False)],
        )


@pytest.mark.parametrize(
    "kind, restorable",
    [("atomic", True), pytest.param("keras", False, marks=pytest.mark.slow)],
)
def test_sigkill_during_checkpoint_write(tmp_path, kind, restorable):
    """A real kill (-9) of a training process in the middle of writing its checkpoint."""
    backup = tmp_path / "backup"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    env["PYTHONPATH"] = os.pathsep.join([str(FAULTS.parent), env.get("PYTHONPATH", "")])
    process = subprocess.run(
        [sys.executable, str(FAULTS), str(backup), kind],
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert process.returncode == -9, process.stderr.decode()[-2000:]
    assert not (backup / "not-killed.npy").exists()
    resumed = tiny_glow()
    restore = (
        AtomicBackupAndRestore(backup, delete_checkpoint=False)
        if kind == "atomic"
        else keras.callbacks.BackupAndRestore(str(backup), delete_checkpoint=False)
    )
    if not restorable:
        with pytest.raises(OSError):
            resumed.fit(tiny_data(), batch_size=32, epochs=3, verbose=0, callbacks=[restore])
        return
    assert AtomicBackupAndRestore.read_metadata(backup)["epoch"] == 1
    history = resumed.fit(tiny_data(), batch_size=32, epochs=3, verbose=0, callbacks=[restore])
    assert len(history.history["loss"]) == 2  # epochs 2 and 3: resumed after epoch 1
    assert np.all(np.isfinite(history.history["loss"]))
    assert atomic_files.temporary_files(backup) == []  # the torn temporary file is cleaned up


def test_weights_file_wins_over_stale_metadata_json(tmp_path):
    """A kill between the weights rename (the commit) and the JSON copy's rename."""
    backup = tmp_path / "backup"
    model = tiny_glow()
    callback = AtomicBackupAndRestore(backup, delete_checkpoint=False)
    model.fit(tiny_data(), batch_size=32, epochs=2, verbose=0, callbacks=[callback])
    (backup / "training_metadata.json").write_text(json.dumps({"epoch": 1, "batch": 0}))
    assert AtomicBackupAndRestore.read_metadata(backup)["epoch"] == 2
    resumed = tiny_glow()
    restore = AtomicBackupAndRestore(backup, delete_checkpoint=False)
    history = resumed.fit(tiny_data(), batch_size=32, epochs=3, verbose=0, callbacks=[restore])
    assert len(history.history["loss"]) == 1  # only epoch 3: the weights are epoch 2's
    assert json.loads((backup / "training_metadata.json").read_text())["epoch"] == 3


def test_restores_a_folder_written_by_keras_backup_and_restore(tmp_path):
    backup = tmp_path / "backup"
    model = tiny_glow()
    keras_callback = keras.callbacks.BackupAndRestore(str(backup), delete_checkpoint=False)
    model.fit(tiny_data(), batch_size=32, epochs=1, verbose=0, callbacks=[keras_callback])
    resumed = tiny_glow()
    restore = AtomicBackupAndRestore(backup, delete_checkpoint=False)
    resumed.fit(tiny_data(), batch_size=32, epochs=1, verbose=0, callbacks=[restore])
    _assert_same_weights(_weights(resumed), _weights(model))
    assert AtomicBackupAndRestore.read_metadata(backup)["epoch"] == 1


# ----- every other run-directory file ------------------------------------------------------------


def _tear_then_fail(tmp):
    """Replaces the fsync of `atomic_path`: tears the finished temporary file, then ENOSPC."""
    size = os.path.getsize(tmp)
    with open(tmp, "r+b") as handle:
        handle.truncate(size // 2)
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))


def _write_json(path: Path, version: int) -> None:
    RunDir(path.parent).write_json(path.name, {"version": version, "pad": "x" * 1000})


def _write_png(path: Path, version: int) -> None:
    write_png(np.full((8, 8, 3), version * 40, np.uint8), path)


def _write_curve(path: Path, version: int) -> None:
    metrics = path.with_name("metrics-source.csv")
    rows = "".join(f"{e},{5.0 - e / 10 - version}\n" for e in range(3))
    metrics.write_text("epoch,bits_per_dim\n" + rows)
    plot_training_curve(metrics, path)


def _write_csv(path: Path, version: int) -> None:
    logger = AtomicCSVLogger(path, append=True)
    logger.on_train_begin()
    logger.on_epoch_end(version, {"loss": float(version), "bits_per_dim": 1.5 * version})


def _write_model_keras(path: Path, version: int) -> None:
    model = tiny_glow()
    model.weights[-1].assign(np.full(model.weights[-1].shape, float(version)))
    with atomic_path(path) as tmp:
        model.save(tmp)


def _read(path: Path):
    if path.suffix == ".keras":
        return keras.models.load_model(path).weights[-1].numpy()
    return path.read_bytes()


@pytest.mark.parametrize(
    "name, write",
    [
        ("config.json", _write_json),
        ("epoch_001.png", _write_png),
        ("training_curve.png", _write_curve),
        ("metrics.csv", _write_csv),
        ("model.keras", _write_model_keras),
    ],
)
def test_run_dir_file_survives_a_torn_write(tmp_path, monkeypatch, name, write):
    path = tmp_path / name
    write(path, 1)
    before = _read(path)
    monkeypatch.setattr(atomic_files, "fsync_file", _tear_then_fail)
    with pytest.raises(AtomicWriteError, match="No space left on device.*previous version is"):
        write(path, 2)
    monkeypatch.undo()
    after = _read(path)
    np.testing.assert_array_equal(np.asarray(after), np.asarray(before))
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    write(path, 3)  # and the next write works
    assert not np.array_equal(np.asarray(_read(path)), np.asarray(before))


def test_atomic_write_of_a_new_file_failing_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic_files, "fsync_file", _tear_then_fail)
    with pytest.raises(AtomicWriteError, match="nothing was written"):
        atomic_write_text(tmp_path / "evaluation.json", "{}")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_cleans_up_on_keyboard_interrupt(tmp_path):
    target = tmp_path / "model.keras"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]


def test_csv_logger_keeps_earlier_rows_and_replaces_retrained_epochs(tmp_path):
    path = tmp_path / "metrics.csv"
    for epoch in range(3):
        _write_csv(path, epoch)
    # Resumed from a checkpoint after epoch 1: epoch 1 is trained again.
    _write_csv(path, 1)
    rows = path.read_text().splitlines()
    assert rows[0] == "epoch,bits_per_dim,loss,val_bits_per_dim,val_loss"
    assert [row.split(",")[0] for row in rows[1:]] == ["0", "1"]


def test_atomic_writes_get_the_mode_of_a_plain_open(tmp_path):
    from tfflow.callbacks.atomic_files import atomic_write_text

    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    target = atomic_write_text(tmp_path / "atomic.txt", "y")
    assert target.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777
    os.chmod(target, 0o640)
    atomic_write_text(target, "z")
    assert target.stat().st_mode & 0o777 == 0o640
