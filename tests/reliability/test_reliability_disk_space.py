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


def _small(**adam):
    """Dense(4 -> 2) + BatchNorm(2), counted by hand.

    Weights: kernel 4x2 + bias 2 + gamma, beta, moving mean, moving variance 4 x 2 = 18
    float32 = 72 bytes, of which 14 trainable (56 bytes).
    """
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(2), keras.layers.BatchNormalization()]
    )
    model.compile(optimizer=keras.optimizers.Adam(**adam), loss="mse")
    return model


def test_checkpoint_estimate_by_hand():
    model = _small()
    assert checkpoint_bytes(model) == 72 + 2 * 56  # Adam, not built: two slots per weight
    model.optimizer.build(model.trainable_variables)
    # Built: the two slots, an int64 iteration counter and a float32 learning rate.
    assert checkpoint_bytes(model) == 72 + 2 * 56 + 8 + 4
    assert checkpoint_bytes(keras.Sequential([keras.Input((3,)), keras.layers.Dense(5)])) == 80


def test_ema_counts_a_third_slot_by_hand():
    model = _small(use_ema=True)
    assert checkpoint_bytes(model) == 72 + 3 * 56
    model.optimizer.build(model.trainable_variables)
    assert checkpoint_bytes(model) == 72 + 3 * 56 + 8 + 4


def test_unbuilt_estimate_matches_the_optimizer_tfflow_builds():
    """The estimate before the first step agrees with the state the optimizer then allocates.

    NICE((8,), 2 couplings, MLP 4 -> 8 -> 4) has 2 x (32 + 8 + 32 + 4) + 8 (scaling) = 160
    trainable float32 (640 bytes): the EMA copy adds exactly that. FlowModel's optimizer has a
    learning-rate schedule, so once built it holds its slots and an int64 iteration counter.
    """
    estimates = {}
    for ema in (None, 0.99):
        model = tfflow.NICE((8,), coupling_layers=2, hidden_layers=1, hidden_units=8)
        model.compile(**({"ema_momentum": ema} if ema else {}))
        estimates[ema] = checkpoint_bytes(model)
        model.optimizer.build(model.trainable_variables)
        assert checkpoint_bytes(model) == estimates[ema] + 8, ema
    assert estimates[0.99] - estimates[None] == 640


def test_checkpoint_estimate_covers_the_real_checkpoint(tmp_path):
    model = _glow()
    model.optimizer.build(model.trainable_variables)
    built = checkpoint_bytes(model)
    model.save_weights(tmp_path / "real.weights.h5")
    size = (tmp_path / "real.weights.h5").stat().st_size
    assert built <= size <= built + 256 * 1024  # plus HDF5 bookkeeping, counted in the margin


def test_required_space_is_three_checkpoints_an_export_and_a_margin():
    model = _small()
    assert OTHER_FILES_BYTES == 8 * 2**20
    # Three checkpoints of 184 bytes, an export of the 72 bytes of weights, and 8 MiB.
    assert required_free_bytes(model) == 3 * 184 + 72 + 8 * 2**20
    assert required_free_bytes(model, export=False) == 3 * 184 + 8 * 2**20


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
