"""Measured accuracy of every tfflow bijector: round-trip and log-det errors.

Uses the contract suite's cases (tests/bijectors/bijector_cases.py) with randomised weights:
max relative round-trip error in float32 and float64, and the max absolute difference between
`forward_log_det_jacobian` and `log|det J|` of the autodiff Jacobian (float64).

    python benchmarks/bijector_accuracy.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "bijectors"))

import keras  # noqa: E402
from bijector_cases import CASES  # noqa: E402
from flow_asserts import (  # noqa: E402
    assert_bijective,
    assert_log_det_matches_autodiff,
    randomize_weights,
)

from tfflow.bijectors import collect_keras_layers  # noqa: E402


def measure(name: str, dtype: str):
    keras.config.set_floatx(dtype)
    keras.mixed_precision.set_global_policy(dtype)
    case = CASES[name]
    bijector = case.make()
    x = case.sample((8,), dtype, seed=0)
    bijector.forward(x)
    randomize_weights(collect_keras_layers(bijector), seed=1)
    round_trip = max(assert_bijective(bijector, x, 1.0))
    log_det = None
    if dtype == "float64":
        log_det = assert_log_det_matches_autodiff(bijector, x, len(case.event_shape), 1.0)
    return round_trip, log_det


def main() -> None:
    print("| bijector | round trip f32 (rel) | round trip f64 (rel) | log-det vs autodiff f64 |")
    print("|---|---|---|---|")
    for name in sorted(CASES):
        rt32, _ = measure(name, "float32")
        rt64, ld = measure(name, "float64")
        print(f"| {name} | {rt32:.1e} | {rt64:.1e} | {ld:.1e} |")


if __name__ == "__main__":
    main()
