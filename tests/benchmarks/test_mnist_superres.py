"""Smoke test of benchmarks/mnist_superres.py on synthetic images (no MNIST, no timing checks)."""

from __future__ import annotations

import json
import math
import os
import sys

import numpy as np

BENCHMARKS = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "benchmarks"
)
if BENCHMARKS not in sys.path:
    sys.path.insert(0, BENCHMARKS)

import mnist_superres  # noqa: E402


def test_low_resolution_is_the_two_by_two_mean_over_255():
    image = np.array([[0, 2, 4, 6], [2, 4, 6, 8], [255, 255, 0, 0], [255, 255, 0, 255]], np.uint8)
    low = mnist_superres.low_resolution(image[None, :, :, None])
    expected = np.array([[2.0, 6.0], [255.0, 63.75]]) / 255.0
    np.testing.assert_allclose(low[0, :, :, 0], expected, rtol=1e-6)
    assert low.shape == (1, 2, 2, 1)
    assert low.dtype == np.float32


def test_main_trains_both_models_interleaved_and_writes_json_and_figure(tmp_path):
    out, figure = tmp_path / "superres.json", tmp_path / "superres.png"
    argv = ["--data", "synthetic", "--steps", "2", "--chunk", "1", "--batch-size", "8"]
    argv += ["--steps-per-level", "1", "--hidden-channels", "4"]
    argv += ["--out", str(out), "--figure", str(figure)]
    assert mnist_superres.main(argv) == 0
    record = json.loads(out.read_text())
    results = record["results"]
    assert set(results) == {"unconditional", "conditional"}
    for result in results.values():
        assert result["steps"] == 2
        assert len(result["loss"]) == 2  # one entry per turn: the models alternated
        assert math.isfinite(result["test_bpd"])
    conditional, unconditional = results["conditional"], results["unconditional"]
    assert unconditional["encoder_params"] == 0
    assert conditional["encoder_params"] > 0
    assert conditional["params"] > unconditional["params"] + conditional["encoder_params"] - 1
    assert record["test_images"] == 16
    assert figure.stat().st_size > 0
