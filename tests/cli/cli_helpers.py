"""Shared helpers of the `tfflow` command-line tests: tiny, fast settings and checks."""

import pathlib

from tfflow.cli.main import main

# A Glow small enough to trace and train in seconds on CPU.
TINY_GLOW = [
    "--model",
    "glow",
    "--dataset",
    "digits",
    "--levels",
    "1",
    "--steps-per-level",
    "1",
    "--hidden",
    "8",
    "--batch-size",
    "32",
    "--steps-per-epoch",
    "2",
    "--num-samples",
    "4",
    "--verbose",
    "0",
]


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """Runs `tfflow argv...` in-process; returns (exit status, stdout, stderr)."""
    code = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, *fragments: str, expected_code: int = 2) -> None:
    """A user error: the exit status, and exactly one `tfflow: error:` line naming `fragments`."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == expected_code, err
    assert len(lines) == 1, err
    assert lines[0].startswith("tfflow: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def csv_epochs(path: pathlib.Path) -> list[int]:
    """The epoch column of a Keras `CSVLogger` file."""
    rows = path.read_text().strip().splitlines()[1:]
    return [int(row.split(",")[0]) for row in rows]
