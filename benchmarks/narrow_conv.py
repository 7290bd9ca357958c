"""Would Glow's narrow output convolution run faster as a matmul plus a 3x3 shift-and-add?

Usage (from the repository root):

    .venv/bin/python benchmarks/narrow_conv.py [--rounds 9] [--window-s 0.3]

A Glow coupling network ends in a 3x3 convolution from `hidden` to few channels (`2c`: 4 at
glow28's first level). oneDNN runs such a convolution at the cost of one with 16 output
channels. The alternative computes the nine taps' contributions as one 1x1 convolution to
`9 * cout` channels (a matmul) and adds them up shifted, with a depthwise 3x3 convolution of
one-hot kernels and a sum over taps; same weights, same result up to rounding. For each
coupling-network shape of the glow28 and glow32 workloads (batch, size, input channels,
hidden, output channels), the whole network (3x3, ReLU, 1x1, ReLU, output conv) is timed
forward and forward + backward (input and weight gradients) both ways, interleaved in one
process (`profile_tfflow.interleaved`); prints the median of per-round ratios
direct / decomposed (above 1: the decomposition is faster), with the CPU model.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases"))

from bench_common import cpu_model  # noqa: E402
from profile_tfflow import interleaved  # noqa: E402

# (batch, height = width, input channels, hidden channels, output channels)
SHAPES = {
    "glow28 level 1": (64, 14, 2, 128, 4),
    "glow28 level 2": (64, 7, 4, 128, 8),
    "glow32 level 1": (32, 16, 6, 256, 12),
    "glow32 level 2": (32, 8, 12, 256, 24),
    "glow32 level 3": (32, 4, 24, 256, 48),
}


def _networks(tf, batch: int, size: int, cin: int, hidden: int, cout: int):
    rng = np.random.default_rng(0)

    def weight(*shape, scale=0.1):
        return tf.Variable(rng.normal(size=shape).astype("float32") * scale)

    k1, b1 = weight(3, 3, cin, hidden), weight(hidden)
    k2, b2 = weight(1, 1, hidden, hidden), weight(hidden)
    k3, b3 = weight(3, 3, hidden, cout, scale=0.01), weight(cout)
    onehot = np.zeros([3, 3, 9 * cout, 1], np.float32)
    for tap in range(9):
        onehot[tap // 3, tap % 3, tap * cout : (tap + 1) * cout, 0] = 1
    onehot = tf.constant(onehot)

    def hidden_part(x):
        h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, k1, 1, "SAME"), b1))
        return tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(h, k2, 1, "SAME"), b2))

    def direct(x):
        return tf.nn.bias_add(tf.nn.conv2d(hidden_part(x), k3, 1, "SAME"), b3)

    def decomposed(x):
        taps = tf.reshape(tf.transpose(k3, [2, 0, 1, 3]), [1, 1, hidden, 9 * cout])
        z = tf.nn.conv2d(hidden_part(x), taps, 1, "SAME")
        shifted = tf.nn.depthwise_conv2d(z, onehot, [1, 1, 1, 1], "SAME")
        y = tf.reduce_sum(tf.reshape(shifted, [batch, size, size, 9, cout]), axis=3)
        return tf.nn.bias_add(y, b3)

    x = tf.constant(rng.normal(size=(batch, size, size, cin)).astype("float32"))
    return x, [k1, b1, k2, b2, k3, b3], {"direct": direct, "decomposed": decomposed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--window-s", type=float, default=0.3)
    args = parser.parse_args(argv)
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    print(f"CPU: {cpu_model()}; TensorFlow {tf.__version__}; {args.rounds} rounds")
    print("| network | forward ms (direct / decomposed) | ratio | fwd+bwd ms | ratio |")
    print("|---|--:|--:|--:|--:|")
    for name, shape in SHAPES.items():
        x, variables, nets = _networks(tf, *shape)
        error = np.abs(nets["direct"](x).numpy() - nets["decomposed"](x).numpy()).max()
        assert error < 1e-4, f"{name}: the decomposition differs by {error}"
        fns = {}
        for kind, net in nets.items():
            forward = tf.function(lambda x, net=net: net(x))

            @tf.function
            def both(x, net=net, variables=variables):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    loss = tf.reduce_sum(tf.square(net(x)))
                return tape.gradient(loss, [x, *variables])[0]

            fns[f"fwd {kind}"] = lambda f=forward, x=x: f(x)
            fns[f"both {kind}"] = lambda f=both, x=x: f(x)
        times = interleaved(fns, args.rounds, args.window_s)
        cells = []
        for part in ("fwd", "both"):
            direct, decomposed = times[f"{part} direct"], times[f"{part} decomposed"]
            ratio = statistics.median(d / e for d, e in zip(direct, decomposed, strict=True))
            ms = " / ".join(f"{1e3 * statistics.median(t):.2f}" for t in (direct, decomposed))
            cells += [ms, f"{ratio:.2f}"]
        print(f"| {name} {shape} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
