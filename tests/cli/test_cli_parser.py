"""Tests for `tfflow`'s argument parsing: defaults, option types and one-line usage errors."""

import pytest
from cli_helpers import assert_one_line_error, run_cli

from tfflow.cli.main import build_parser
from tfflow.cli.train import config_from_args
from tfflow.training import TrainConfig, default_run_dir


def _train_config(*argv: str) -> TrainConfig:
    return config_from_args(build_parser().parse_args(["train", *argv]))


def test_train_without_options_is_the_default_config():
    config = _train_config()
    assert config == TrainConfig()
    assert (config.model, config.dataset, config.run_dir) == ("glow", "digits", None)
    assert str(default_run_dir(config.model, config.dataset)) == "runs/glow-digits"


def test_train_options_map_to_config_fields():
    config = _train_config(
        "--model", "realnvp", "--dataset", "moons", "--epochs", "3", "--batch-size", "16",
        "--lr", "0.002", "--hidden", "32", "--coupling-layers", "4", "--jit",
        "--mixed-precision", "bfloat16", "--strategy", "mirrored", "--seed", "7",
        "--temperature", "0.5", "--steps-per-epoch", "10", "--no-export", "--run-dir", "x",
    )  # fmt: skip
    assert config.model == "realnvp" and config.dataset == "moons"
    assert (config.epochs, config.batch_size, config.lr) == (3, 16, 0.002)
    assert (config.hidden, config.coupling_layers, config.levels) == (32, 4, None)
    assert config.jit is True and config.export is False
    assert (config.mixed_precision, config.strategy, config.seed) == ("bfloat16", "mirrored", 7)
    assert (config.temperature, config.steps_per_epoch, config.run_dir) == (0.5, 10, "x")


@pytest.mark.parametrize(
    ("flags", "expected"), [((), None), (("--jit",), True), (("--no-jit",), False)]
)
def test_jit_is_tri_state(flags, expected):
    assert _train_config(*flags).jit is expected


def test_sample_evaluate_and_export_arguments():
    parser = build_parser()
    args = parser.parse_args(
        ["sample", "run", "--num", "16", "--temperature", "0.7", "--out", "g.png", "--seed", "3"]
    )
    assert (args.run_dir, args.num, args.temperature, args.out, args.seed) == (
        "run",
        16,
        0.7,
        "g.png",
        3,
    )
    args = parser.parse_args(["evaluate", "run", "--dataset", "digits"])
    assert (args.run_dir, args.dataset) == ("run", "digits")
    args = parser.parse_args(["export", "run", "out", "--version", "4"])
    assert (args.run_dir, args.export_dir, args.version) == ("run", "out", 4)


def test_conditional_options_map_to_config_fields():
    config = _train_config("--dataset", "celeb_a", "--conditional", "--label-attribute", "Male")
    assert (config.conditional, config.label_attribute) == (True, "Male")
    assert _train_config().conditional is False
    words = config.command_line().split()
    assert "--conditional" in words and words[words.index("--label-attribute") + 1] == "Male"
    assert _train_config(*words[2:]) == config


def test_command_line_round_trips_through_the_parser():
    config = TrainConfig(model="nice", dataset="moons", epochs=2, hidden=8, jit=False)
    words = config.command_line().split()
    assert words[:2] == ["tfflow", "train"]
    assert _train_config(*words[2:]) == config


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["train", "--model", "flowpp"], "invalid choice: 'flowpp'"),
        (["train", "--epochs", "0"], "--epochs: expected a positive integer"),
        (["train", "--lr", "-1"], "--lr: expected a positive number"),
        (["train", "--mixed-precision", "float8"], "invalid choice: 'float8'"),
        (["train", "--strategy", "tpu"], "invalid choice: 'tpu'"),
        (["sample"], "RUN_DIR"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "missing COMMAND"),
    ],
)
def test_usage_errors_are_one_line(capsys, argv, fragment):
    code, _, err = run_cli(capsys, *argv)
    assert_one_line_error(code, err, fragment)


def test_help_and_version_exit_zero(capsys):
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0 and "train" in out and "evaluate" in out and "export" in out
    code, out, _ = run_cli(capsys, "train", "--help")
    assert code == 0 and "--steps-per-level" in out and "--mixed-precision" in out
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0 and out.startswith("tfflow ")
