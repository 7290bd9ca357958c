"""`tfflow train`'s model and recipe options, and `--config FILE` (TOML or JSON)."""

import json
import sys

import keras
import pytest
from cli_helpers import TINY_GLOW, assert_one_line_error, csv_epochs, run_cli

from tfflow.cli.main import build_parser
from tfflow.cli.train import config_from_args
from tfflow.training import TrainConfig, build_model, resolve_config
from tfflow.training.config import COUPLINGS, PERMUTATIONS
from tfflow.training.errors import RunConfigurationError


def _train_config(*argv: str) -> TrainConfig:
    return config_from_args(build_parser().parse_args(["train", *argv]))


@pytest.mark.parametrize(
    ("argv", "field", "expected"),
    [
        (["--optimizer", "adamax"], "optimizer", "adamax"),
        (["--warmup-steps", "0"], "warmup_steps", 0),
        (["--coupling", "additive"], "coupling", "additive"),
        (["--coupling", "spline", "--num-bins", "4"], "num_bins", 4),
        (["--no-lu-decomposed"], "lu_decomposed", False),
        (["--no-learn-prior"], "learn_prior", False),
        (["--permutation", "shuffle"], "permutation", "shuffle"),
        (["--learn-top-prior"], "learn_top_prior", True),
        (["--recompute"], "recompute", True),
        (["--clipnorm", "2.5"], "clipnorm", 2.5),
        (["--ema-momentum", "0.999"], "ema_momentum", 0.999),
        (["--init-examples", "64"], "init_examples", 64),
    ],
)
def test_model_and_recipe_options_map_to_config_fields(argv, field, expected):
    assert getattr(_train_config(*argv), field) == expected
    assert getattr(_train_config(), field) == getattr(TrainConfig(), field)


def test_num_bins_below_two_is_a_one_line_error(capsys):
    code, _, err = run_cli(capsys, "train", "--num-bins", "1")
    assert_one_line_error(code, err, "--num-bins", "an integer >= 2", "'1'")


def test_num_bins_reaches_the_spline_couplings():
    config = resolve_config(TrainConfig(model="realnvp", coupling="spline", num_bins=3), "tabular")
    model = build_model(config, (2,), "tabular")
    assert model.get_config()["num_bins"] == 3
    assert resolve_config(TrainConfig(model="glow"), "image").num_bins == 8


def test_coupling_choices_come_from_the_one_list(capsys):
    for coupling in COUPLINGS:
        assert _train_config("--coupling", coupling).coupling == coupling
    code, _, err = run_cli(capsys, "train", "--coupling", "quadratic")
    assert_one_line_error(code, err, "--coupling", "'quadratic'")


def test_permutation_choices_come_from_the_one_list(capsys):
    for permutation in PERMUTATIONS:
        assert _train_config("--permutation", permutation).permutation == permutation
    code, _, err = run_cli(capsys, "train", "--permutation", "random")
    assert_one_line_error(code, err, "--permutation", "'random'", "'conv1x1', 'shuffle'")
    with pytest.raises(ValueError, match="`permutation` must be one of"):
        TrainConfig(permutation="random")
    with pytest.raises(ValueError, match="`learn_top_prior` must be None, True or False"):
        TrainConfig(learn_top_prior="yes")


def test_glow_only_options_are_rejected_for_other_models():
    with pytest.raises(RunConfigurationError, match="--permutation does not apply to --model"):
        resolve_config(TrainConfig(model="realnvp", permutation="reverse"), "image")
    with pytest.raises(RunConfigurationError, match="--learn-top-prior does not apply"):
        resolve_config(TrainConfig(model="nice", learn_top_prior=True), "image")


def test_new_options_round_trip_through_the_command_line():
    config = TrainConfig(
        coupling="additive", lu_decomposed=False, optimizer="adamax", warmup_steps=0,
        ema_momentum=0.99, clipnorm=1.0, init_examples=128, permutation="reverse",
        learn_top_prior=False,
    )  # fmt: skip
    assert _train_config(*config.command_line().split()[2:]) == config


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_config_file_sets_options_and_the_command_line_overrides_it(tmp_path, suffix):
    values = {"epochs": 3, "warmup-steps": 10, "optimizer": "adamax", "recompute": True}
    path = tmp_path / f"run{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(values))
    else:
        path.write_text('epochs = 3\nwarmup-steps = 10\noptimizer = "adamax"\nrecompute = true\n')
    config = _train_config("--config", str(path))
    assert (config.epochs, config.warmup_steps, config.optimizer, config.recompute) == (
        3, 10, "adamax", True,
    )  # fmt: skip
    # A flag wins over the file wherever it stands; options in neither keep their defaults.
    for argv in (
        ["--epochs", "5", "--config", str(path)],
        ["--config", str(path), "--epochs", "5"],
    ):
        config = _train_config(*argv)
        assert (config.epochs, config.optimizer, config.batch_size) == (5, "adamax", 64)


@pytest.mark.parametrize(
    ("name", "text", "fragments"),
    [
        ("bad.toml", "epochs = 3\nlearning_rate = 0.1\n", ["unknown key 'learning_rate'"]),
        ("bad.toml", "epochs = 0\n", ["epochs", "expected a positive integer"]),
        ("bad.toml", 'coupling = "quadratic"\n', ["coupling", "'quadratic'"]),
        ("bad.toml", 'epochs = "ten"\n', ["epochs", "expected a number"]),
        ("bad.json", '{"recompute": 1}', ["recompute", "expected true or false"]),
        ("bad.toml", 'permutation = "random"\n', ["permutation", "'random'"]),
        ("bad.json", '{"learn_top_prior": "on"}', ["learn_top_prior", "expected true or false"]),
        ("bad.json", '{"epochs": ', ["not valid JSON"]),
        ("bad.yaml", "epochs: 3\n", ["expected a .toml or .json file"]),
    ],
)
def test_bad_config_files_are_one_line_errors(capsys, tmp_path, name, text, fragments):
    path = tmp_path / name
    path.write_text(text)
    code, _, err = run_cli(capsys, "train", "--config", path)
    assert_one_line_error(code, err, "--config", *fragments)


