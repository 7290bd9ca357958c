"""Model quality on real MNIST at a fixed wall-clock budget, and resumable long runs.

Budget mode (default): trains tfflow's Glow and RealNVP with `fit` on the first 55,000
training images (fresh uniform dequantization per batch), checks the last 5,000 every
`--eval-every` steps keeping the best-validation weights, and reports best-validation and
end test bits/dim on all 10,000 test images (8-bit scale: uniform density = 8.00), over
several seeds, each in its own process.

    python benchmarks/mnist_quality.py --models glow realnvp --seeds 0 1 2 --minutes 8

Long mode: one model, checkpoints every epoch in `--run-dir` (resumable: rerun the same
command to continue), a CSV/PNG curve of validation and test bits/dim (and test nats for NICE)
against wall time; the learning rate drops 0.3x whenever validation stalls for `--patience`
epochs, and the best-validation weights are what the run keeps (see `run_long`).

    python benchmarks/mnist_quality.py --long nice --run-dir runs/nice-mnist --hours 2 \
        --batch-size 200 [--seeds 1]   # long mode trains the first seed given (default 0)

`--long nice_official` trains the same NICE with its authors' recipe instead of `compile()`'s
(see `compile_official_nice`); a run records its model and batch size in `run.json` and
refuses to resume with others.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


def build(name: str):
    import tfflow

    if name == "glow":  # the reference size of the issue: L=2, K=8, 128 channels
        return tfflow.Glow((28, 28, 1), levels=2, steps_per_level=8, hidden_channels=128)
    if name == "glow_logit":  # the same Glow on RealNVP's logit preprocessing
        return tfflow.Glow(
            (28, 28, 1),
            levels=2,
            steps_per_level=8,
            hidden_channels=128,
            preprocessing="logit",
            alpha=1e-6,
        )
    if name == "realnvp":
        return tfflow.RealNVP(
            (28, 28, 1), num_scales=2, residual_blocks=2, hidden_channels=32, alpha=1e-6
        )
    if name in ("nice", "nice_official"):  # the paper: 4 couplings, 5 x 1000 ReLU, logistic
        return tfflow.NICE((784,), pixels=True)
    raise ValueError(f"unknown model {name!r}")


def load(name: str, data_dir: Path, batch_size: int, seed: int):
    import tensorflow as tf

    from tfflow.data import load_arrays, make_dataset

    arrays = load_arrays(str(data_dir))
    train_x, val_x = arrays.train[:55000], arrays.train[55000:]
    flat = name.startswith("nice")

    def shape(ds):
        return ds.map(lambda x: tf.reshape(x, [-1, 784])) if flat else ds

    train = shape(make_dataset(train_x, batch_size=batch_size, training=True, seed=seed))
    val = shape(make_dataset(val_x, batch_size=500, training=False, seed=1))
    test = shape(make_dataset(arrays.test, batch_size=500, training=False, seed=2))
    return train, val, test


def bits_per_dim(model, dataset) -> float:
    import numpy as np

    total, count = 0.0, 0
    for x in dataset:
        values = model.bits_per_dim(x).numpy()
        total += float(np.sum(values))
        count += values.size
    return total / count


def run_budget(name: str, seed: int, minutes: float, eval_every: int, batch: int) -> dict:
    import keras
    import numpy as np

    keras.utils.set_random_seed(seed)
    train, val, test = load(name, MNIST, batch, seed)
    model = build(name)
    model.compile()
    state = {"best": math.inf, "weights": None, "steps": 0, "finite": True, "curve": []}
    start = time.time()

    class Budget(keras.callbacks.Callback):
        def on_train_batch_end(self, batch_index, logs=None):
            state["steps"] += 1
            if not np.isfinite(logs["loss"]):
                state["finite"] = False
            out_of_time = time.time() - start > minutes * 60
            if state["steps"] % eval_every == 0 or out_of_time:
                bpd = bits_per_dim(model, val)
                state["curve"].append((time.time() - start, state["steps"], bpd))
                state["finite"] &= bool(np.isfinite(bpd))
                if bpd < state["best"]:
                    state["best"] = bpd
                    state["weights"] = [v.numpy().copy() for v in model.weights]
                print(f"[{name} seed {seed}] step {state['steps']} val {bpd:.3f} bits/dim")
            if out_of_time:
                self.model.stop_training = True

    model.fit(train, epochs=1000, verbose=0, callbacks=[Budget()])
    end_test = bits_per_dim(model, test)
    if state["weights"] is not None:
        model.set_weights(state["weights"])
    best_test = bits_per_dim(model, test)
    return {
        "model": name,
        "seed": seed,
        "minutes": minutes,
        "steps": state["steps"],
        "best_val_bpd": state["best"],
        "test_bpd_best_val": best_test,
        "test_bpd_end": end_test,
        "finite": state["finite"] and bool(np.isfinite(end_test)),
        "curve": state["curve"],
    }


def compile_official_nice(model, first_batch) -> None:
    """The NICE authors' MNIST recipe (github.com/laurent-dinh/nice, exp/nice_mnist.yaml):
    every Dense kernel uniform in [-0.01, 0.01], RMSProp (decay 0.95, momentum 0.5, the
    `max(rms, 1e-2)` stabiliser approximated by eps = 1e-4 under the square root), learning
    rate 1e-3 divided by 1.0005 per step down to 1e-4. Weights restored from a checkpoint
    replace this initialisation when a run resumes."""
    import keras
    import numpy as np

    from tfflow.layers import MLP
    from tfflow.optimizers import LinearWarmup

    model.initialize(first_batch)
    rng = np.random.default_rng(0)
    for layer in model.flow_layers:
        if isinstance(layer, MLP):
            for dense in [*layer.hidden, layer.output_layer]:
                shape = tuple(dense.kernel.shape)
                dense.kernel.assign(rng.uniform(-0.01, 0.01, shape).astype("float32"))
    schedule = LinearWarmup(1e-3, 0, 1 / 1.0005, 0.1)
    model.compile(
        optimizer=keras.optimizers.RMSprop(schedule, rho=0.95, momentum=0.5, epsilon=1e-4)
    )


def nats_unit_scale(bpd: float) -> float:
    """Test log-likelihood in nats on the NICE paper's [0, 1] scale from bits/dim on the 8-bit
    scale: the density over [0, 256) plus the rescaling's log-det (log 256 per pixel)."""
    return 784 * math.log(2.0) * (8.0 - bpd)


