"""TensorFlow Probability's own flows at the tfflow workloads' sizes.

Tabular: 8 x `tfb.RealNVP(num_masked=32, shift_and_log_scale_fn=real_nvp_default_template(
[256, 256]))` with a `tfb.Permute` swapping the halves between couplings (as tfflow's
alternating `"half"` partitions). The default template still works under TF 2.21 (TFP builds
it from `tf_keras` v1 layers, created by `tf.compat.v1.make_template` on the first call); its
log-scale is unbounded (`exp`), unlike tfflow's `tanh` bound.

Images: `tfb.Glow(output_shape, num_glow_blocks=levels, num_steps_per_block=K,
coupling_bijector_fn=GlowDefaultNetwork(num_hidden=hidden_channels), exit_bijector_fn=
GlowDefaultExitNetwork)` (3x3 / 1x1 / 3x3 coupling networks, a 3x3 conv learned prior at each
split, ActNorm with data-dependent init, LU 1x1 convs). TFP's `forward` generates, so
`log_prob` runs `inverse` and `inverse_log_det_jacobian`, each evaluating the coupling
networks: twice the conditioner work of a one-pass implementation.

Data are scaled as in tfflow (`x / 256 - 0.5` for Glow pixels, with the `-D log 256` term).
"""

from __future__ import annotations

import math
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_probability as tfp  # noqa: E402
from bench_common import case_main, quality_loop, speed_inputs  # noqa: E402
from bench_tf import adam_train_step, measure_flow, set_tf_threads, tf_versions  # noqa: E402

tfb = tfp.bijectors
tfd = tfp.distributions

__all__ = ["TFPFlow", "build_flow", "run"]


class TFPFlow:
    """A TFP `TransformedDistribution` with tfflow's data conventions.

    Args:
        distribution: latent -> data transformed distribution.
        variables: its trainable variables (TFP templates are not tracked by `tf.Module`).
        pixels: inputs are pixel values in `[0, 256)` (scaled to `[-0.5, 0.5)` inside).
    """

    def __init__(self, distribution, variables, pixels: bool, event_shape):
        self.distribution = distribution
        self.variables = variables
        self.pixels = pixels
        self.event_shape = tuple(event_shape)
        self.dims = int(np.prod(self.event_shape))

    def log_prob(self, x):
        if not self.pixels:
            return self.distribution.log_prob(x)
        constant = self.dims * math.log(256.0)
        return self.distribution.log_prob(x / 256.0 - 0.5) - constant

    def sample(self, n: int):
        y = self.distribution.sample(n)
        return (y + 0.5) * 256.0 if self.pixels else y


def _realnvp(spec: dict[str, Any]) -> TFPFlow:
    d = int(spec["dims"])
    half = d // 2
    swap = list(range(half, d)) + list(range(half))
    templates, bijectors = [], []
    for i in range(int(spec["coupling_layers"])):
        template = tfb.real_nvp_default_template(
            hidden_layers=[int(spec["hidden_units"])] * int(spec["hidden_layers"])
        )
        templates.append(template)
        if i:
            bijectors.append(tfb.Permute(swap))
        bijectors.append(tfb.RealNVP(num_masked=half, shift_and_log_scale_fn=template))
    # The permutations make consecutive couplings transform opposite halves.
    dist = tfd.TransformedDistribution(tfd.Sample(tfd.Normal(0.0, 1.0), [d]), tfb.Chain(bijectors))
    dist.log_prob(tf.zeros([1, d]))  # the templates create their variables on first use
    variables = [v for t in templates for v in t.trainable_variables]
    return TFPFlow(dist, variables, pixels=False, event_shape=(d,))


def _glow(spec: dict[str, Any]) -> TFPFlow:
    shape = tuple(int(s) for s in spec["shape"])
    hidden = int(spec["hidden_channels"])
    glow = tfb.Glow(
        output_shape=shape,
        num_glow_blocks=int(spec["levels"]),
        num_steps_per_block=int(spec["steps_per_level"]),
        coupling_bijector_fn=lambda input_shape: tfb.GlowDefaultNetwork(input_shape, hidden),
        exit_bijector_fn=tfb.GlowDefaultExitNetwork,
        seed=0,
    )
    dims = int(np.prod(shape))
    dist = tfd.TransformedDistribution(tfd.Sample(tfd.Normal(0.0, 1.0), [dims]), glow)
    return TFPFlow(dist, list(glow.trainable_variables), pixels=True, event_shape=shape)


def build_flow(spec: dict[str, Any]) -> TFPFlow:
    """TFP's flow for a workload spec."""
    return _realnvp(spec) if spec["model"] == "realnvp" else _glow(spec)


def _speed(spec: dict[str, Any]) -> dict[str, Any]:
    flow = build_flow(spec["workload"])
    x = tf.constant(speed_inputs(spec))
    flow.log_prob(x)  # ActNorm's data-dependent initialisation (Glow), outside the timing
    results = measure_flow(spec, x, flow.log_prob, flow.variables, flow.sample, "tfp")
    results["params"] = int(sum(np.prod(v.shape) for v in flow.variables))
    return results


def _quality(spec: dict[str, Any]) -> dict[str, Any]:
    flow = build_flow(spec["workload"])
    step = adam_train_step(
        lambda data: -tf.reduce_mean(flow.log_prob(data)),
        flow.variables,
        spec.get("quality", {}).get("learning_rate", 1e-3),
        spec["variant"] == "xla",
    )
    log_prob = tf.function(flow.log_prob)
    return quality_loop(spec, lambda x: step(tf.constant(x)), lambda x: log_prob(x).numpy())


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Runs one TFP case spec (`kind`: `speed` or `quality`)."""
    threads = set_tf_threads(spec.get("threads", 2))
    result = _quality(spec) if spec["kind"] == "quality" else _speed(spec)
    result["threads"] = threads
    result["versions"] = tf_versions()
    return result


if __name__ == "__main__":
    case_main(run)
