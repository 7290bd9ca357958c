"""Trains and exports the small pretrained models under `savedmodels/` (TF Serving layout).

- `realnvp_moons`: RealNVP (6 couplings, 64 units) on the 2-D `moons` density.
- `glow_digits`: Glow (2 levels x 4 steps, 32 channels) on scikit-learn's 8x8 `digits`.
  (64 channels overfit the 1500 training images sooner: test bits/dim ~5.8 at best.)

- `glow_mnist`: Glow (2 levels x 8 steps, 128 channels, logit preprocessing) on real MNIST,
  taken from a long run of `benchmarks/mnist_quality.py --long glow_logit` (hours on a CPU,
  resumable) instead of trained here: `--model glow_mnist --from-run runs/glow-mnist`.
  Needs the MNIST files (`../shared/data/mnist`); not part of `--model all`.

Each goes to `OUT/<name>/1/` with its model card (test bits/dim or log-likelihood and this
command) and warm-up requests, plus `OUT/<name>/samples.png` next to the version folder
(moons: test data | model samples as 2-D histograms; digits: 64 samples at temperature 0.7;
both upscaled for viewing).

Usage:
    python examples/export_pretrained.py                 # both models into savedmodels/
    python examples/export_pretrained.py --model glow_digits --epochs 60 --overwrite
    python examples/export_pretrained.py --model glow_mnist --from-run runs/glow-mnist
"""

from __future__ import annotations

import argparse
import math
import os
import pathlib
import shlex
import shutil
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import tfflow  # noqa: E402
from tfflow.data import load_arrays, make_dataset, save_image_grid  # noqa: E402

MODELS = ("realnvp_moons", "glow_digits")
DEFAULT_EPOCHS = {"realnvp_moons": 150, "glow_digits": 200}
MNIST = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
LONG_RUN_COMMAND = "python benchmarks/mnist_quality.py --long glow_logit --run-dir {run} --hours H"


def _command(args: argparse.Namespace, name: str) -> str:
    parts = ["python", "examples/export_pretrained.py", "--model", name]
    if name == "glow_mnist":
        parts += ["--from-run", str(args.from_run)]
    else:
        parts += ["--epochs", str(args.epochs or DEFAULT_EPOCHS[name]), "--seed", str(args.seed)]
    if args.out != "savedmodels":
        parts += ["--out", args.out]
    return shlex.join(parts + ["--overwrite"])


def _density_image(points: np.ndarray, bins: int = 64, extent: float = 3.0) -> np.ndarray:
    """A 2-D histogram of `points` as one 8-bit grey image (brighter = denser)."""
    counts, _, _ = np.histogram2d(
        points[:, 1], points[:, 0], bins=bins, range=[[-extent, extent], [-extent, extent]]
    )
    image = np.sqrt(counts[::-1] / max(counts.max(), 1.0)) * 255.0
    return image[..., np.newaxis]


def train_realnvp_moons(epochs: int, seed: int) -> tuple[tfflow.FlowModel, dict, np.ndarray]:
    data = load_arrays("moons", seed=seed)
    model = tfflow.RealNVP((2,), coupling_layers=6, hidden_units=64)
    model.compile()
    train = make_dataset(data.train, batch_size=256, training=True, seed=seed)
    model.fit(train, epochs=epochs, verbose=2)
    test_log_prob = float(np.mean(model.log_prob(data.test).numpy()))
    metrics = {
        "dataset": "moons",
        "test_log_prob": test_log_prob,
        "test_bits_per_dim": -test_log_prob / (2 * math.log(2.0)),
        "num_test_examples": int(data.test.shape[0]),
    }
    samples = model.sample(20000, seed=seed).numpy()
    grid = np.stack([_density_image(data.test), _density_image(samples)])
    return model, metrics, grid


def _pixel_test_scores(
    model: tfflow.FlowModel, dataset: str, test_images: np.ndarray, batch_size: int, seed: int
) -> dict:
    """The model card's test scores of a pixel model: mean log-likelihood (nats) and bits/dim
    over all `test_images`, dequantized with `make_dataset`'s deterministic evaluation noise."""
    test = make_dataset(test_images, batch_size=batch_size, training=False, seed=seed)
    log_probs = np.concatenate([model.log_prob(batch).numpy() for batch in test])
    return {
        "dataset": dataset,
        "test_bits_per_dim": float(-np.mean(log_probs) / (model.event_size * math.log(2.0))),
        "test_log_prob": float(np.mean(log_probs)),
        "num_test_examples": int(log_probs.shape[0]),
        "test_dequantization": "uniform, make_dataset(training=False) noise",
    }


