"""FusedAdam, compile()'s default optimizer, where it is the default: under mixed precision
(with Keras' loss scaling) and on more than one replica."""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import tfflow
from tfflow.optimizers import FusedAdam

WORKER = Path(__file__).with_name("mirrored_adam_worker.py")


def _train(optimizer, start, data, steps):
    model = tfflow.RealNVP((4,), coupling_layers=2, hidden_units=16)
    model.set_weights(start)
    model.compile(optimizer=optimizer, jit_compile=False)
    history = model.fit(data, batch_size=32, epochs=steps, shuffle=False, verbose=0, guard=False)
    return model, history.history["loss"]


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_fused_adam_matches_keras_adam_under_mixed_precision(policy):
    keras.mixed_precision.set_global_policy(policy)
    data = np.random.RandomState(0).normal(size=(32, 4)).astype("float32")
    start = tfflow.RealNVP((4,), coupling_layers=2, hidden_units=16).get_weights()
    # One step: equal gradients in, equal weights out (to float32 rounding).
    fused, _ = _train(FusedAdam(1e-2), start, data, steps=1)
    reference, _ = _train(keras.optimizers.Adam(1e-2), start, data, steps=1)
    if policy == "mixed_float16":  # Keras wraps both in its dynamic loss scaling
        assert isinstance(fused.optimizer, keras.optimizers.LossScaleOptimizer)
        assert isinstance(fused.optimizer.inner_optimizer, FusedAdam)
    moved = max(np.max(np.abs(w - s)) for w, s in zip(fused.get_weights(), start, strict=True))
    assert moved > 1e-3
    for a, b in zip(fused.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # Many steps: half-precision conditioners amplify last-bit differences in the weights,
    # so the runs agree in loss, not bit for bit.
    _, fused_losses = _train(FusedAdam(1e-2), start, data, steps=30)
    _, reference_losses = _train(keras.optimizers.Adam(1e-2), start, data, steps=30)
    assert fused_losses[-1] < fused_losses[0] - 0.1
    np.testing.assert_allclose(fused_losses, reference_losses, rtol=1e-2)


def test_fused_adam_and_dequantization_under_mirrored_strategy(tmp_path):
    out = tmp_path / "report.json"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("TF_CONFIG", None)
    subprocess.run(
        [sys.executable, str(WORKER), str(out)],
        check=True,
        timeout=300,
        env=env,
        capture_output=True,
    )
    report = json.loads(out.read_text())
    assert report["replicas"] == 2
    assert report["max_weight_change"] > 1e-3
    assert report["max_weight_difference"] < 1e-5
    assert report["noise_in_range"] and report["noise_differs_across_replicas"]
