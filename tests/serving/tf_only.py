"""Runs a check of exported SavedModels in a Python process that imports only TensorFlow and
NumPy (never tfflow or TFP), as TF Serving's users would load them."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap

_PRELUDE = """
import json, sys
import numpy as np
import tensorflow as tf

JOBS = json.loads(sys.argv[1])
report = {}
"""

_EPILOGUE = """
report["leaked_modules"] = sorted(
    m for m in sys.modules
    if m.split(".")[0] in ("tfflow", "tensorflow_probability", "tf_keras")
)
print("REPORT " + json.dumps(report))
"""


def export_jobs(exported: dict) -> list[list[str]]:
    """`[name, version_dir, npz]` for every `name: (model, version_dir, ref)` of `exported`,
    whose reference values were saved as `<export base>/<name>.npz`."""
    return [
        [name, str(version_dir), str(version_dir.parent.parent / f"{name}.npz")]
        for name, (_, version_dir, _) in exported.items()
    ]


def run_tf_only(check: str, jobs: list, directory: pathlib.Path) -> dict:
    """Runs `check` with `python -I` and returns its `report`.

    `check` is the body of a script that has `json`, `sys`, `np` and `tf` imported, reads
    `JOBS` (the JSON round trip of `jobs`) and fills the dict `report`, which comes back
    with `report["leaked_modules"]`: the tfflow, TFP or tf_keras modules the process
    imported (none, if the exports load with TensorFlow alone).
    """
    script = directory / "check_exports.py"
    script.write_text(_PRELUDE + textwrap.dedent(check) + _EPILOGUE)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run(
        [sys.executable, "-I", str(script), json.dumps(jobs)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    lines = [line for line in result.stdout.splitlines() if line.startswith("REPORT ")]
    assert lines, result.stdout[-2000:] + result.stderr[-2000:]
    return json.loads(lines[-1][len("REPORT ") :])