def test_toml_without_tomllib_asks_for_json(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tomllib", None)  # as on Python 3.10
    path = tmp_path / "run.toml"
    path.write_text("epochs = 3\n")
    code, _, err = run_cli(capsys, "train", "--config", path)
    assert_one_line_error(code, err, "--config", "Python 3.11", ".json")


def test_missing_config_file_is_a_one_line_error(capsys, tmp_path):
    code, _, err = run_cli(capsys, "train", "--config", tmp_path / "absent.toml")
    assert_one_line_error(code, err, "--config", "absent.toml")


def test_unset_options_resolve_to_the_models_defaults():
    glow = resolve_config(TrainConfig(model="glow"), "image")
    assert (glow.coupling, glow.lu_decomposed, glow.learn_prior, glow.recompute) == (
        "affine", True, True, False,
    )  # fmt: skip
    assert (glow.permutation, glow.learn_top_prior) == ("conv1x1", False)
    assert (glow.optimizer, glow.warmup_steps) == ("adam", 200)
    nice = resolve_config(TrainConfig(model="nice", dataset="moons"), "tabular")
    assert (nice.coupling, nice.recompute, nice.warmup_steps) == ("additive", None, 1375)
    realnvp = resolve_config(TrainConfig(model="realnvp", dataset="moons"), "tabular")
    assert realnvp.coupling == "affine"
    with pytest.raises(RunConfigurationError, match="--recompute does not apply to --model nice"):
        resolve_config(TrainConfig(model="nice", recompute=True), "image")
    with pytest.raises(RunConfigurationError, match="--recompute does not apply"):
        resolve_config(TrainConfig(model="realnvp", recompute=True), "tabular")


def test_a_config_saved_before_the_options_existed_is_the_same_run():
    saved = TrainConfig(model="glow", levels=1).to_dict()
    for field in (
        "coupling", "lu_decomposed", "learn_prior", "recompute", "optimizer", "permutation",
        "learn_top_prior",
    ):  # fmt: skip
        saved.pop(field)
    old = resolve_config(TrainConfig.from_dict(saved), "image")
    assert (
        resolve_config(TrainConfig(model="glow", levels=1), "image").identity_differences(old) == []
    )
    other = resolve_config(TrainConfig(model="glow", levels=1, coupling="additive"), "image")
    assert other.identity_differences(old) == ["coupling: 'additive' vs 'affine'"]


def test_model_options_reach_the_model():
    config = TrainConfig(
        model="glow", levels=1, steps_per_level=1, hidden=4, coupling="additive",
        lu_decomposed=False, learn_prior=False, permutation="shuffle", learn_top_prior=True,
    )  # fmt: skip
    model = build_model(config, (4, 4, 1), "image")
    got = model.get_config()
    assert (got["coupling"], got["lu_decomposed"], got["learn_prior"]) == ("additive", False, False)
    assert (got["permutation"], got["learn_top_prior"]) == ("shuffle", True)


def test_train_from_a_config_file_records_and_resumes(capsys, tmp_path):
    """The one end-to-end run: a tiny Glow from a TOML file, then resumed by the same command
    (with openai/glow's shuffle permutation and learned top prior, from the file and a flag)."""
    run_dir = tmp_path / "run"
    options = dict(zip(TINY_GLOW[::2], TINY_GLOW[1::2], strict=True))
    lines = [f"{key[2:]} = {value}" if value.isdigit() else f'{key[2:]} = "{value}"'
             for key, value in options.items()]  # fmt: skip
    lines += [
        'optimizer = "adamax"', "warmup_steps = 0", 'coupling = "additive"',
        "lu_decomposed = false", "ema_momentum = 0.9", "clipnorm = 5.0", "init_examples = 40",
        "export = false", f'run_dir = "{run_dir}"', 'permutation = "shuffle"',
    ]  # fmt: skip
    path = tmp_path / "glow.toml"
    path.write_text("\n".join(lines) + "\n")
    for epochs in (1, 2):
        code, _, err = run_cli(
            capsys, "train", "--config", path, "--epochs", epochs, "--learn-top-prior"
        )
        assert code == 0, err
    assert csv_epochs(run_dir / "metrics.csv") == [0, 1]
    args = json.loads((run_dir / "config.json").read_text())["args"]
    assert (args["optimizer"], args["warmup_steps"], args["coupling"]) == ("adamax", 0, "additive")
    assert (args["lu_decomposed"], args["learn_prior"], args["recompute"]) == (False, True, False)
    assert (args["ema_momentum"], args["clipnorm"], args["init_examples"]) == (0.9, 5.0, 40)
    assert (args["permutation"], args["learn_top_prior"]) == ("shuffle", True)
    model = keras.models.load_model(run_dir / "model.keras")
    assert type(model.optimizer).__name__ == "Adamax"
    assert model.optimizer.use_ema and model.get_config()["coupling"] == "additive"
    assert (model.permutation, model.learn_top_prior) == ("shuffle", True)
