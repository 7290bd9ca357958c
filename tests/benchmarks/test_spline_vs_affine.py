"""`benchmarks/spline_vs_affine.py`: the two models it compares have equal parameter counts."""

from __future__ import annotations

import os
import sys

import pytest

import tfflow
from tfflow.bijectors import collect_keras_layers

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "benchmarks")
if BENCHMARKS not in sys.path:
    sys.path.insert(0, BENCHMARKS)

import spline_vs_affine  # noqa: E402


def _parameters(model) -> int:
    for layer in collect_keras_layers(model.flow):
        if not layer.built:  # the MLP conditioners, on the halves they condition on
            layer.build((None, model.data_shape[0] // 2))
    return sum(int(v.shape.num_elements()) for v in model.trainable_variables)


@pytest.mark.parametrize("dim, hidden, layers, bins", [(64, 32, 2, 8)])
def test_matched_spline_width_is_the_closest_parameter_count(dim, hidden, layers, bins):
    width = spline_vs_affine.matched_spline_width(dim, hidden, layers, bins)
    common = {"coupling_layers": 2, "hidden_layers": layers, "num_bins": bins}
    n_affine = _parameters(tfflow.RealNVP((dim,), hidden_units=hidden, **common))
    gaps = {
        w: abs(
            _parameters(tfflow.RealNVP((dim,), hidden_units=w, coupling="spline", **common))
            - n_affine
        )
        for w in (width - 1, width, width + 1)
    }
    assert width < hidden  # 3K - 1 outputs per element instead of 2: a narrower MLP
    assert gaps[width] < min(gaps[width - 1], gaps[width + 1]), gaps
