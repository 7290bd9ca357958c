"""PyTorch peers on CPU (run with `benchmarks/.venv-torch/bin/python`).

Tabular: `zuko.flows.RealNVP(64, transforms=8, hidden_features=[256, 256])` (affine couplings
on alternating odd/even features, ReLU MLPs; zuko bounds its log-scale). Images: normflows'
multi-scale Glow as in its `glow.ipynb` example: per level `K` x `nf.flows.GlowBlock(c,
hidden_channels)` (3x3 / 1x1 / 3x3 ReLU conv net, sigmoid scale, LU 1x1 conv, ActNorm) and a
squeeze, with a `GlowBase` (per-channel learned Gaussian) for each factored-out half; unlike
tfflow and TFP, that prior does not depend on the kept half (no 3x3 prior convolution).
Inputs are scaled as in tfflow (`x / 256 - 0.5` for pixels, NCHW for torch).
"""

from __future__ import annotations

import math
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_common import (  # noqa: E402
    case_main,
    measure,
    peak_rss_mib,
    quality_loop,
    speed_inputs,
)

__all__ = ["run"]


class _Zuko:
    """zuko RealNVP with tfflow's conventions (no pixel scaling: tabular data)."""

    def __init__(self, spec: dict[str, Any]):
        import zuko

        self.flow = zuko.flows.RealNVP(
            int(spec["dims"]),
            transforms=int(spec["coupling_layers"]),
            hidden_features=[int(spec["hidden_units"])] * int(spec["hidden_layers"]),
        )
        self.name = "zuko"

    def parameters(self):
        return self.flow.parameters()

    def log_prob(self, x):
        return self.flow().log_prob(x)

    def sample(self, n: int):
        return self.flow().sample((n,))


class _Normflows:
    """normflows multi-scale Glow on NHWC pixels in `[0, 256)`."""

    def __init__(self, spec: dict[str, Any]):
        import normflows as nf

        h, w, c = (int(s) for s in spec["shape"])
        levels, k = int(spec["levels"]), int(spec["steps_per_level"])
        hidden = int(spec["hidden_channels"])
        q0, merges, flows = [], [], []
        for i in range(levels):
            blocks = [
                nf.flows.GlowBlock(c * 2 ** (levels + 1 - i), hidden, split_mode="channel")
                for _ in range(k)
            ]
            flows.append(blocks + [nf.flows.Squeeze()])
            if i > 0:
                merges.append(nf.flows.Merge())
                latent = (c * 2 ** (levels - i), h // 2 ** (levels - i), w // 2 ** (levels - i))
            else:
                latent = (c * 2 ** (levels + 1), h // 2**levels, w // 2**levels)
            q0.append(nf.distributions.GlowBase(latent))
        self.flow = nf.MultiscaleFlow(q0, flows, merges, class_cond=False)
        self.dims = h * w * c
        self.name = "normflows"

    def parameters(self):
        return self.flow.parameters()

    def log_prob(self, x):
        y = x.permute(0, 3, 1, 2) / 256.0 - 0.5
        return self.flow.log_prob(y, None) - self.dims * math.log(256.0)

    def sample(self, n: int):
        y, _ = self.flow.sample(n)
        return ((y + 0.5) * 256.0).permute(0, 2, 3, 1)


def _build(spec: dict[str, Any]):
    return _Zuko(spec) if spec["model"] == "realnvp" else _Normflows(spec)


def _train_step(model, learning_rate: float):
    import torch

    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

    def step(x):
        optimizer.zero_grad(set_to_none=True)
        loss = -model.log_prob(x).mean()
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step


def _speed(spec: dict[str, Any]) -> dict[str, Any]:
    import torch

    work = spec["workload"]
    model = _build(work)
    x = torch.from_numpy(speed_inputs(spec))
    with torch.no_grad():
        model.log_prob(x)  # ActNorm's data-dependent initialisation (normflows)
    timing = {k: spec[k] for k in ("windows", "window_s", "warmup_s")}
    batch = int(work["batch"])
    results: dict[str, Any] = {"rss_mib": {"setup": peak_rss_mib()}}
    for metric in spec["metrics"]:
        if metric == "train":
            step = _train_step(model, spec["learning_rate"])
            results[metric] = measure(lambda step=step: step(x), batch, **timing)
        elif metric == "log_prob":

            def fn():
                with torch.no_grad():
                    return model.log_prob(x)

            results[metric] = measure(fn, batch, **timing)
        elif metric == "sample":

            def fn():
                with torch.no_grad():
                    return model.sample(batch)

            results[metric] = measure(fn, batch, **timing)
        else:
            raise ValueError(f"unknown metric {metric!r} for torch")
        results["rss_mib"][metric] = peak_rss_mib()
    results["params"] = int(sum(p.numel() for p in model.parameters() if p.requires_grad))
    results["implementation"] = model.name
    return results


def _quality(spec: dict[str, Any]) -> dict[str, Any]:
    import torch

    model = _build(spec["workload"])
    step = _train_step(model, spec.get("quality", {}).get("learning_rate", 1e-3))

    def log_prob(x):
        with torch.no_grad():
            return model.log_prob(torch.from_numpy(x)).numpy()

    result = quality_loop(spec, lambda x: step(torch.from_numpy(x)), log_prob)
    result["implementation"] = model.name
    return result


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Runs one torch case spec (`kind`: `speed` or `quality`)."""
    import torch

    threads = int(spec.get("threads", 2))
    if threads > 0:  # 0 keeps torch's defaults (the smoke test)
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
    result = _quality(spec) if spec["kind"] == "quality" else _speed(spec)
    result["threads"] = {"intra_op": torch.get_num_threads(), "inter_op": 1}
    versions = {"torch": torch.__version__}
    for name in ("zuko", "normflows"):
        try:
            versions[name] = __import__(name).__version__
        except (ImportError, AttributeError):
            pass
    result["versions"] = versions
    return result


if __name__ == "__main__":
    case_main(run)
