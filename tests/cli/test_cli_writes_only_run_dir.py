"""`tfflow train` writes only inside the run directory it is given (export included).

Runs the real command in a subprocess with the working directory, `HOME` and `TMPDIR` each
an empty folder of their own, and lists every file that appears outside the run directory.

Allowed, because they are written by libraries at import time for any program that imports
them, not by tfflow, and hold no data of the run:
- `~/.keras/keras.json`: Keras writes its default configuration when `import keras` finds no
  config file (keras/src/backend/config.py);
- `~/.cache/matplotlib/fontlist-*.json` and an empty `~/.config/matplotlib/`: matplotlib's
  font cache and configuration folder, created on first import.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import TINY_GLOW

ALLOWED_IN_HOME = (
    ".keras",
    ".keras/keras.json",
    ".cache",
    ".cache/matplotlib",
    ".config",
    ".config/matplotlib",
)


def _allowed(relative: str) -> bool:
    return relative in ALLOWED_IN_HOME or (
        relative.startswith(".cache/matplotlib/fontlist-") and relative.endswith(".json")
    )


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.slow
def test_train_writes_nothing_outside_its_run_dir(tmp_path):
    cwd, home, tmp, run_dir = (tmp_path / name for name in ("cwd", "home", "tmp", "run"))
    for folder in (cwd, home, tmp):
        folder.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "MPLCONFIGDIR", "KERAS_HOME")
    }
    env.update(
        HOME=str(home),
        TMPDIR=str(tmp),
        TF_CPP_MIN_LOG_LEVEL="2",
        CUDA_VISIBLE_DEVICES="",
        PYTHONDONTWRITEBYTECODE="1",  # no __pycache__ in the source tree either
    )
    process = subprocess.run(
        [sys.executable, "-m", "tfflow", "train", *TINY_GLOW, "--epochs", "1",
         "--run-dir", str(run_dir)],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=600,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr.decode()[-3000:]

    assert _listing(cwd) == []
    assert _listing(tmp) == []
    assert [name for name in _listing(home) if not _allowed(name)] == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd", "home", "run", "tmp"]
    written = _listing(run_dir)
    for expected in ("config.json", "model.keras", "backup/latest.weights.h5", "export/1"):
        assert expected in written, written
    assert [name for name in written if ".tmp-" in name] == []  # no temporary file left
