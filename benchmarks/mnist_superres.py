"""Super-resolution on real MNIST: p(28x28 | 14x14) with a context-conditional Glow.

The context of an image is its 14x14 average-pooled version: the 2x2 mean of the integer
pixels divided by 255, so in [0, 1] (the scale `ContextEncoder` expects). It is computed once
from the integer image, so every dequantization draw of an image sees the same context.

A Glow conditioned on that context (`context_shape=(14, 14, 1)`: the shared CNN context
encoder feeds every coupling; optionally `context_prior=True`, a learned context-dependent
prior) is trained against the unconditional Glow of the same size (levels, steps, channels)
with the same budget: the same number of steps on the same batches (first 55,000 training
images, one shared shuffled order, fresh uniform dequantization per step in `train_step`).
The models are interleaved in one process, `--chunk` steps each in turn, so that the load of
the shared machine falls on all of them alike; each model's wall time is the sum of its own
chunks. Test bits/dim (8-bit scale) are measured on all 10,000 test images with the same fixed
dequantization noise for every model, and `--figure` shows, for several test digits, the
low-res input (nearest upscaled), samples at temperature T=0.7 and the ground truth.

    python benchmarks/mnist_superres.py --steps 1800 --chunk 150 \
        --models unconditional conditional conditional_prior

`--data synthetic` replaces MNIST by a few random images (for the smoke test).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
MODELS = ("unconditional", "conditional", "conditional_prior")

__all__ = [
    "MODELS",
    "build",
    "evaluate",
    "low_resolution",
    "plot_superres",
    "run",
    "synthetic_splits",
]


def low_resolution(images: np.ndarray) -> np.ndarray:
    """The context: 2x2 average pooling of integer images `(N, H, W, C)` scaled to [0, 1].

    `c[i, j] = (x[2i, 2j] + x[2i+1, 2j] + x[2i, 2j+1] + x[2i+1, 2j+1]) / (4 * 255)`.
    """
    n, h, w, c = images.shape
    blocks = images.astype(np.float32).reshape(n, h // 2, 2, w // 2, 2, c)
    return blocks.mean(axis=(2, 4)) / 255.0


def build(name: str, shape: tuple[int, int, int], levels: int, steps: int, channels: int):
    """The unconditional Glow, or the one conditioned on the low-res image (same flow size)."""
    import tfflow

    if name not in MODELS:
        raise ValueError(f"`name` must be one of {MODELS}; received {name!r}.")
    context = {}
    if name != "unconditional":
        low = (shape[0] // 2, shape[1] // 2, shape[2])
        context = {"context_shape": low, "context_prior": name == "conditional_prior"}
    model = tfflow.Glow(
        shape, levels=levels, steps_per_level=steps, hidden_channels=channels, **context
    )
    model.compile()
    return model


def synthetic_splits(
    n_train: int = 64, n_test: int = 16, size: int = 8, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Random 8-bit images standing in for MNIST: `(train, test)` uint8 `(N, size, size, 1)`."""
    rng = np.random.default_rng(seed)
    train = rng.integers(0, 256, (n_train, size, size, 1), dtype=np.uint8)
    test = rng.integers(0, 256, (n_test, size, size, 1), dtype=np.uint8)
    return train, test


def _chunk_dataset(images, context, order, batch_size):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((images[order], context[order])).batch(
        batch_size, drop_remainder=True
    )


def evaluate(model, test_x: np.ndarray, test_c: np.ndarray, batch_size: int = 500) -> float:
    """Mean test bits/dim over all of `test_x`, dequantized with fixed noise (seed 2), the
    same values for every model."""
    import tensorflow as tf

    from tfflow.data import make_dataset

    images = make_dataset(test_x, batch_size=batch_size, training=False, seed=2)
    contexts = tf.data.Dataset.from_tensor_slices(test_c).batch(batch_size)
    total, count = 0.0, 0
    for x, c in tf.data.Dataset.zip((images, contexts)):
        context = c if model.context_shape is not None else None
        values = model.bits_per_dim(x, context=context).numpy()
        total += float(np.sum(values))
        count += values.size
    return total / count


