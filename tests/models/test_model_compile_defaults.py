"""What `compile()` + `fit()` trace: the default `jit_compile` (XLA where it was measured
faster, see `FlowModel.default_jit_compile`), a first `fit` under it, and one trace of the
train step."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import tfflow
from tfflow.models import cpu_kind, recipe
from tfflow.training import default_jit

pytestmark = pytest.mark.skipif(
    bool(tf.config.list_logical_devices("GPU")), reason="the CPU defaults are tested"
)


@pytest.fixture
def intel_cpu(monkeypatch):
    """The CPU family where XLA was measured faster for vector models (not AMD)."""
    monkeypatch.setattr(recipe, "xla_pays_for_vector_models_on_cpu", lambda: True)


def _vector_models():
    return [
        tfflow.NICE((6,), hidden_layers=1, hidden_units=8),
        tfflow.RealNVP((6,), coupling_layers=2, hidden_units=8, hidden_layers=1),
    ]


def test_vector_models_compile_with_xla_on_cpu(intel_cpu):
    for model in _vector_models():
        model.compile()
        assert model.jit_compile is True, type(model).__name__
        assert default_jit(model) is True


def test_vector_models_compile_without_xla_on_amd_cpus(monkeypatch):
    monkeypatch.setattr(cpu_kind, "cpu_vendor", lambda: "AuthenticAMD")
    for model in _vector_models():
        model.compile()
        assert model.jit_compile is False, type(model).__name__


@pytest.mark.parametrize(
    "text, vendor",
    [
        ("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n", "AuthenticAMD"),
        ("processor\t: 0\nvendor_id\t: GenuineIntel\n", "GenuineIntel"),
        ("processor\t: 0\n", ""),
    ],
)
def test_cpu_vendor_reads_cpuinfo(tmp_path, text, vendor):
    path = tmp_path / "cpuinfo"
    path.write_text(text)
    assert cpu_kind.cpu_vendor(str(path)) == vendor
    assert cpu_kind.cpu_vendor(str(tmp_path / "missing")) == ""


def test_image_models_compile_without_xla_on_cpu():
    model = tfflow.Glow((4, 4, 1), levels=1, steps_per_level=1, hidden_channels=4)
    model.compile()
    assert model.jit_compile is False
    assert default_jit(model) is False and default_jit() is False


def test_an_explicit_jit_compile_wins():
    model = tfflow.RealNVP((6,), coupling_layers=2, hidden_units=8, hidden_layers=1)
    model.compile(jit_compile=False)
    assert model.jit_compile is False


def test_no_default_xla_inside_a_distribution_strategy():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        model = tfflow.RealNVP((6,), coupling_layers=2, hidden_units=8, hidden_layers=1)
        assert model.default_jit_compile() is False
        model.compile()
    assert model.jit_compile is False


def test_first_fit_under_the_xla_default_learns(intel_cpu):
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(512, 6)) * [1, 2, 3, 0.5, 1, 1] + 3).astype("float32")
    model = tfflow.RealNVP((6,), coupling_layers=2, hidden_units=16, hidden_layers=1)
    model.compile(learning_rate=1e-2, warmup_steps=0)
    assert model.jit_compile is True
    before = float(np.mean(model.log_prob(x).numpy()))
    history = model.fit(x, batch_size=64, epochs=5, verbose=0)
    after = float(np.mean(model.log_prob(x).numpy()))
    assert np.all(np.isfinite(history.history["loss"]))
    assert after > before + 1.0  # nats per example


def test_fit_traces_the_train_step_once():
    """`fit` builds the optimizer before the first trace: creating its variables inside the
    trace would make `tf.function` trace the whole step twice and keep both graphs."""
    model = tfflow.Glow((4, 4, 1), levels=1, steps_per_level=1, hidden_channels=4)
    model.compile()
    traces = []
    train_step = model.train_step

    def counting_train_step(data):
        traces.append(1)  # Python runs once per trace
        return train_step(data)

    model.train_step = counting_train_step
    x = np.random.default_rng(0).uniform(0, 255.9, size=(32, 4, 4, 1)).astype("float32")
    model.fit(x, batch_size=16, epochs=2, verbose=0)
    assert model.optimizer.built
    assert len(traces) == 1
