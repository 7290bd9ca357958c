"""`benchmarks/report.py --results-md` rewrites only its generated section of RESULTS.md."""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if os.path.join(ROOT, "benchmarks") not in sys.path:
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import report  # noqa: E402

RESULTS_JSON = os.path.join(ROOT, "benchmarks", "results.json")
HEAD = "# tfflow benchmark results\n\nA hand-written introduction.\n\n"
TAIL = "\n\n## Reading these results\n\nHand-written analysis: 1.26x normflows.\n"


def test_regeneration_keeps_the_hand_written_text(tmp_path):
    path = tmp_path / "RESULTS.md"
    stale = f"{report.BEGIN_MARKER}\n| an old table |\n{report.END_MARKER}"
    path.write_text(HEAD + stale + TAIL)
    assert report.main([RESULTS_JSON, "--results-md", str(path)]) == 0
    text = path.read_text()
    assert text.startswith(HEAD) and text.endswith(TAIL)
    assert "| an old table |" not in text
    generated = text[len(HEAD) : -len(TAIL)]
    assert generated.startswith(report.BEGIN_MARKER) and generated.endswith(report.END_MARKER)
    assert "## Machine" in generated and "## Targets" in generated
    # Regenerating again changes nothing.
    assert report.main([RESULTS_JSON, "--results-md", str(path)]) == 0
    assert path.read_text() == text


def test_the_repository_results_md_regenerates_without_loss(tmp_path):
    with open(os.path.join(ROOT, "benchmarks", "RESULTS.md")) as f:
        original = f.read()
    path = tmp_path / "RESULTS.md"
    path.write_text(original)
    assert report.main([RESULTS_JSON, "--results-md", str(path)]) == 0
    assert path.read_text() == original


def test_a_file_without_markers_is_left_alone(tmp_path, capsys):
    path = tmp_path / "RESULTS.md"
    path.write_text(HEAD + TAIL)
    assert report.main([RESULTS_JSON, "--results-md", str(path)]) == 2
    assert path.read_text() == HEAD + TAIL
    assert "report.py:begin" in capsys.readouterr().err


def test_a_new_file_gets_a_title_and_the_generated_section(tmp_path):
    path = tmp_path / "new.md"
    assert report.main([RESULTS_JSON, "--results-md", str(path)]) == 0
    text = path.read_text()
    assert text.startswith("# tfflow benchmark results\n\n" + report.BEGIN_MARKER)
    assert text.rstrip().endswith(report.END_MARKER)
