"""The free-space estimate behind the pre-training disk check."""

import collections
import shutil

import keras
import pytest

import tfflow
from tfflow.training import RunConfigurationError
from tfflow.training.disk_space import (
    OTHER_FILES_BYTES,
    check_free_space,
    checkpoint_bytes,
    required_free_bytes,
)

_Usage = collections.namedtuple("_Usage", "total used free")


def _glow():
    model = tfflow.Glow((8, 8, 1), levels=2, steps_per_level=2, hidden_channels=16)
    model.compile()
    return model


def test_checkpoint_estimate_covers_the_real_checkpoint(tmp_path):
    model = _glow()
    weights = sum(v.numpy().nbytes for v in model.weights)
    trainable = sum(v.numpy().nbytes for v in model.trainable_weights)
    assert checkpoint_bytes(model) == weights + 2 * trainable  # Adam: two slots, not built
    model.optimizer.build(model.trainable_variables)
    built = checkpoint_bytes(model)
    assert built == weights + sum(v.numpy().nbytes for v in model.optimizer.variables)
    model.save_weights(tmp_path / "real.weights.h5")
    size = (tmp_path / "real.weights.h5").stat().st_size
    assert built <= size <= built + 256 * 1024  # plus HDF5 bookkeeping, counted in the margin


def test_required_space_is_three_checkpoints_an_export_and_a_margin():
    model = _glow()
    weights = sum(v.numpy().nbytes for v in model.weights)
    expected = 3 * checkpoint_bytes(model) + weights + OTHER_FILES_BYTES
    assert required_free_bytes(model) == expected
    assert required_free_bytes(model, export=False) == expected - weights


def test_ema_counts_a_third_slot():
    model = tfflow.NICE((8,), coupling_layers=2, hidden_layers=1, hidden_units=8)
    model.compile(ema_momentum=0.99)
    weights = sum(v.numpy().nbytes for v in model.weights)
    trainable = sum(v.numpy().nbytes for v in model.trainable_weights)
    assert checkpoint_bytes(model) == weights + 3 * trainable


@pytest.mark.parametrize("free, ok", [(10 * 2**20, True), (10 * 2**20 - 1, False)])
def test_check_free_space_boundary(tmp_path, monkeypatch, free, ok):
    monkeypatch.setattr(shutil, "disk_usage", lambda path: _Usage(2**40, 2**40 - free, free))
    if ok:
        assert check_free_space(tmp_path, 10 * 2**20) == free
    else:
        with pytest.raises(RunConfigurationError, match=r"10\.0 MiB free, about 10\.0 MiB"):
            check_free_space(tmp_path, 10 * 2**20)


def test_check_free_space_on_this_disk(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    assert check_free_space(tmp_path, required_free_bytes(model, export=False)) > 0
