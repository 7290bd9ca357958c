"""`tfflow.serving` export versioning, atomic writes and error messages."""

from __future__ import annotations

import json
import os

import pytest
import tensorflow as tf
from fs_faults import read_only_dir

import tfflow
from tfflow.serving import existing_versions, exporter, next_version


@pytest.fixture(scope="module")
def model() -> tfflow.RealNVP:
    return tfflow.RealNVP((2,), coupling_layers=2, hidden_units=4)


def _entries(path) -> list[str]:
    return sorted(os.listdir(path))


def test_versions_count_up_from_one(model, tmp_path):
    base = tmp_path / "flow"
    first = tfflow.export(model, base)
    second = tfflow.export(model, base)
    assert (first, second) == (base / "1", base / "2")
    assert _entries(base) == ["1", "2"]
    assert (second / "saved_model.pb").is_file()
    assert (second / "variables").is_dir()
    assert (second / "assets.extra" / "tfflow_model.json").is_file()
    if exporter.serving_api_available():
        assert (second / "assets.extra" / "tf_serving_warmup_requests").is_file()


def test_next_version_follows_the_highest_integer_folder(model, tmp_path):
    for name in ("3", "10", "latest", ".tmp-11-abcd"):
        (tmp_path / name).mkdir()
    (tmp_path / "12").write_text("a file, not a version")
    assert existing_versions(tmp_path) == [3, 10]
    assert next_version(tmp_path) == 11
    assert tfflow.export(model, tmp_path).name == "11"
    assert next_version(tmp_path / "missing") == 1


def test_explicit_version(model, tmp_path):
    assert tfflow.export(model, tmp_path, 7).name == "7"
    assert tfflow.export(model, tmp_path).name == "8"


def test_existing_version_is_never_overwritten(model, tmp_path):
    tfflow.export(model, tmp_path, 1, metadata={"dataset": "first"})
    with pytest.raises(FileExistsError, match=f"{tmp_path / '1'}"):
        tfflow.export(model, tmp_path, 1, metadata={"dataset": "second"})
    card = json.loads((tmp_path / "1/assets.extra/tfflow_model.json").read_text())
    assert card["training_dataset"] == "first"
    assert _entries(tmp_path) == ["1"]


@pytest.mark.parametrize("stage", ["write_model_card", "write_warmup_requests", "save"])
def test_failure_halfway_leaves_no_version_folder(model, tmp_path, monkeypatch, stage):
    def fail(*args, **kwargs):
        # Files are already on disk by now (for `save`: fail after saving).
        if stage == "save":
            real_save(*args, **kwargs)
            assert os.listdir(args[1])
        raise RuntimeError("simulated crash")

    real_save = tf.saved_model.save
    if stage == "save":
        monkeypatch.setattr(exporter.tf.saved_model, "save", fail)
    else:
        monkeypatch.setattr(exporter, stage, fail)
    with pytest.raises(RuntimeError, match="simulated crash"):
        tfflow.export(model, tmp_path, warmup=True)
    assert _entries(tmp_path) == []
    monkeypatch.undo()
    assert tfflow.export(model, tmp_path).name == "1"


def test_interrupt_also_cleans_up(model, tmp_path, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(exporter, "write_model_card", interrupt)
    with pytest.raises(KeyboardInterrupt):
        tfflow.export(model, tmp_path)
    assert _entries(tmp_path) == []


def test_version_appearing_during_export_is_not_replaced(model, tmp_path, monkeypatch):
    real_write = exporter.write_model_card

    def racing_writer(card, directory):
        (tmp_path / "1").mkdir()  # another exporter won the race (an empty folder)
        return real_write(card, directory)

    monkeypatch.setattr(exporter, "write_model_card", racing_writer)
    with pytest.raises(FileExistsError, match="appeared during the export"):
        tfflow.export(model, tmp_path, 1)
    assert _entries(tmp_path) == ["1"]
    assert _entries(tmp_path / "1") == []


def test_export_dir_that_is_a_file(model, tmp_path):
    target = tmp_path / "flow"
    target.write_text("not a folder")
    with pytest.raises(NotADirectoryError, match=str(target)):
        tfflow.export(model, target)


def test_export_dir_under_a_file_names_the_path(model, tmp_path):
    (tmp_path / "file").write_text("")
    target = tmp_path / "file" / "flow"
    with pytest.raises(OSError, match=str(target)):
        tfflow.export(model, target)


def test_unwritable_export_dir_names_the_path(model, tmp_path, monkeypatch):
    # Root ignores permission bits, so simulate the access check failing.
    monkeypatch.setattr(exporter.os, "access", lambda path, mode: False)
    with pytest.raises(PermissionError, match=str(tmp_path)):
        tfflow.export(model, tmp_path)
    assert _entries(tmp_path) == []


def test_read_only_export_dir(model, tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    with read_only_dir(base):  # a read-only bind mount as root (CI), mode 0500 otherwise
        with pytest.raises(PermissionError, match=f"{base}.* is not writable"):
            tfflow.export(model, base)
        with pytest.raises(OSError, match=str(base / "flow")):
            tfflow.export(model, base / "flow")
        assert _entries(base) == []


@pytest.mark.parametrize("version", [-1, 1.5, "2", True])
def test_invalid_version(model, tmp_path, version):
    with pytest.raises(ValueError, match="`version` must be a non-negative integer"):
        tfflow.export(model, tmp_path, version)
    assert _entries(tmp_path) == []


def test_metadata_must_be_json(model, tmp_path):
    with pytest.raises(TypeError, match="`metadata` must be JSON-serialisable"):
        tfflow.export(model, tmp_path, metadata={"when": object()})
    with pytest.raises(TypeError, match="`metadata` must be a mapping"):
        tfflow.export(model, tmp_path, metadata=[("a", 1)])
    assert _entries(tmp_path) == []


def test_metadata_in_model_card(model, tmp_path):
    metadata = {"dataset": "moons", "test_log_prob": -1.5, "test_bits_per_dim": 1.08, "n": 3}
    version_dir = tfflow.export(model, tmp_path, metadata=metadata)
    card = tfflow.load_served(version_dir).card
    assert card["metadata"] == metadata
    assert card["training_dataset"] == "moons"
    assert card["test_log_prob"] == -1.5 and card["test_bits_per_dim"] == 1.08


def test_not_a_flow_model(tmp_path):
    with pytest.raises(TypeError, match="FlowModel"):
        tfflow.export(tf.Module(), tmp_path)


def test_without_warmup(model, tmp_path):
    version_dir = tfflow.export(model, tmp_path, warmup=False)
    assert _entries(version_dir / "assets.extra") == ["tfflow_model.json"]


def test_missing_serving_api_warns_and_skips_warmup(model, tmp_path, monkeypatch):
    monkeypatch.setattr(exporter, "serving_api_available", lambda: False)
    with pytest.warns(UserWarning, match="tensorflow-serving-api"):
        version_dir = tfflow.export(model, tmp_path)
    assert not (version_dir / "assets.extra" / "tf_serving_warmup_requests").exists()


def test_class_conditional_models_export_with_labels(tmp_path):
    conditional = tfflow.RealNVP((2,), coupling_layers=2, hidden_units=4, num_classes=3)
    version_dir = tfflow.export(conditional, tmp_path, warmup=False)
    card = json.loads((version_dir / "assets.extra" / "tfflow_model.json").read_text())
    assert card["num_classes"] == 3
    assert all("labels" in sig["inputs"] for sig in card["signatures"].values())