def train_glow_digits(epochs: int, seed: int) -> tuple[tfflow.FlowModel, dict, np.ndarray]:
    data = load_arrays("digits", seed=seed)
    model = tfflow.Glow((8, 8, 1), levels=2, steps_per_level=4, hidden_channels=32)
    model.compile()
    train = make_dataset(data.train, batch_size=64, training=True, seed=seed)
    model.fit(train, epochs=epochs, verbose=2)
    metrics = _pixel_test_scores(model, "digits", data.test, batch_size=300, seed=seed)
    samples = model.sample(64, temperature=0.7, seed=seed).numpy()
    return model, metrics, samples


def glow_mnist_from_run(
    run_dir: pathlib.Path, seed: int
) -> tuple[tfflow.FlowModel, dict, np.ndarray]:
    """The model a `mnist_quality.py --long` run saved, with its test bits/dim and curve."""
    import csv

    model_path = run_dir / "model.keras"
    if not model_path.is_file():
        raise SystemExit(f"{model_path} not found: run `{LONG_RUN_COMMAND.format(run=run_dir)}`.")
    if not MNIST.is_dir():
        raise SystemExit(f"MNIST not found at {MNIST} (needed for the model card's test score).")
    model = keras.models.load_model(model_path)
    data = load_arrays(str(MNIST))
    rows = list(csv.DictReader((run_dir / "curve.csv").open()))
    metrics = {
        **_pixel_test_scores(model, "mnist", data.test, batch_size=500, seed=seed),
        "training": "first 55,000 MNIST training images, batch 64, compile() defaults",
        "epochs": len(rows),
        "train_hours": round(float(rows[-1]["wall_s"]) / 3600, 2) if rows else None,
        "test_bits_per_dim_by_epoch": [float(r["test_bpd"]) for r in rows],
        "train_command": LONG_RUN_COMMAND.format(run=run_dir),
    }
    samples = model.sample(64, temperature=0.7, seed=seed).numpy()
    return model, metrics, samples


def export_model(name: str, args: argparse.Namespace) -> pathlib.Path:
    epochs = args.epochs or DEFAULT_EPOCHS.get(name)
    model_dir = pathlib.Path(args.out) / name
    if (model_dir / "1").exists():
        if not args.overwrite:
            raise SystemExit(f"{model_dir}/1 exists; pass --overwrite to regenerate it.")
        shutil.rmtree(model_dir)
    keras.utils.set_random_seed(args.seed)
    start = time.time()
    if name == "glow_mnist":
        if args.from_run is None:
            raise SystemExit("--model glow_mnist needs --from-run RUN_DIR (a long run's folder).")
        model, metrics, images = glow_mnist_from_run(pathlib.Path(args.from_run), args.seed)
    else:
        trainer = train_realnvp_moons if name == "realnvp_moons" else train_glow_digits
        model, metrics, images = trainer(epochs, args.seed)
        metrics.update(epochs=epochs, train_seconds=round(time.time() - start, 1))
    metrics.update(seed=args.seed, command=_command(args, name))
    version_dir = tfflow.export(model, model_dir, version=1, metadata=metrics)
    zoom = 4 if images.shape[1] <= 16 else 2  # nearest-neighbour upscaling for viewing
    images = images.repeat(zoom, axis=1).repeat(zoom, axis=2)
    save_image_grid(images, model_dir / "samples.png", ncols=8 if len(images) > 8 else None)
    print(f"{name}: {metrics} -> {version_dir}", flush=True)
    return version_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=(*MODELS, "glow_mnist", "all"), default="all")
    parser.add_argument("--from-run", help="glow_mnist: the folder of a mnist_quality --long run")
    parser.add_argument("--out", default="savedmodels", help="base folder of the model dirs")
    parser.add_argument("--epochs", type=int, default=None, help="default: per model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing version 1 of the model"
    )
    args = parser.parse_args(argv)
    for name in MODELS if args.model == "all" else (args.model,):
        export_model(name, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
