"""The lower bound: tfflow's conditioner networks alone, at the flow's shapes and count.

For a workload, the same Keras layers tfflow builds (`tfflow.layers.MLP` for tabular RealNVP;
`tfflow.layers.GlowBlock` plus the split's `ZeroConv2D` prior for Glow) run on inputs of the
shapes they see inside the flow. Each network's input is chained from the previous network's
output (`x <- x + out[..., :c]`, taken with `tf.split`), so the backward pass also computes
input gradients, as in a flow. In Glow every level starts with an ActNorm, so the first network
of a level needs its input gradient too: there the input is scaled by a trainable per-channel
gain (`input_gains`, trained with the networks but not counted among their parameters). A
level's input also depends on the previous level's result (through its mean), so that, as in
the flow, no two levels' networks can run side by side on TensorFlow's inter-op threads.
`train` is forward + backward + a Keras 3 Adam step of `train_variables`; `forward` is forward
only, the bound for both `log_prob` (one conditioner pass per coupling) and
sampling (one inverse pass).
"""

from __future__ import annotations

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from bench_common import case_main, lower_bound_shapes, measure, peak_rss_mib  # noqa: E402
from bench_tf import adam_train_step, set_tf_threads, sync_numpy, tf_versions  # noqa: E402

__all__ = ["ConditionerStack", "run"]


class ConditionerStack:
    """The conditioner networks of a workload, applied one after the other.

    Args:
        spec: a workload spec (see `bench_common.WORKLOADS`).
    """

    def __init__(self, spec: dict[str, Any]):
        from tfflow.layers import MLP, GlowBlock, ZeroConv2D

        self.batch = int(spec["batch"])
        self.nets, self.shapes = [], []
        for i, (kind, shape, out) in enumerate(lower_bound_shapes(spec)):
            if kind == "mlp":
                net = MLP(out, int(spec["hidden_units"]), int(spec["hidden_layers"]), name=f"m{i}")
            elif kind == "glow_block":
                net = GlowBlock(out, int(spec["hidden_channels"]), name=f"g{i}")
            else:
                net = ZeroConv2D(out, name=f"p{i}")
            net.build((None,) + shape)
            self.nets.append(net)
            self.shapes.append(shape)
        rng = np.random.default_rng(0)
        # One input per distinct shape: networks at the same level are chained.
        self.inputs = {
            shape: tf.constant(rng.normal(size=(self.batch,) + shape).astype(np.float32))
            for shape in dict.fromkeys(self.shapes)
        }
        self.variables = [v for net in self.nets for v in net.trainable_variables]
        self.input_gains = {}
        if spec["model"] == "glow":
            self.input_gains = {
                shape: tf.Variable(tf.ones([shape[-1]]), name=f"input_gain{i}")
                for i, shape in enumerate(self.inputs)
            }
        self.train_variables = self.variables + list(self.input_gains.values())

    def __call__(self, _unused=None) -> tf.Tensor:
        """Runs every network; returns a scalar depending on every output."""
        current, previous = {}, None
        total = tf.constant(0.0)
        for net, shape in zip(self.nets, self.shapes, strict=True):
            if shape not in current:  # the first network of a level
                x = self.inputs[shape]
                if shape in self.input_gains:
                    x = x * self.input_gains[shape]
                if previous is not None:
                    # A level starts from the previous level's result, as in the flow, so
                    # the levels' networks cannot run side by side on inter-op threads.
                    x = x + tf.reduce_mean(previous)
                current[shape] = x
            x = current[shape]
            out = net(x)
            c, extra = shape[-1], out.shape[-1] - shape[-1]
            if extra >= 0:
                # tf.split, not slicing: its gradient is a concat, not StridedSliceGrad.
                current[shape] = x + (tf.split(out, [c, extra], axis=-1)[0] if extra else out)
            total = total + tf.reduce_mean(out)
            previous = current[shape]
        for x in current.values():
            total = total + tf.reduce_mean(tf.square(x))
        return total


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Times `train` (fwd + bwd + Adam) and `forward` of the conditioner stack."""
    threads = set_tf_threads(spec.get("threads", 2))
    work = spec["workload"]
    stack = ConditionerStack(work)
    timing = {k: spec[k] for k in ("windows", "window_s", "warmup_s")}
    results: dict[str, Any] = {"rss_mib": {"setup": peak_rss_mib()}}
    for metric in spec["metrics"]:
        # "train@xla": a metric measured in another variant, in the same process.
        name, _, variant = metric.partition("@")
        jit = (variant or spec["variant"]) == "xla"
        if name == "train":
            fn = adam_train_step(stack, stack.train_variables, spec["learning_rate"], jit)
        elif name == "forward":
            fn = tf.function(stack, jit_compile=jit)
        else:
            raise ValueError(f"unknown metric {metric!r} for the lower bound")
        results[metric] = measure(lambda fn=fn: fn(0), stack.batch, sync=sync_numpy, **timing)
        results["rss_mib"][metric] = peak_rss_mib()
    results["params"] = int(sum(np.prod(v.shape) for v in stack.variables))
    results["networks"] = len(stack.nets)
    results["threads"] = threads
    results["versions"] = tf_versions()
    return results


if __name__ == "__main__":
    case_main(run)
