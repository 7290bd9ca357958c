"""RealNVP (Dinh, Sohl-Dickstein, Bengio 2016): affine couplings, multi-scale for images."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import keras
import tensorflow_probability as tfp

from tfflow.bijectors.chain import chain_in_order
from tfflow.bijectors.factor_out import FactorOut
from tfflow.bijectors.logit import logit_preprocessing
from tfflow.bijectors.partitions import Partition
from tfflow.bijectors.recompute import RecomputeTemplates
from tfflow.bijectors.squeeze import Squeeze
from tfflow.layers.mlp import MLP
from tfflow.layers.resnet import ResNet
from tfflow.models.couplings import check_coupling_args, conditioner_outputs, make_coupling
from tfflow.models.flow_model import FlowModel

tfb = tfp.bijectors

__all__ = ["RealNVP"]


@keras.saving.register_keras_serializable(package="tfflow")
class RealNVP(FlowModel):
    """RealNVP for vectors (rank-1 `input_shape`) or images (rank 3).

    Vectors: `coupling_layers` affine couplings on alternating halves with MLP conditioners.
    Images (pixels in [0, 256)): `x / 256`, logit with `alpha`, then the multi-scale
    architecture: per scale, 3 checkerboard couplings, squeeze, 3 channel-wise couplings,
    factor out half the channels; the final scale has 4 checkerboard couplings. Conditioners
    are weight-normalised ResNets with batch normalisation; log-scales use
    `s = factor * tanh(h)`.

    Args:
        input_shape: `(D,)` or `(h, w, c)`.
        coupling_layers: couplings for vectors.
        hidden_units: MLP width (vectors).
        hidden_layers: MLP depth (vectors).
        num_scales: scales for images (spatial size must be divisible by 2**(num_scales-1)).
        residual_blocks: residual blocks per ResNet conditioner (images).
        hidden_channels: ResNet feature maps (images).
        batch_norm: batch normalisation inside the ResNet conditioners.
        alpha: logit-transform shrinkage (0.05 in the paper; 1e-6 is usual for MNIST).
        scale_fn: log-scale bound, see `AffineCoupling`.
        coupling: `"affine"` (the paper's), `"additive"` or `"spline"` (`SplineCoupling`,
            rational-quadratic splines).
        num_bins: spline bins per transformed element (`coupling="spline"`).
        spline_bound: spline interval `[-spline_bound, spline_bound]`, identity outside
            (`coupling="spline"`).
        pixels: vectors hold pixel values in `[0, 2**n_bits)` (rescaled inside the flow).
        n_bits: bits per pixel.
        learning_rate: default Adam learning rate.
        recompute: recompute each image coupling's activations in the backward pass
            (`Recompute`); batch-norm moving statistics still update once per step.
        **kwargs: `keras.Model` arguments.

    Example:
        >>> model = RealNVP((2,), coupling_layers=2, hidden_units=8)
        >>> model.sample(3, seed=0).shape
        TensorShape([3, 2])

    References:
        Dinh, Sohl-Dickstein, Bengio. Density estimation using Real NVP. arXiv:1605.08803.
    """

    #: RealNVP paper, Sec. 4.1: Adam with default hyperparameters, L2 5e-5 on the
    #: weight-norm scales (in `WeightNormConv2D`).
    optimizer_recipe = {"optimizer": "adam", "options": {}, "warmup_steps": 0}

    def __init__(
        self,
        input_shape: Iterable[int],
        coupling_layers: int = 8,
        hidden_units: int = 256,
        hidden_layers: int = 2,
        num_scales: int = 2,
        residual_blocks: int = 4,
        hidden_channels: int = 64,
        batch_norm: bool = True,
        alpha: float = 0.05,
        scale_fn: str = "tanh",
        pixels: bool | None = None,
        n_bits: int = 8,
        learning_rate: float = 1e-3,
        recompute: bool = False,
        coupling: str = "affine",
        num_bins: int = 8,
        spline_bound: float = 3.0,
        **kwargs: Any,
    ):
        shape = tuple(int(d) for d in input_shape)
        if len(shape) not in (1, 3):
            raise ValueError(
                f"RealNVP `input_shape` must be (D,) or (height, width, channels); "
                f"received {tuple(input_shape)!r}."
            )
        self.image = len(shape) == 3
        if self.image:
            if num_scales < 1:
                raise ValueError(f"`num_scales` must be >= 1; received {num_scales}.")
            div = 2 ** (num_scales - 1)
            if shape[0] % div or shape[1] % div:
                raise ValueError(
                    f"`input_shape` {shape} must have height and width divisible by "
                    f"2**(num_scales - 1) = {div} for num_scales={num_scales}."
                )
        elif shape[0] < 2:
            raise ValueError(f"RealNVP needs D >= 2; received input_shape {shape}.")
        check_coupling_args(coupling, num_bins, spline_bound)
        self.coupling_layers = int(coupling_layers)
        self.hidden_units = int(hidden_units)
        self.hidden_layers = int(hidden_layers)
        self.num_scales = int(num_scales)
        self.residual_blocks = int(residual_blocks)
        self.hidden_channels = int(hidden_channels)
        self.batch_norm = bool(batch_norm)
        self.alpha = float(alpha)
        self.scale_fn = scale_fn
        self.recompute = bool(recompute)
        self.coupling = coupling
        self.num_bins = int(num_bins)
        self.spline_bound = float(spline_bound)
        super().__init__(
            shape,
            prior="normal",
            pixels=self.image if pixels is None else pixels,
            n_bits=n_bits,
            learning_rate=learning_rate,
            **kwargs,
        )

    def _tabular_flow(self) -> tfb.Bijector:
        shape = self.data_shape
        steps = []
        if self.pixels:
            steps += logit_preprocessing(shape, self.n_bits, self.alpha)
        for i in range(self.coupling_layers):
            partition = Partition("half", shape, parity=i % 2)
            mlp = MLP(
                conditioner_outputs(self.coupling, partition, self.num_bins),
                self.hidden_units,
                self.hidden_layers,
                name=f"coupling{i}_mlp",
            )
            steps.append(self._make_coupling(mlp, partition, f"coupling{i}"))
        return chain_in_order(steps, "realnvp_flow")

    def _make_coupling(
        self, net: keras.layers.Layer, partition: Partition, name: str
    ) -> tfb.Bijector:
        return make_coupling(
            self.coupling,
            net,
            partition,
            scale_fn=self.scale_fn,
            num_bins=self.num_bins,
            spline_bound=self.spline_bound,
            name=name,
        )

    def _coupling(
        self,
        kind: str,
        shape: tuple[int, ...],
        parity: int,
        name: str,
        templates: RecomputeTemplates | None = None,
    ) -> tfb.Bijector:
        partition = Partition(kind, shape, parity=parity)
        resnet = ResNet(
            conditioner_outputs(self.coupling, partition, self.num_bins),
            self.hidden_channels,
            self.residual_blocks,
            batch_norm=self.batch_norm,
            name=f"{name}_resnet",
        )
        coupling = self._make_coupling(resnet, partition, name)
        if not self.recompute:
            return coupling
        # Couplings of one scale with the same partition differ only in their weights: they
        # run through the first one's traced functions (see `Recompute`).
        templates = RecomputeTemplates() if templates is None else templates
        return templates.wrap(coupling, (kind, tuple(shape), parity), f"{name}_recompute")

    def _scale(self, shape: tuple[int, int, int], index: int) -> tfb.Bijector:
        h, w, c = shape
        prefix = f"scale{index}"
        templates = RecomputeTemplates()
        if index == self.num_scales - 1:
            steps = [
                self._coupling("checkerboard", shape, i % 2, f"{prefix}_checker{i}", templates)
                for i in range(4)
            ]
            steps.append(tfb.Reshape([h * w * c], list(shape), name=f"{prefix}_flatten"))
            return chain_in_order(steps, prefix)
        steps = [
            self._coupling("checkerboard", shape, i % 2, f"{prefix}_checker{i}", templates)
            for i in range(3)
        ]
        steps.append(Squeeze(name=f"{prefix}_squeeze"))
        squeezed = (h // 2, w // 2, 4 * c)
        steps += [
            self._coupling("channel", squeezed, i % 2, f"{prefix}_channel{i}", templates)
            for i in range(3)
        ]
        kept = (h // 2, w // 2, 4 * c - 2 * c)
        inner = self._scale(kept, index + 1)
        steps.append(FactorOut(squeezed, inner, learned_prior=False, name=f"{prefix}_factor_out"))
        return chain_in_order(steps, prefix)

    def _image_flow(self) -> tfb.Bijector:
        shape = self.data_shape
        steps = [*logit_preprocessing(shape, self.n_bits, self.alpha), self._scale(shape, 0)]
        return chain_in_order(steps, "realnvp_flow")

    def build_flow(self) -> tfb.Bijector:
        return self._image_flow() if self.image else self._tabular_flow()

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("prior")
        config.update(
            {
                "coupling_layers": self.coupling_layers,
                "hidden_units": self.hidden_units,
                "hidden_layers": self.hidden_layers,
                "num_scales": self.num_scales,
                "residual_blocks": self.residual_blocks,
                "hidden_channels": self.hidden_channels,
                "batch_norm": self.batch_norm,
                "alpha": self.alpha,
                "scale_fn": self.scale_fn,
                "pixels": self.pixels,
                "n_bits": self.n_bits,
                "recompute": self.recompute,
                "coupling": self.coupling,
                "num_bins": self.num_bins,
                "spline_bound": self.spline_bound,
            }
        )
        return config
