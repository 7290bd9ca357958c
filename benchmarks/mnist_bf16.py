"""float32 against mixed_bfloat16 Glow on real MNIST at the same wall-clock budget.

The 8-minute MNIST recipe of `mnist_quality.py` (Glow L=2, K=8, 128 channels, logit
preprocessing, `compile()` defaults, batch 64, best-validation weights, test bits/dim on all
10,000 test images) run once per Keras dtype policy. The two models are trained interleaved in
one process, `--chunk` steps each in turn on identical batches, and each stops when its own
training-plus-validation time reaches `--minutes`: the load of other processes falls on both
alike, so the step counts compare the policies' speed and the bits/dim their quality at that
budget. Under `mixed_bfloat16` the convolutions run in bfloat16 while the prior, the
log-determinants and the loss stay in float32.

    python benchmarks/mnist_bf16.py --minutes 8 --out benchmarks/mnist_bf16.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases"))

from bench_common import cpu_model  # noqa: E402

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
POLICIES = ("float32", "mixed_bfloat16")


def build(policy: str, seed: int):
    """The reference Glow of `mnist_quality.py` ("glow_logit") under the dtype `policy`."""
    import keras
    from mnist_quality import build as build_reference

    keras.utils.set_random_seed(seed)
    keras.mixed_precision.set_global_policy(policy)
    try:
        model = build_reference("glow_logit")
        model.compile()
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return model


def bits_per_dim(model, images: np.ndarray, seed: int) -> float:
    """Mean bits/dim over `images`, dequantized with fixed noise (the same for every model)."""
    from tfflow.data import make_dataset

    total, count = 0.0, 0
    for x in make_dataset(images, batch_size=500, training=False, seed=seed):
        values = model.bits_per_dim(x).numpy().astype(np.float64)
        total += float(values.sum())
        count += values.size
    return total / count


def run(minutes: float, chunk: int, eval_every: int, batch: int, seed: int, log=print) -> dict:
    """Trains one Glow per policy, interleaved, until each has used `minutes`; returns each
    policy's steps, times, best validation and test bits/dim."""
    import tensorflow as tf

    from tfflow.data import load_arrays

    arrays = load_arrays(str(MNIST))
    train_x, val_x, test_x = arrays.train[:55000], arrays.train[55000:], arrays.test
    models = {policy: build(policy, seed) for policy in POLICIES}
    state = {
        p: {
            "policy": p,
            "steps": 0,
            "seconds": 0.0,
            "best_val": math.inf,
            "weights": None,
            "curve": [],
            "finite": True,
        }
        for p in POLICIES
    }
    rng = np.random.default_rng(seed)
    per_epoch = len(train_x) // batch
    order = np.concatenate([rng.permutation(len(train_x))[: per_epoch * batch] for _ in range(20)])
    budget = minutes * 60
    position = 0
    while any(s["seconds"] < budget for s in state.values()):
        indices = order[position * batch : (position + chunk) * batch]
        position += chunk
        for policy, model in models.items():
            s = state[policy]
            if s["seconds"] >= budget:
                continue
            data = tf.data.Dataset.from_tensor_slices(train_x[indices]).batch(batch)
            start = time.perf_counter()
            history = model.fit(data, epochs=1, verbose=0, shuffle=False)
            s["steps"] += chunk
            loss = float(history.history["loss"][-1])
            s["finite"] &= bool(np.isfinite(loss))
            if s["steps"] % eval_every == 0:
                val = bits_per_dim(model, val_x, seed=1)
                s["finite"] &= bool(np.isfinite(val))
                if val < s["best_val"]:
                    s["best_val"] = val
                    s["weights"] = [w.numpy().copy() for w in model.weights]
                s["curve"].append((s["seconds"], s["steps"], val))
            s["seconds"] += time.perf_counter() - start
        log(", ".join(f"{p}: {s['steps']} steps {s['seconds']:.0f}s" for p, s in state.items()))
    results = []
    for policy, model in models.items():
        s = state[policy]
        val = bits_per_dim(model, val_x, seed=1)
        s["curve"].append((s["seconds"], s["steps"], val))
        end_test = bits_per_dim(model, test_x, seed=2)
        best_weights = s.pop("weights")
        if val <= s["best_val"]:
            s["best_val"] = val
            best_test = end_test
        else:
            model.set_weights(best_weights)
            best_test = bits_per_dim(model, test_x, seed=2)
        results.append(s | {"test_bpd_end": end_test, "test_bpd_best_val": best_test})
        log(f"{policy}: {s['steps']} steps, test {best_test:.4f} bits/dim (best val)")
    return {"results": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=8.0, help="budget per policy")
    parser.add_argument("--chunk", type=int, default=50, help="steps per model per turn")
    parser.add_argument("--eval-every", type=int, default=250, help="steps between validations")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/mnist_bf16.json"))
    args = parser.parse_args(argv)
    if not MNIST.exists():
        print(f"MNIST not found at {MNIST}", file=sys.stderr)
        return 2
    out = run(args.minutes, args.chunk, args.eval_every, args.batch_size, args.seed)
    out |= {
        "cpu": cpu_model(),
        "command": "python benchmarks/mnist_bf16.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
    }
    args.out.write_text(json.dumps(out, indent=1))
    print(f"\nCPU: {out['cpu']}\n")
    print(
        "| policy | steps | train+val s | best val bits/dim | test bits/dim (best val) | "
        "test bits/dim (end) | finite |"
    )
    print("|---|--:|--:|--:|--:|--:|---|")
    for r in out["results"]:
        print(
            f"| {r['policy']} | {r['steps']} | {r['seconds']:.0f} | {r['best_val']:.4f} | "
            f"{r['test_bpd_best_val']:.4f} | {r['test_bpd_end']:.4f} | {r['finite']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
