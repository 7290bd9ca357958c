"""`benchmarks/serving_benchmark.py` runs end to end on a toy export and prints a table."""

from __future__ import annotations

import importlib.util
import pathlib

import tfflow

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _load_benchmark():
    path = ROOT / "benchmarks" / "serving_benchmark.py"
    spec = importlib.util.spec_from_file_location("serving_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_rows_and_table(tmp_path, capsys):
    model = tfflow.NICE((4,), coupling_layers=2, hidden_layers=1, hidden_units=4)
    tfflow.export(model, tmp_path / "toy", warmup=False)
    benchmark = _load_benchmark()
    assert (
        benchmark.main(
            [
                "--model",
                str(tmp_path / "toy"),
                "--batch-size",
                "8",
                "--repeats",
                "2",
                "--warmup",
                "1",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "| measurement | unit | SavedModel | Python model (tf.function) |" in out
    rows = benchmark.run_benchmark(str(tmp_path / "toy"), batch_size=8, repeats=1, warmup=0)
    assert [row["unit"] for row in rows] == ["examples/s", "ms", "ms"]
    assert all(row["saved_model"] > 0 and row["python"] > 0 for row in rows)
