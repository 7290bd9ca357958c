"""Spline vs affine couplings at equal parameter count and equal training wall time.

Two vector RealNVPs (`coupling="affine"` and `coupling="spline"`, same depth, MLP conditioners
whose widths are chosen so the parameter counts match) train on the same batches of the same
data in ONE process, in interleaved windows of `--window-seconds`, until each has spent
`--minutes` inside training steps (the first step, which traces and compiles, and the
validation passes are not counted). After each window, validation bits/dim is measured and
the best-validation weights are kept; test bits/dim is reported at those weights and at the
end. Data are 8-bit pixels flattened to vectors, dequantized with fresh uniform noise each
step (the same noise for both models), evaluated with fixed noise; bits/dim are on the
8-bit scale (uniform density = 8.00).

    python benchmarks/spline_vs_affine.py --dataset digits --minutes 3
    python benchmarks/spline_vs_affine.py --dataset mnist --minutes 4 --affine-hidden 512

Writes a JSON file and appends a row to benchmarks/RESULTS.md (`--results`, "" to skip).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases"))

from bench_common import cpu_model  # noqa: E402

HERE = Path(__file__).resolve().parent
MNIST = HERE.parents[1] / "shared" / "data" / "mnist"


def mlp_parameters(inputs: int, hidden: int, layers: int, outputs: int) -> int:
    """Weights and biases of `tfflow.layers.MLP(outputs, hidden, layers)` on `inputs`."""
    return (
        inputs * hidden
        + hidden
        + (layers - 1) * (hidden * hidden + hidden)
        + hidden * outputs
        + outputs
    )


def matched_spline_width(dim: int, affine_hidden: int, layers: int, num_bins: int) -> int:
    """The spline MLP width whose conditioner has the parameter count closest to the affine
    one's (affine: 2 outputs per transformed element plus one tanh factor; spline: 3K - 1)."""
    half = dim // 2
    target = mlp_parameters(half, affine_hidden, layers, 2 * half) + half
    widths = range(1, 4 * affine_hidden)
    return min(
        widths,
        key=lambda h: abs(mlp_parameters(half, h, layers, (3 * num_bins - 1) * half) - target),
    )


def load(dataset: str, data_dir: Path, val_examples: int):
    """`(train uint8 (N, D), validation float (N, D), test float (N, D))`; evaluation sets
    are dequantized with fixed noise by `tfflow.data.make_dataset`."""
    from tfflow.data import load_arrays, make_dataset

    arrays = load_arrays("digits" if dataset == "digits" else str(data_dir))
    train, val = arrays.train[:-val_examples], arrays.train[-val_examples:]

    def fixed_noise(images, seed):
        ds = make_dataset(images, batch_size=len(images), training=False, seed=seed)
        x = next(iter(ds)).numpy()
        return x.reshape(len(x), -1)

    flat_train = train.reshape(len(train), -1)
    return flat_train, fixed_noise(val, 1), fixed_noise(arrays.test, 2)


def bits_per_dim(model, x: np.ndarray, batch: int = 1000) -> float:
    values = [model.bits_per_dim(x[i : i + batch]).numpy() for i in range(0, len(x), batch)]
    return float(np.mean(np.concatenate(values)))


def build(coupling: str, dim: int, hidden: int, args):
    import tfflow

    model = tfflow.RealNVP(
        (dim,),
        coupling_layers=args.coupling_layers,
        hidden_units=hidden,
        hidden_layers=args.hidden_layers,
        alpha=args.alpha,
        pixels=True,
        coupling=coupling,
        num_bins=args.num_bins,
        spline_bound=args.spline_bound,
        name=f"realnvp_{coupling}",
    )
    # `compile()`'s default: XLA for vector models on Intel CPUs only (see
    # `tfflow.models.cpu_kind`); `--spline-jit-compile` forces it for the spline model.
    force_xla = coupling == "spline" and args.spline_jit_compile
    model.compile(**({"jit_compile": True} if force_xla else {}))
    return model


