"""The console entry points and the examples: their options, the shared runner, and smoke runs
as separate processes."""

import argparse
import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import pytest
from cli_helpers import TINY_GLOW

from tfflow.cli.main import build_parser
from tfflow.cli.train import config_from_args

REPO = pathlib.Path(__file__).resolve().parents[2]


def _run(*argv: str, cwd: pathlib.Path, timeout: float = 240) -> subprocess.CompletedProcess:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run(
        [sys.executable, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_python_dash_m_tfflow(tmp_path):
    result = _run("-m", "tfflow", "train", "--dataset", "nope", cwd=tmp_path)
    assert result.returncode == 2
    assert "tfflow: error: unknown dataset 'nope'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()


def test_toy_2d_smoke_example_writes_pictures(tmp_path):
    result = _run(
        str(REPO / "examples" / "toy_2d.py"), "--smoke", "--densities", "moons",
        "--run-root", str(tmp_path / "toy"), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "toy" / "toy_2d.png").stat().st_size > 10_000
    assert (tmp_path / "toy" / "moons" / "samples" / "epoch_002.png").is_file()
    assert (tmp_path / "toy" / "moons" / "model.keras").is_file()


def _load_example(name: str):
    spec = importlib.util.spec_from_file_location(
        f"example_{name}", REPO / "examples" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PAPER_EXAMPLES = ["glow_cifar10", "realnvp_cifar10", "nice_mnist", "glow_celeba_conditional"]


@pytest.mark.parametrize("name", PAPER_EXAMPLES)
@pytest.mark.parametrize("smoke", [True, False], ids=["smoke", "paper"])
def test_example_train_options_parse(tmp_path, name, smoke):
    module = _load_example(name)
    args = argparse.Namespace(
        smoke=smoke, data_dir=str(tmp_path / "data"), epochs=None, seed=0, run_dir=None,
        batch_size=64, label_attribute="Smiling",
    )  # fmt: skip
    options = module.train_options(args)
    parsed = build_parser().parse_args(["train", *options])
    config = config_from_args(parsed)
    assert config.dataset in ("digits", "cifar10", "celeb_a", "mnist")
    if smoke:
        assert config.export is False and config.dataset == "digits"
    if name == "glow_celeba_conditional":
        assert config.conditional and config.n_bits == 5
        assert config.label_attribute == (None if smoke else "Smiling")


def test_run_example_trains_and_writes_a_grid_per_temperature(capsys, tmp_path):
    from tfflow.cli.example_runner import run_example

    def train_options(args):
        assert args.smoke and args.extra == "x"
        return TINY_GLOW + ["--no-export"]

    run_dir = tmp_path / "run"
    code = run_example(
        "A tiny example.\n\nMore text.", "tiny", train_options, temperatures=(0.0, 0.7),
        epochs=100, smoke_epochs=1, data_dir_help="unused",
        add_arguments=lambda parser: parser.add_argument("--extra"),
        argv=["--smoke", "--run-dir", str(run_dir), "--seed", "3", "--extra", "x"],
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    config = json.loads((run_dir / "config.json").read_text())["args"]
    assert (config["epochs"], config["seed"], config["levels"]) == (1, 3, 1)
    for temperature in ("0.0", "0.7"):
        assert (run_dir / f"samples_T{temperature}.png").stat().st_size > 100
        assert f"to {run_dir}/samples_T{temperature}.png" in out


def test_run_example_writes_one_grid_per_class(capsys, tmp_path):
    from tfflow.cli.example_runner import run_example

    run_dir = tmp_path / "run"
    code = run_example(
        "Conditional.", "cond", lambda args: [*TINY_GLOW, "--conditional", "--no-export"],
        temperatures=(), epochs=1, smoke_epochs=1, data_dir_help="unused",
        class_names=lambda args: {1: "one", 7: "seven"}, class_temperature=0.5,
        argv=["--run-dir", str(run_dir)],
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "wrote 64 samples of class 7 (temperature 0.5)" in out
    assert sorted(path.name for path in run_dir.glob("samples_*.png")) == [
        "samples_T0.5_one.png",
        "samples_T0.5_seven.png",
    ]


def test_run_example_stops_at_the_first_failure(capsys, tmp_path):
    from tfflow.cli.example_runner import run_example

    code = run_example(
        "Fails.", "fails", lambda args: ["--dataset", "nope"], temperatures=(0.7,),
        epochs=1, smoke_epochs=1, data_dir_help="unused", argv=["--run-dir", str(tmp_path / "r")],
    )  # fmt: skip
    assert code == 2 and "unknown dataset 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "r" / "samples_T0.7.png").exists()


def test_glow_celeba_conditional_smoke_example(tmp_path):
    result = _run(
        str(REPO / "examples" / "glow_celeba_conditional.py"), "--smoke",
        "--run-dir", str(tmp_path / "celeba"), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = tmp_path / "celeba"
    assert json.loads((run_dir / "config.json").read_text())["args"]["conditional"] is True
    for temperature in ("0.0", "0.6", "0.7", "1.0"):
        assert (run_dir / f"samples_T{temperature}.png").is_file()
    # One grid per class (the digits' 10 labels in the smoke run).
    assert sorted(path.name for path in run_dir.glob("samples_T0.7_*.png")) == [
        f"samples_T0.7_digit{digit}.png" for digit in range(10)
    ]
