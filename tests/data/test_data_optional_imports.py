"""`import tfflow` (and its data and command-line modules) needs neither scikit-learn nor
tensorflow-datasets."""

import json
import subprocess
import sys

# Runs in a fresh interpreter: a finder placed first on `sys.meta_path` makes scikit-learn and
# tensorflow-datasets look uninstalled and records which module asked for them. Keras asks for
# scikit-learn on its own (its optional scikit-learn wrappers) and copes with its absence.
_SCRIPT = """
import json, sys

BLOCKED = ("sklearn", "tensorflow_datasets")
requests = []


class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] not in BLOCKED:
            return None
        frame = sys._getframe(1)
        while frame is not None and frame.f_globals.get("__name__", "").startswith(
            ("importlib", "_frozen_importlib")
        ):
            frame = frame.f_back
        requests.append([name, frame.f_globals.get("__name__") if frame else None])
        raise ImportError(f"{name} is blocked")


sys.meta_path.insert(0, Block())
import numpy as np
import tfflow
import tfflow.cli.main
from tfflow.data import load_arrays

loaded = sorted(name for name in BLOCKED if name in sys.modules)
digits = load_arrays("digits")
moons = load_arrays("moons", num_examples=10)
circles = load_arrays("circles", num_examples=10)
print(json.dumps({
    "loaded": loaded,
    "requests": requests,
    "digits": [list(digits.train.shape), int(digits.train.sum())],
    "toys": [list(moons.train.shape), list(circles.train.shape)],
}))
"""


def test_import_tfflow_and_offline_datasets_need_no_sklearn_nor_tfds():
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["loaded"] == []
    tfflow_requests = [r for r in report["requests"] if str(r[1]).startswith("tfflow")]
    assert tfflow_requests == []
    assert report["digits"][0] == [1500, 8, 8, 1]
    assert report["toys"] == [[10, 2], [10, 2]]