def run(
    names: Iterable[str],
    train_x: np.ndarray,
    test_x: np.ndarray,
    steps: int,
    batch_size: int,
    chunk: int,
    levels: int,
    steps_per_level: int,
    channels: int,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> dict:
    """Trains `names` interleaved, `chunk` steps each in turn, on identical batches; returns
    each model's parameter counts, wall time, loss and test bits/dim, and the models."""
    import keras

    train_c, test_c = low_resolution(train_x), low_resolution(test_x)
    shape = tuple(train_x.shape[1:])
    models, results = {}, {}
    for name in names:
        keras.utils.set_random_seed(seed)
        model = build(name, shape, levels, steps_per_level, channels)
        models[name] = model
        results[name] = {"model": name, "train_s": 0.0, "steps": 0, "loss": []}
    rng = np.random.default_rng(seed)
    per_epoch = len(train_x) // batch_size * batch_size
    order = np.concatenate(
        [
            rng.permutation(len(train_x))[:per_epoch]
            for _ in range(-(-steps * batch_size // per_epoch))
        ]
    )
    done = 0
    while done < steps:
        take = min(chunk, steps - done)
        indices = order[done * batch_size : (done + take) * batch_size]
        for name, model in models.items():
            data = _chunk_dataset(train_x, train_c, indices, batch_size)
            if model.context_shape is None:
                data = data.map(lambda x, c: x)
            start = time.time()
            history = model.fit(data, epochs=1, verbose=0, shuffle=False)
            results[name]["train_s"] += time.time() - start
            results[name]["steps"] += take
            results[name]["loss"].append(float(history.history["loss"][-1]))
        done += take
        log(
            f"step {done}/{steps}: "
            + ", ".join(
                f"{n} loss {r['loss'][-1]:.1f} ({r['train_s']:.0f}s)" for n, r in results.items()
            )
        )
    for name, model in models.items():
        start = time.time()
        result = results[name]
        result["test_bpd"] = evaluate(model, test_x, test_c)
        result["eval_s"] = time.time() - start
        result["params"] = int(model.count_params())
        encoder = model.context_encoder
        result["encoder_params"] = 0 if encoder is None else int(encoder.count_params())
        log(f"{name}: test {result['test_bpd']:.4f} bits/dim ({len(test_x)} images)")
    return {"results": results, "models": models}


def plot_superres(
    model,
    test_x: np.ndarray,
    path: Path,
    rows: int = 8,
    samples: int = 4,
    temperature: float = 0.7,
    seed: int = 0,
) -> None:
    """Rows of test digits: low-res input (nearest upscaled), samples, ground truth."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    digits = test_x[:rows]
    context = low_resolution(digits)
    repeated = np.repeat(context, samples, axis=0)
    drawn = model.sample(rows * samples, temperature=temperature, seed=seed, context=repeated)
    drawn = np.clip(np.asarray(drawn), 0, 255).reshape((rows, samples) + digits.shape[1:])
    upscaled = np.repeat(np.repeat(context * 255.0, 2, axis=1), 2, axis=2)
    columns = samples + 2
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.1, rows * 1.1))
    axes = np.asarray(axes).reshape(rows, columns)
    titles = ["14x14 input"] + [f"T={temperature} #{k + 1}" for k in range(samples)] + ["truth"]
    for i in range(rows):
        panels = [upscaled[i], *drawn[i], digits[i]]
        for j, panel in enumerate(panels):
            ax = axes[i, j]
            ax.imshow(np.asarray(panel)[..., 0], cmap="gray", vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(titles[j], fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS[:2]))
    parser.add_argument("--steps", type=int, default=1800)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--chunk", type=int, default=150, help="steps per model per turn")
    parser.add_argument("--levels", type=int, default=2)
    parser.add_argument("--steps-per-level", type=int, default=4)
    parser.add_argument("--hidden-channels", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", choices=["mnist", "synthetic"], default="mnist")
    parser.add_argument("--test-limit", type=int, default=None, help="first N test images")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/mnist_superres.json"))
    parser.add_argument(
        "--figure", default="benchmarks/mnist_superres.png", help="PNG path; '' for none"
    )
    args = parser.parse_args(argv)
    if args.data == "mnist":
        if not MNIST.exists():
            print(f"MNIST not found at {MNIST}", file=sys.stderr)
            return 2
        from tfflow.data import load_arrays

        arrays = load_arrays(str(MNIST))
        train_x, test_x = arrays.train[:55000], arrays.test
    else:
        train_x, test_x = synthetic_splits()
    if args.test_limit:
        test_x = test_x[: args.test_limit]
    out = run(
        args.models,
        train_x,
        test_x,
        args.steps,
        args.batch_size,
        args.chunk,
        args.levels,
        args.steps_per_level,
        args.hidden_channels,
        args.seed,
        log=lambda line: print(line, flush=True),
    )
    conditional = [n for n in args.models if n != "unconditional"]
    if conditional and args.figure:
        plot_superres(out["models"][conditional[0]], test_x, Path(args.figure))
    record = {
        "command": "python " + " ".join(["benchmarks/mnist_superres.py", *(argv or sys.argv[1:])]),
        "data": args.data,
        "train_images": len(train_x),
        "test_images": len(test_x),
        "context": "2x2 mean of the integer pixels / 255, in [0, 1], shape "
        + str(low_resolution(test_x[:1]).shape[1:]),
        "size": {
            "levels": args.levels,
            "steps_per_level": args.steps_per_level,
            "hidden_channels": args.hidden_channels,
        },
        "steps": args.steps,
        "batch_size": args.batch_size,
        "chunk": args.chunk,
        "seed": args.seed,
        "schedule": "interleaved in one process, --chunk steps per model per turn",
        "results": out["results"],
    }
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