def run(args) -> dict:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(args.seed)
    train, val, test = load(args.dataset, Path(args.mnist_dir), args.val_examples)
    dim = train.shape[1]
    widths = {
        "affine": args.affine_hidden,
        "spline": matched_spline_width(dim, args.affine_hidden, args.hidden_layers, args.num_bins),
    }
    runs = {}
    for coupling, hidden in widths.items():
        keras.utils.set_random_seed(args.seed)
        model = build(coupling, dim, hidden, args)
        ds = (
            tf.data.Dataset.from_tensor_slices(train)
            .shuffle(len(train), seed=args.seed, reshuffle_each_iteration=True)
            .repeat()
            .batch(args.batch_size, drop_remainder=True)
            .prefetch(2)
        )
        batches = iter(ds)
        t0 = time.perf_counter()
        model.train_on_batch(next(batches))  # traces and compiles: not counted
        compile_s = time.perf_counter() - t0
        params = int(sum(np.prod(v.shape) for v in model.trainable_variables))
        runs[coupling] = {
            "model": model,
            "batches": batches,
            "hidden_units": hidden,
            "parameters": params,
            "compile_seconds": compile_s,
            "train_seconds": 0.0,
            "steps": 1,
            "best_val": math.inf,
            "best_weights": None,
            "curve": [],
            "finite": True,
        }
        print(f"{coupling}: hidden {hidden}, {params:,} parameters, compile {compile_s:.1f} s")
        runs[coupling]["jit_compile"] = bool(model.jit_compile)
    budget = 60.0 * args.minutes
    while any(r["train_seconds"] < budget for r in runs.values()):
        for coupling, r in runs.items():
            if r["train_seconds"] >= budget:
                continue
            window = min(args.window_seconds, budget - r["train_seconds"])
            start = time.perf_counter()
            while time.perf_counter() - start < window:
                logs = r["model"].train_on_batch(next(r["batches"]), return_dict=True)
                r["steps"] += 1
            r["train_seconds"] += time.perf_counter() - start
            loss = float(logs["loss"])
            r["finite"] &= math.isfinite(loss)
            val_bpd = bits_per_dim(r["model"], val)
            r["curve"].append((round(r["train_seconds"], 1), r["steps"], val_bpd))
            if val_bpd < r["best_val"]:
                r["best_val"] = val_bpd
                r["best_weights"] = [v.numpy().copy() for v in r["model"].weights]
            print(
                f"{coupling}: {r['train_seconds']:.0f} s, step {r['steps']}, "
                f"val {val_bpd:.4f} bits/dim",
                flush=True,
            )
    results = {}
    for coupling, r in runs.items():
        model = r["model"]
        end_test = bits_per_dim(model, test)
        if r["best_weights"] is not None:
            model.set_weights(r["best_weights"])
        results[coupling] = {
            "hidden_units": r["hidden_units"],
            "parameters": r["parameters"],
            "steps": r["steps"],
            "train_seconds": round(r["train_seconds"], 1),
            "compile_seconds": round(r["compile_seconds"], 1),
            "jit_compile": r["jit_compile"],
            "best_val_bpd": r["best_val"],
            "test_bpd_best_val": bits_per_dim(model, test),
            "test_bpd_end": end_test,
            "finite": r["finite"] and math.isfinite(end_test),
            "curve": r["curve"],
        }
    return {
        "dataset": args.dataset,
        "dim": dim,
        "train_examples": len(train),
        "val_examples": len(val),
        "test_examples": len(test),
        "settings": {k: v for k, v in vars(args).items() if k not in ("json", "results")},
        "cpu": cpu_model(),
        "command": "python benchmarks/spline_vs_affine.py " + shlex.join(sys.argv[1:]),
        "results": results,
    }


def results_row(report: dict) -> str:
    s = report["settings"]
    a, b = report["results"]["affine"], report["results"]["spline"]
    return (
        f"| {report['dataset']} ({report['dim']}-d) | {s['coupling_layers']} x MLP "
        f"{s['hidden_layers']} layers | K={s['num_bins']}, B={s['spline_bound']} | "
        f"{a['hidden_units']} / {b['hidden_units']} | {a['parameters']:,} / {b['parameters']:,} | "
        f"{s['minutes']} min | {a['steps']} / {b['steps']} | "
        f"{a['test_bpd_best_val']:.4f} / {b['test_bpd_best_val']:.4f} | "
        f"{a['test_bpd_end']:.4f} / {b['test_bpd_end']:.4f} | `{report['command']}` |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("digits", "mnist"), default="digits")
    parser.add_argument("--mnist-dir", default=str(MNIST))
    parser.add_argument("--minutes", type=float, default=3.0, help="training time per model")
    parser.add_argument("--window-seconds", type=float, default=15.0)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--coupling-layers", type=int, default=8)
    parser.add_argument("--hidden-layers", type=int, default=2)
    parser.add_argument("--affine-hidden", type=int, default=256)
    parser.add_argument("--num-bins", type=int, default=8)
    parser.add_argument("--spline-bound", type=float, default=3.0)
    parser.add_argument("--alpha", type=float, default=0.05, help="logit preprocessing")
    parser.add_argument("--val-examples", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--spline-jit-compile",
        action="store_true",
        help="XLA for the spline model (the affine one keeps compile()'s default)",
    )
    parser.add_argument(
        "--json", default=None, help="default benchmarks/spline_vs_affine_<dataset>.json"
    )
    parser.add_argument("--results", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args()
    if args.val_examples is None:
        args.val_examples = 200 if args.dataset == "digits" else 5000
    report = run(args)
    path = Path(args.json or HERE / f"spline_vs_affine_{args.dataset}.json")
    path.write_text(json.dumps(report, indent=1) + "\n")
    row = results_row(report)
    print(row)
    if args.results:
        with open(args.results, "a") as f:
            f.write(row + "\n")


if __name__ == "__main__":
    main()