def _learning_rate_schedule(model):
    """The optimizer's `LinearWarmup` (its `scale` lowers the rate), or None."""
    from tfflow._compat.keras import learning_rate_schedule
    from tfflow.optimizers import LinearWarmup

    schedule = learning_rate_schedule(model.optimizer)
    return schedule if isinstance(schedule, LinearWarmup) else None


def _plateau_state(rows: list[dict]) -> dict:
    """Best validation score, epochs without improvement, drops so far and the current rate
    scale, recovered from a run's curve so that a resumed run continues its schedule."""
    state = {"best": math.inf, "wait": 0, "drops": 0, "scale": 1.0}
    for row in rows:
        if not row.get("val_bpd"):
            continue  # a run started before validation was recorded
        scale = float(row["lr_scale"])
        _observe_validation(state, float(row["val_bpd"]))
        if scale < state["scale"]:
            state["drops"] += 1
            state["wait"] = 0
        state["scale"] = scale
    return state


def _observe_validation(state: dict, val_bpd: float) -> bool:
    """Counts an epoch's validation score into `state`; True when it is a new best."""
    if val_bpd < state["best"]:
        state["best"], state["wait"] = val_bpd, 0
        return True
    state["wait"] += 1
    return False


def run_long(
    name: str,
    run_dir: Path,
    hours: float,
    batch: int,
    patience: int = 2,
    max_drops: int = 3,
    seed: int = 0,
) -> None:
    """Trains `name` for up to `hours`, resumable from `run_dir/backup`.

    Every epoch it scores the validation images (the last 5,000 training images) and the
    10,000 test images, keeps the best-validation weights in `run_dir/best.weights.h5`, and,
    when validation has not improved for `patience` epochs, lowers the learning rate 0.3x
    (Keras' `ReduceLROnPlateau` rule, applied through the recipe schedule's `scale`); after
    `max_drops` drops a further plateau ends the run. `model.keras` holds the best-validation
    weights at the end.
    """
    import csv

    import keras

    from tfflow.callbacks import AtomicBackupAndRestore
    from tfflow.optimizers import scale_learning_rate

    run_dir.mkdir(parents=True, exist_ok=True)
    settings_path = run_dir / "run.json"
    settings = {"model": name, "batch_size": batch, "seed": seed}
    if settings_path.exists():  # a resumed run must train what it started with
        saved = {"seed": 0, **json.loads(settings_path.read_text())}  # older runs: seed 0
        if saved != settings:
            raise SystemExit(f"{run_dir} was started with {saved}; resuming with {settings}.")
    else:
        settings_path.write_text(json.dumps(settings) + "\n")
    keras.utils.set_random_seed(seed)
    train, val, test = load(name, MNIST, batch, seed)
    model = build(name)
    if name == "nice_official":
        compile_official_nice(model, next(iter(train)))
    else:
        model.compile()
    curve_path = run_dir / "curve.csv"
    best_path = run_dir / "best.weights.h5"
    columns = ["epoch", "wall_s", "val_bpd", "test_bpd", "test_nats_unit_scale", "lr_scale"]
    rows = list(csv.DictReader(curve_path.open())) if curve_path.exists() else []
    if rows:
        columns = list(rows[0].keys())  # keep an older run's columns
    elapsed_before = float(rows[-1]["wall_s"]) if rows else 0.0
    plateau = _plateau_state(rows)
    schedule = _learning_rate_schedule(model)
    start = time.time()

    class Curve(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            if schedule is not None:  # after BackupAndRestore: a resumed run keeps its drops
                schedule.scale.assign(plateau["scale"])

        def on_epoch_end(self, epoch, logs=None):
            val_bpd = bits_per_dim(model, val)
            bpd = bits_per_dim(model, test)
            nats = nats_unit_scale(bpd)
            if _observe_validation(plateau, val_bpd):
                model.save_weights(best_path)
            if plateau["wait"] >= patience and schedule is not None:
                if plateau["drops"] >= max_drops:
                    print(f"validation flat after {max_drops} rate drops; stopping")
                    self.model.stop_training = True
                else:
                    plateau["drops"] += 1
                    plateau["wait"] = 0
                    plateau["scale"] *= 0.3
                    scale_learning_rate(self.model.optimizer, 0.3)
            wall = elapsed_before + time.time() - start
            row = {
                "epoch": epoch + 1,
                "wall_s": f"{wall:.1f}",
                "val_bpd": f"{val_bpd:.4f}",
                "test_bpd": f"{bpd:.4f}",
                "test_nats_unit_scale": f"{nats:.2f}",
                "lr_scale": f"{plateau['scale']:.4g}",
            }
            new = not curve_path.exists()
            with curve_path.open("a", newline="") as f:
                writer = csv.DictWriter(f, columns, extrasaction="ignore")
                if new:
                    writer.writeheader()
                writer.writerow(row)
            print(
                f"epoch {epoch + 1}: val {val_bpd:.4f}, test {bpd:.4f} bits/dim, "
                f"{nats:.1f} nats, rate scale {plateau['scale']:.3g}",
                flush=True,
            )
            if time.time() - start > hours * 3600:
                self.model.stop_training = True

    # Kept after the run ends (delete_checkpoint=False): a later `--long` call continues it.
    backup = AtomicBackupAndRestore(str(run_dir / "backup"), delete_checkpoint=False)
    model.fit(train, epochs=10000, verbose=2, callbacks=[backup, Curve()])
    if best_path.exists():
        model.load_weights(best_path)
        bpd = bits_per_dim(model, test)
        print(
            f"best validation {plateau['best']:.4f} bits/dim: test {bpd:.4f}, "
            f"{nats_unit_scale(bpd):.1f} nats"
        )
    model.save(run_dir / "model.keras")
    plot_curve(curve_path, run_dir / "curve.png", name)


def plot_curve(csv_path: Path, png_path: Path, name: str) -> None:
    import csv

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(csv.DictReader(csv_path.open()))
    hours = [float(r["wall_s"]) / 3600 for r in rows]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    nats = name.startswith("nice")

    def score(bpd: str) -> float:  # nats on the NICE paper's [0, 1] scale, or bits/dim
        return nats_unit_scale(float(bpd)) if nats else float(bpd)

    ax.plot(hours, [score(r["test_bpd"]) for r in rows], marker="o", ms=3, label="test")
    if rows and rows[0].get("val_bpd"):
        ax.plot(hours, [score(r["val_bpd"]) for r in rows], ls=":", label="validation")
        for before, row in itertools.pairwise(rows):  # the rate dropped after `row`'s epoch
            if float(row["lr_scale"]) < float(before["lr_scale"]):
                ax.axvline(float(row["wall_s"]) / 3600, color="gray", lw=0.8, ls="-.")
    if nats:
        ax.axhline(1980.50, color="gray", ls="--", label="paper 1980.50")
    ax.set_ylabel("log-likelihood (nats)" if nats else "bits/dim")
    ax.set_xlabel("wall time (hours)")
    ax.set_title(f"{name} on MNIST")
    ax.legend()
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["glow", "realnvp"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--minutes", type=float, default=8.0)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/mnist_quality.json"))
    parser.add_argument(
        "--long", choices=["nice", "nice_official", "glow", "glow_logit", "realnvp"]
    )
    parser.add_argument("--run-dir", type=Path)
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--patience", type=int, default=2, help="long mode: epochs")
    parser.add_argument("--max-drops", type=int, default=3, help="long mode: rate drops")
    parser.add_argument("--one", nargs=2, metavar=("MODEL", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not MNIST.exists():
        print(f"MNIST not found at {MNIST}", file=sys.stderr)
        return 2
    if args.one:
        result = run_budget(
            args.one[0], int(args.one[1]), args.minutes, args.eval_every, args.batch_size
        )
        print("RESULT " + json.dumps(result))
        return 0
    if args.long:
        run_dir = args.run_dir or Path(f"runs/{args.long}-mnist")
        run_long(
            args.long,
            run_dir,
            args.hours,
            args.batch_size,
            args.patience,
            args.max_drops,
            seed=args.seeds[0],
        )
        return 0
    results = []
    for name in args.models:
        for seed in args.seeds:
            command = [
                sys.executable,
                __file__,
                "--one",
                name,
                str(seed),
                "--minutes",
                str(args.minutes),
                "--eval-every",
                str(args.eval_every),
                "--batch-size",
                str(args.batch_size),
            ]
            output = subprocess.run(command, capture_output=True, text=True, check=False)
            line = [x for x in output.stdout.splitlines() if x.startswith("RESULT ")]
            if not line:
                print(output.stdout[-2000:], output.stderr[-3000:], file=sys.stderr)
                continue
            results.append(json.loads(line[0][len("RESULT ") :]))
            r = results[-1]
            print(
                f"{name} seed {seed}: {r['steps']} steps, best-val test "
                f"{r['test_bpd_best_val']:.3f}, end test {r['test_bpd_end']:.3f}, "
                f"finite {r['finite']}",
                flush=True,
            )
    args.out.write_text(json.dumps(results, indent=1))
    print("\n| model | seed | steps | best-val test bits/dim | end test bits/dim | finite |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['model']} | {r['seed']} | {r['steps']} | {r['test_bpd_best_val']:.3f} | "
            f"{r['test_bpd_end']:.3f} | {r['finite']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
