"""Glow (Kingma & Dhariwal 2018): ActNorm, invertible 1x1 convolutions, affine couplings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import keras
import tensorflow_probability as tfp

from tfflow.bijectors.actnorm import ActNorm
from tfflow.bijectors.chain import chain_in_order
from tfflow.bijectors.factor_out import FactorOut
from tfflow.bijectors.logit import logit_preprocessing
from tfflow.bijectors.partitions import Partition
from tfflow.bijectors.pixel_scaling import PixelScaling
from tfflow.bijectors.recompute import RecomputeTemplates
from tfflow.bijectors.squeeze import Squeeze
from tfflow.bijectors.top_prior import LearnedTopPrior
from tfflow.layers.glow_block import GlowBlock
from tfflow.models.couplings import check_coupling_args, conditioner_outputs, make_coupling
from tfflow.models.flow_model import FlowModel
from tfflow.models.permutations import check_permutation, make_permutation

tfb = tfp.bijectors

__all__ = ["Glow"]


@keras.saving.register_keras_serializable(package="tfflow")
class Glow(FlowModel):
    """Glow's multi-scale architecture on images with pixels in [0, 2**n_bits).

    `x / 2**n_bits - 0.5`, then per level: squeeze, `steps_per_level` x [ActNorm,
    invertible 1x1 conv (LU), coupling], and (except at the last level) a split whose
    factored-out half gets a learned conditional prior, folded into the bijector
    (`FactorOut(learned_prior=True)`). Affine couplings use Glow's `sigmoid(h + 2)` scale.
    With `learn_top_prior=True` the top latent (what the last level leaves) gets a learned
    prior too (`LearnedTopPrior`), also folded into the bijector.

    Args:
        input_shape: `(h, w, c)`, h and w divisible by `2**levels`.
        levels: number of levels L.
        steps_per_level: flow steps K per level.
        hidden_channels: width of the coupling networks (512 in the paper).
        coupling: `"affine"`, `"additive"` or `"spline"` (`SplineCoupling`).
        learn_prior: learned prior for factored-out halves (else standard normal).
        lu_decomposed: LU-parameterised 1x1 convolutions (`permutation="conv1x1"`).
        scale_fn: log-scale bound of affine couplings (`"sigmoid"` as in Glow's code).
        n_bits: bits per pixel of the data (5 for Glow's CelebA-HQ runs).
        seed: seed of the 1x1 convolutions' initial rotations.
        learning_rate: default Adam learning rate.
        recompute: recompute each flow step's activations in the backward pass (`Recompute`),
            so activation memory stops growing with depth.
        preprocessing: `"logit"` (the default; RealNVP's
            `logit(alpha + (1 - 2 alpha) x / 2**n_bits)`) or `"shift"` (the Glow paper's
            `x / 2**n_bits - 0.5`). Both are exact bijections with their log-determinants
            counted, so bits/dim stay densities over raw pixels; `"logit"` spreads the
            dequantized black pixels that dominate MNIST-like data over a wide interval,
            which the flow fits much faster (benchmarks/RESULTS.md, "MNIST quality at an
            8-minute budget: Glow with logit preprocessing"). Configs saved before this
            option existed load as `"shift"`.
        alpha: boundary shrinkage of the logit preprocessing.
        num_bins: spline bins per transformed element (`coupling="spline"`).
        spline_bound: spline interval `[-spline_bound, spline_bound]`, identity outside
            (`coupling="spline"`).
        permutation: the channel mixing of each step (openai/glow's `--flow_permutation`):
            `"conv1x1"` (an invertible 1x1 convolution, learned), `"shuffle"` (a fixed
            random permutation per step, drawn from `seed`) or `"reverse"` (the channels
            reversed); see `tfflow.models.permutations`.
        learn_top_prior: a learned diagonal Gaussian prior `N(mu, exp(log_sigma)^2)` over
            the top latent (openai/glow's `--learntop`), zero-initialised so the model starts
            at the standard normal (`LearnedTopPrior`).
        **kwargs: `keras.Model` arguments.

    Example:
        >>> model = Glow((4, 4, 1), levels=1, steps_per_level=1, hidden_channels=4)
        >>> model.encode(model.sample(2, seed=1)).shape
        TensorShape([2, 16])

    References:
        Kingma, Dhariwal. Glow: Generative Flow with Invertible 1x1 Convolutions.
        arXiv:1807.03039.
    """

    #: Glow: Adam 1e-3 with a linear warmup (the official code warms up linearly; it uses
    #: Adamax, available as `compile(optimizer="adamax")`).
    optimizer_recipe = {"optimizer": "adam", "options": {}, "warmup_steps": 200}

    def __init__(
        self,
        input_shape: Iterable[int],
        levels: int = 3,
        steps_per_level: int = 32,
        hidden_channels: int = 512,
        coupling: str = "affine",
        learn_prior: bool = True,
        lu_decomposed: bool = True,
        scale_fn: str = "sigmoid",
        n_bits: int = 8,
        seed: int = 0,
        learning_rate: float = 1e-3,
        recompute: bool = False,
        preprocessing: str = "logit",
        alpha: float = 1e-6,
        num_bins: int = 8,
        spline_bound: float = 3.0,
        permutation: str = "conv1x1",
        learn_top_prior: bool = False,
        **kwargs: Any,
    ):
        shape = tuple(int(d) for d in input_shape)
        if len(shape) != 3:
            raise ValueError(
                f"Glow `input_shape` must be (height, width, channels); "
                f"received {tuple(input_shape)!r}."
            )
        if levels < 1 or steps_per_level < 1:
            raise ValueError(
                f"`levels` and `steps_per_level` must be >= 1; received {levels}, "
                f"{steps_per_level}."
            )
        div = 2**levels
        if shape[0] % div or shape[1] % div:
            raise ValueError(
                f"`input_shape` {shape} must have height and width divisible by "
                f"2**levels = {div} for levels={levels}."
            )
        check_coupling_args(coupling, num_bins, spline_bound)
        check_permutation(permutation)
        if preprocessing not in ("shift", "logit"):
            raise ValueError(
                f"`preprocessing` must be 'shift' or 'logit'; received {preprocessing!r}."
            )
        if not 0.0 <= float(alpha) < 0.5:
            raise ValueError(f"`alpha` must lie in [0, 0.5); received {alpha!r}.")
        self.levels = int(levels)
        self.steps_per_level = int(steps_per_level)
        self.hidden_channels = int(hidden_channels)
        self.coupling = coupling
        self.learn_prior = bool(learn_prior)
        self.lu_decomposed = bool(lu_decomposed)
        self.scale_fn = scale_fn
        self.seed = int(seed)
        self.recompute = bool(recompute)
        self.preprocessing = preprocessing
        self.alpha = float(alpha)
        self.num_bins = int(num_bins)
        self.spline_bound = float(spline_bound)
        self.permutation = permutation
        self.learn_top_prior = bool(learn_top_prior)
        super().__init__(
            shape,
            prior="normal",
            pixels=True,
            n_bits=n_bits,
            learning_rate=learning_rate,
            **kwargs,
        )

    def _step(
        self, shape: tuple[int, int, int], level: int, k: int, templates: RecomputeTemplates
    ) -> list:
        name = f"level{level}_step{k}"
        partition = Partition("channel", shape, parity=0)
        out = conditioner_outputs(self.coupling, partition, self.num_bins)
        coupling = make_coupling(
            self.coupling,
            GlowBlock(out, self.hidden_channels, name=f"{name}_nn"),
            partition,
            scale_fn=self.scale_fn,
            num_bins=self.num_bins,
            spline_bound=self.spline_bound,
            name=f"{name}_coupling",
        )
        step = [
            ActNorm(shape, name=f"{name}_actnorm"),
            make_permutation(
                self.permutation,
                shape,
                seed=self.seed * 100003 + level * 1009 + k,
                lu_decomposed=self.lu_decomposed,
                name=f"{name}_invconv" if self.permutation == "conv1x1" else f"{name}_permute",
            ),
            coupling,
        ]
        if self.recompute:
            # The steps of a level differ only in their weights: they run through the first
            # one's traced functions (one step body per level in the graph). A shuffle is
            # traced into the step as a constant and differs from step to step, so each
            # shuffled step gets its own traced functions.
            key = (shape, k) if self.permutation == "shuffle" else shape
            return [templates.wrap(chain_in_order(step, name), key, f"{name}_recompute")]
        return step

    def _level(self, shape: tuple[int, int, int], level: int) -> tfb.Bijector:
        h, w, c = shape
        squeezed = (h // 2, w // 2, 4 * c)
        steps: list = [Squeeze(name=f"level{level}_squeeze")]
        templates = RecomputeTemplates()
        for k in range(self.steps_per_level):
            steps += self._step(squeezed, level, k, templates)
        if level == self.levels - 1:
            size = squeezed[0] * squeezed[1] * squeezed[2]
            steps.append(tfb.Reshape([size], list(squeezed), name=f"level{level}_flatten"))
            if self.learn_top_prior:
                steps.append(LearnedTopPrior(size, name="top_prior"))
        else:
            kept = (squeezed[0], squeezed[1], squeezed[2] - squeezed[2] // 2)
            inner = self._level(kept, level + 1)
            steps.append(
                FactorOut(
                    squeezed, inner, learned_prior=self.learn_prior, name=f"level{level}_split"
                )
            )
        return chain_in_order(steps, f"level{level}")

    def build_flow(self) -> tfb.Bijector:
        shape = self.data_shape
        if self.preprocessing == "logit":
            steps = logit_preprocessing(shape, self.n_bits, self.alpha)
        else:
            steps = [PixelScaling(shape, n_bits=self.n_bits, shift=-0.5, name="pixel_scaling")]
        steps.append(self._level(shape, 0))
        return chain_in_order(steps, "glow_flow")

    @classmethod
    def from_config(cls, config: dict) -> Glow:
        """Rebuilds a Glow; configs saved before `preprocessing` existed used the shift."""
        config = dict(config)
        config.setdefault("preprocessing", "shift")
        return super().from_config(config)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("prior")
        config.update(
            {
                "levels": self.levels,
                "steps_per_level": self.steps_per_level,
                "hidden_channels": self.hidden_channels,
                "coupling": self.coupling,
                "learn_prior": self.learn_prior,
                "lu_decomposed": self.lu_decomposed,
                "scale_fn": self.scale_fn,
                "n_bits": self.n_bits,
                "seed": self.seed,
                "recompute": self.recompute,
                "preprocessing": self.preprocessing,
                "alpha": self.alpha,
                "num_bins": self.num_bins,
                "spline_bound": self.spline_bound,
                "permutation": self.permutation,
                "learn_top_prior": self.learn_top_prior,
            }
        )
        return config
