"""Imports tfflow as of another git revision beside the working tree's, in the same process.

`import_baseline("main")` extracts `tfflow/` at that revision (`git archive`) into a temporary
directory as the package `tfflow_baseline` (its absolute imports and Keras registration
package renamed) and imports it, so a benchmark can time the old and the new implementation
in interleaved windows of one process instead of comparing separate, differently loaded runs.
"""

from __future__ import annotations

import importlib
import io
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from types import ModuleType

__all__ = ["import_baseline"]

NAME = "tfflow_baseline"

_RULES = (
    (re.compile(r"^(\s*)from tfflow(\.| import)", re.M), rf"\1from {NAME}\2"),
    (re.compile(r"^(\s*)import tfflow\.", re.M), rf"\1import {NAME}."),
    (re.compile(r"^(\s*)import tfflow\b(?!\.)", re.M), rf"\1import {NAME} as tfflow"),
    (re.compile(r"package=\"tfflow\""), f'package="{NAME}"'),
)


def import_baseline(revision: str, repo: str | None = None) -> ModuleType:
    """The `tfflow` package at git `revision` of `repo` (default: this checkout), as a module.

    Args:
        revision: a git revision (`main`, a commit).
        repo: a directory inside the git checkout.
    """
    repo = repo or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    archive = subprocess.run(
        ["git", "-C", repo, "archive", "--format=tar", revision, "tfflow"],
        check=True,
        capture_output=True,
    ).stdout
    root = tempfile.mkdtemp(prefix="tfflow_baseline_")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            if not member.isfile() or not member.name.endswith(".py"):
                continue
            text = tar.extractfile(member).read().decode()
            for pattern, replacement in _RULES:
                text = pattern.sub(replacement, text)
            path = os.path.join(root, NAME, member.name[len("tfflow/") :])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
    sys.path.insert(0, root)
    return importlib.import_module(NAME)
