"""The committed `savedmodels/`: layout, model cards, and TensorFlow's `saved_model_cli`.

`saved_model_cli` (from the venv's bin) runs each SavedModel through TF's own loader, in a
process that never imports tfflow. The CLI calls run concurrently in one fixture.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import tfflow
from tfflow.data import load_arrays, make_dataset

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAVEDMODELS = ROOT / "savedmodels"
CLI = pathlib.Path(sys.executable).parent / "saved_model_cli"
MODELS = {
    "realnvp_moons": {"dataset": "moons", "x": (-1, 2), "pixels": False},
    "glow_digits": {"dataset": "digits", "x": (-1, 8, 8, 1), "pixels": True},
    "glow_mnist": {"dataset": "mnist", "x": (-1, 28, 28, 1), "pixels": True},
}
MNIST = ROOT.parent / "shared" / "data" / "mnist"

pytestmark = pytest.mark.skipif(
    not all((SAVEDMODELS / name / "1" / "saved_model.pb").is_file() for name in MODELS),
    reason="savedmodels/ not generated (python examples/export_pretrained.py)",
)


def _test_batch(name: str) -> np.ndarray:
    if name == "glow_mnist":  # any pixels will do for comparing two loaders; MNIST may be absent
        pixels = np.random.default_rng(0).integers(0, 256, size=(8, 28, 28, 1))
        return pixels.astype(np.float32) + 0.5
    data = load_arrays(MODELS[name]["dataset"], seed=0)
    if name == "glow_digits":
        return data.test[:8].astype(np.float32) + 0.5  # bin centres
    return data.test[:8].astype(np.float32)


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, pathlib.Path]]:
    if not CLI.is_file():
        pytest.skip(f"{CLI} not found")
    base = tmp_path_factory.mktemp("cli")
    commands = {}
    for name in MODELS:
        version_dir = str(SAVEDMODELS / name / "1")
        np.save(base / f"{name}_x.npy", _test_batch(name))
        commands[f"{name}/show"] = [str(CLI), "show", "--dir", version_dir, "--all"]
        for signature, inputs in (
            ("log_prob", ["--inputs", f"x={base / f'{name}_x.npy'}"]),
            ("sample", ["--input_exprs", "num_samples=4;temperature=0.7;seed=3"]),
        ):
            outdir = base / f"{name}_{signature}"
            commands[f"{name}/{signature}"] = [
                str(CLI),
                "run",
                "--dir",
                version_dir,
                "--tag_set",
                "serve",
                "--signature_def",
                signature,
                *inputs,
                "--outdir",
                str(outdir),
            ]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    running = {
        key: subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for key, command in commands.items()
    }
    results = {}
    for key, process in running.items():
        stdout, stderr = process.communicate(timeout=300)
        completed = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        outdir = base / key.replace("/", "_")
        results[key] = (completed, outdir)
    return results


@pytest.mark.parametrize("name", list(MODELS))
def test_layout_card_and_size(name):
    model_dir = SAVEDMODELS / name
    assert sorted(p.name for p in model_dir.iterdir()) == ["1", "samples.png"]
    size = sum(p.stat().st_size for p in model_dir.rglob("*") if p.is_file())
    assert size < 8 * 2**20  # glow_mnist: 1.8 MB of weights, 3.6 MB of graph
    served = tfflow.load_served(model_dir)
    card = served.card
    assert card["training_dataset"] == MODELS[name]["dataset"]
    assert card["command"].startswith(f"python examples/export_pretrained.py --model {name}")
    assert isinstance(card["test_log_prob"], float)
    assert isinstance(card["test_bits_per_dim"], float)
    assert card["version"] == 1 and card["model_name"] == name


def test_glow_digits_card_holds_its_test_bits_per_dim():
    served = tfflow.load_served(SAVEDMODELS / "glow_digits")
    data = load_arrays("digits", seed=0)
    test = make_dataset(data.test, batch_size=300, training=False, seed=0)
    bits = np.concatenate([served.bits_per_dim(batch).numpy() for batch in test])
    np.testing.assert_allclose(np.mean(bits), served.card["test_bits_per_dim"], rtol=1e-4)
    # Trained: the untrained (ActNorm-initialised) model scores about 8.5 bits/dim.
    assert served.card["test_bits_per_dim"] < 6.5


@pytest.mark.skipif(not MNIST.is_dir(), reason=f"MNIST not found at {MNIST}")
def test_glow_mnist_card_holds_its_test_bits_per_dim():
    served = tfflow.load_served(SAVEDMODELS / "glow_mnist")
    card, facts = served.card, served.card["metadata"]
    test = load_arrays(str(MNIST)).test[:1000]
    batches = make_dataset(test, batch_size=500, training=False, seed=facts["seed"])
    bits = np.concatenate([served.bits_per_dim(batch).numpy() for batch in batches])
    # 1,000 of the 10,000 test images: the mean's standard error is ~0.01 bits/dim.
    assert abs(np.mean(bits) - card["test_bits_per_dim"]) < 0.05
    assert facts["num_test_examples"] == 10000 and facts["epochs"] >= 1
    assert card["test_bits_per_dim"] <= 1.3  # issue 9's long-run target
    assert facts["test_bits_per_dim_by_epoch"][-1] == pytest.approx(
        card["test_bits_per_dim"], abs=0.02
    )


def test_realnvp_moons_card_holds_its_test_log_prob():
    served = tfflow.load_served(SAVEDMODELS / "realnvp_moons")
    log_prob = served.log_prob(load_arrays("moons", seed=0).test).numpy()
    np.testing.assert_allclose(np.mean(log_prob), served.card["test_log_prob"], rtol=1e-4)
    assert served.card["test_log_prob"] > -3.0  # the best Gaussian fit scores about -3.3


@pytest.mark.parametrize("name", list(MODELS))
def test_show_lists_every_signature(name, cli_runs):
    completed, _ = cli_runs[f"{name}/show"]
    assert completed.returncode == 0, completed.stderr[-3000:]
    out = completed.stdout
    names = set(re.findall(r"signature_def\['(\w+)'\]", out)) - {"__saved_model_init_op"}
    expected = {"serving_default", "log_prob", "sample", "encode", "decode"}
    if MODELS[name]["pixels"]:
        expected.add("log_prob_uint8")
    assert names == expected

    def block(signature: str) -> str:
        start = out.index(f"signature_def['{signature}']")
        end = out.find("signature_def[", start + 1)
        return out[start : end if end > 0 else len(out)]

    shape = "(" + ", ".join(str(d) for d in MODELS[name]["x"]) + ")"
    for signature in ("serving_default", "log_prob"):
        text = block(signature)
        assert re.search(
            r"inputs\['x'\] tensor_info:\s+dtype: DT_FLOAT\s+shape: " + re.escape(shape), text
        )
        assert "outputs['log_prob']" in text and "outputs['bits_per_dim']" in text
    sample = block("sample")
    for key, dtype in (
        ("num_samples", "DT_INT32"),
        ("temperature", "DT_FLOAT"),
        ("seed", "DT_INT64"),
    ):
        assert re.search(rf"inputs\['{key}'\] tensor_info:\s+dtype: {dtype}\s+shape: \(\)", sample)
    assert "outputs['samples']" in sample
    assert ("outputs['samples_uint8']" in sample) == MODELS[name]["pixels"]
    assert "inputs['x']" in block("encode") and "outputs['z']" in block("encode")
    assert "inputs['z']" in block("decode") and "outputs['x']" in block("decode")
    if MODELS[name]["pixels"]:
        assert re.search(r"inputs\['x'\] tensor_info:\s+dtype: DT_UINT8", block("log_prob_uint8"))


@pytest.mark.parametrize("name", list(MODELS))
def test_run_log_prob(name, cli_runs):
    completed, outdir = cli_runs[f"{name}/log_prob"]
    assert completed.returncode == 0, completed.stderr[-3000:]
    log_prob = np.load(outdir / "log_prob.npy")
    bits = np.load(outdir / "bits_per_dim.npy")
    served = tfflow.load_served(SAVEDMODELS / name)
    x = _test_batch(name)
    np.testing.assert_allclose(log_prob, served.log_prob(x).numpy(), rtol=1e-5)
    np.testing.assert_allclose(bits, -log_prob / (np.prod(x.shape[1:]) * np.log(2)), rtol=1e-5)
    assert np.all(np.isfinite(log_prob))


@pytest.mark.parametrize("name", list(MODELS))
def test_run_sample(name, cli_runs):
    completed, outdir = cli_runs[f"{name}/sample"]
    assert completed.returncode == 0, completed.stderr[-3000:]
    samples = np.load(outdir / "samples.npy")
    served = tfflow.load_served(SAVEDMODELS / name)
    expected = served.sample(4, temperature=0.7, seed=3).numpy()
    scale = 256.0 if MODELS[name]["pixels"] else 1.0
    np.testing.assert_allclose(samples, expected, rtol=0, atol=1e-5 * scale)
    if MODELS[name]["pixels"]:
        uint8 = np.load(outdir / "samples_uint8.npy")
        assert uint8.dtype == np.uint8 and uint8.shape == (4, *MODELS[name]["x"][1:])
