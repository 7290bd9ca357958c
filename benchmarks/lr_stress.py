"""Numerics under a 10x learning rate: does training stay finite, and what does it cost?

Trains Glow (levels=2, steps_per_level=4, hidden 64) and RealNVP (2 scales, 2 residual blocks,
32 channels) - the digits models of `digits_models.py` - on the 8x8 digits at `--multiplier`
times the paper learning rate of `compile()` (1e-3 for both), for `--steps` steps of 64
examples, with `compile()` defaults otherwise (Glow keeps its 200-step warmup), once without
and once with `compile(clipnorm=...)`. `fit()`'s `DivergenceGuard` is on, as by default.

Reported per run: whether every batch loss was finite (read before the guard acts), the
number of non-finite batches, the guard's rollbacks (each halves the learning rate), the
final learning rate, the final test bits/dim (297 test digits, deterministic dequantization)
and the wall time. `--baseline` adds runs at the paper learning rate.

    python benchmarks/lr_stress.py --steps 1000 --multiplier 10 --clipnorm 1.0 --baseline
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import tfflow  # noqa: E402
from tfflow.callbacks import DivergenceGuard  # noqa: E402
from tfflow.data import load_arrays, make_dataset  # noqa: E402

MODELS = {
    "glow": lambda: tfflow.Glow((8, 8, 1), levels=2, steps_per_level=4, hidden_channels=64),
    "realnvp": lambda: tfflow.RealNVP(
        (8, 8, 1), num_scales=2, residual_blocks=2, hidden_channels=32
    ),
}


class BatchLosses(keras.callbacks.Callback):
    """Records every batch's own loss, before `DivergenceGuard` (which runs last) acts."""

    def __init__(self):
        super().__init__()
        self.losses: list[float] = []

    def on_train_batch_end(self, batch, logs=None):
        state = self.model.guard_state
        self.losses.append(float(np.asarray(state.batch_loss.numpy()).reshape(-1)[0]))


def _current_lr(model) -> float:
    optimizer = model.optimizer
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def run(name: str, steps: int, multiplier: float, clipnorm: float | None, digits) -> dict:
    keras.utils.set_random_seed(0)
    train = make_dataset(digits.train, batch_size=64, training=True, seed=0).repeat()
    test = make_dataset(digits.test, batch_size=297, training=False, seed=0)
    model = MODELS[name]()
    learning_rate = model.learning_rate * multiplier
    model.compile(learning_rate=learning_rate, clipnorm=clipnorm)
    losses, guard = BatchLosses(), DivergenceGuard(verbose=False)
    steps_per_epoch = min(100, steps)
    start = time.perf_counter()
    model.fit(
        train,
        epochs=math.ceil(steps / steps_per_epoch),
        steps_per_epoch=steps_per_epoch,
        verbose=0,
        callbacks=[losses],
        guard=guard,
    )
    seconds = time.perf_counter() - start
    bpd = float(np.mean(np.concatenate([model.bits_per_dim(x).numpy() for x in test])))
    nonfinite = sum(not math.isfinite(loss) for loss in losses.losses)
    return {
        "model": name,
        "learning_rate": learning_rate,
        "clipnorm": clipnorm,
        "steps": len(losses.losses),
        "all_finite": nonfinite == 0,
        "nonfinite_batches": nonfinite,
        "rollbacks": len(guard.rollbacks),
        "rollback_batches": [r["batch"] for r in guard.rollbacks],
        "final_learning_rate": _current_lr(model),
        "test_bits_per_dim": bpd,
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--multiplier", type=float, default=10.0)
    parser.add_argument("--clipnorm", type=float, default=1.0)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--baseline", action="store_true", help="also run at the paper rate")
    parser.add_argument("--json", help="write the rows to this JSON file")
    args = parser.parse_args()
    digits = load_arrays("digits")
    settings = [(args.multiplier, None), (args.multiplier, args.clipnorm)]
    if args.baseline:
        settings.insert(0, (1.0, None))
    print(
        "| model | learning rate | clipnorm | steps | loss always finite | non-finite batches "
        "| rollbacks | final learning rate | test bits/dim | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for name in args.models:
        for multiplier, clipnorm in settings:
            row = run(name, args.steps, multiplier, clipnorm, digits)
            rows.append(row)
            print(
                f"| {name} | {row['learning_rate']:.0e} | {clipnorm or '-'} | {row['steps']} "
                f"| {'yes' if row['all_finite'] else 'no'} | {row['nonfinite_batches']} "
                f"| {row['rollbacks']} | {row['final_learning_rate']:.2e} "
                f"| {row['test_bits_per_dim']:.3f} | {row['seconds']:.0f} |",
                flush=True,
            )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=2)


if __name__ == "__main__":
    main()
