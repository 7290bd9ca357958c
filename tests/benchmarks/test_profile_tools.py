"""The profiler's side-by-side baseline import and its best-mode summary (no timing checks)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for path in (os.path.join(ROOT, "benchmarks"), os.path.join(ROOT, "benchmarks", "cases")):
    if path not in sys.path:
        sys.path.insert(0, path)

import profile_tfflow  # noqa: E402


def _is_git_checkout() -> bool:
    result = subprocess.run(
        ["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, check=False
    )
    return result.returncode == 0


@pytest.mark.skipif(not _is_git_checkout(), reason="needs the git history of the checkout")
def test_baseline_revision_imports_beside_the_working_tree():
    from baseline_package import import_baseline

    import tfflow

    baseline = import_baseline("HEAD", ROOT)
    assert baseline.__name__ == "tfflow_baseline"
    assert baseline.Glow is not tfflow.Glow
    model = baseline.Glow((4, 4, 1), levels=1, steps_per_level=1, hidden_channels=4)
    assert type(model).__module__.startswith("tfflow_baseline.")
    assert model.log_prob(model.sample(2, seed=0)).shape == (2,)


def test_summary_picks_each_implementation_best_mode():
    times = {
        "tfflow log_prob graph": [1.0, 1.0, 1.0],
        "tfflow log_prob xla": [2.0, 2.0, 2.0],
        "TFP log_prob graph": [4.0, 4.0, 4.0],
        "TFP log_prob xla": [3.0, 3.0, 3.0],
        "bound forward graph": [0.9, 0.9, 0.9],
        "bound forward xla": [1.8, 1.8, 1.8],
    }
    rows = profile_tfflow.summary(times, batch=10)
    tfflow_row = next(r for r in rows if "tfflow log_prob" in r)
    assert "tfflow log_prob graph" in tfflow_row
    # 10 / 1.0 s; 0.9 / 1.0 in every round; 3.0 / 1.0
    assert tfflow_row.endswith("| 10 | 0.90 | 0.90-0.90 | 3.00 |")
    assert any("TFP log_prob xla" in r for r in rows)


def test_summary_shows_how_far_single_rounds_stray():
    times = {
        "tfflow train graph": [1.0, 2.0, 1.0, 4.0, 1.5],
        "bound train graph": [0.8, 0.8, 0.8, 0.8, 0.8],
    }
    rows = profile_tfflow.summary(times, batch=1)
    tfflow_row = next(r for r in rows if "tfflow train" in r)
    # per-round ratios 0.8, 0.4, 0.8, 0.2, 0.533: median 0.53, range 0.20-0.80
    assert "| 0.53 | 0.20-0.80 |" in tfflow_row
