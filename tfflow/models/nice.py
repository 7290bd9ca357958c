"""NICE (Dinh, Krueger, Bengio 2014): additive couplings, diagonal scaling, logistic prior."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import keras
import tensorflow_probability as tfp

from tfflow.bijectors.chain import chain_in_order
from tfflow.bijectors.partitions import Partition
from tfflow.bijectors.pixel_scaling import PixelScaling
from tfflow.bijectors.scaling import Scaling
from tfflow.layers.mlp import MLP
from tfflow.models.couplings import check_coupling_args, conditioner_outputs, make_coupling
from tfflow.models.flow_model import FlowModel

tfb = tfp.bijectors

__all__ = ["NICE"]


@keras.saving.register_keras_serializable(package="tfflow")
class NICE(FlowModel):
    """NICE for vectors: `coupling_layers` additive couplings on alternating odd/even halves,
    then a diagonal scaling layer `exp(s)`, with a logistic (or normal) prior.

    The paper's MNIST model: 4 couplings, each an MLP of 5 x 1000 ReLU units, logistic prior,
    data dequantized and rescaled to [0, 1) (here: `pixels=True` takes values in [0, 256) and
    rescales inside the flow, so log-likelihoods are in pixel space).

    Args:
        input_shape: `(D,)`, D even.
        coupling_layers: number of additive couplings.
        hidden_layers: hidden layers per coupling MLP.
        hidden_units: width of each hidden layer.
        prior: `"logistic"` or `"normal"`.
        pixels: inputs are pixel values in `[0, 2**n_bits)` (e.g. flattened MNIST).
        n_bits: bits per pixel when `pixels`.
        learning_rate: default Adam learning rate of `compile()`.
        coupling: `"additive"` (the paper's), `"affine"` (`AffineCoupling`, tanh-bounded
            log-scales) or `"spline"` (`SplineCoupling`).
        num_bins: spline bins per transformed element (`coupling="spline"`).
        spline_bound: spline interval `[-spline_bound, spline_bound]`, identity outside
            (`coupling="spline"`).
        **kwargs: `keras.Model` arguments.

    Example:
        >>> model = NICE((4,), coupling_layers=2, hidden_layers=1, hidden_units=8)
        >>> model.log_prob([[0.1, 0.2, 0.3, 0.4]]).shape
        TensorShape([1])

    References:
        Dinh, Krueger, Bengio. NICE. arXiv:1410.8516.
    """

    #: NICE paper, Sec. 5.1: Adam, learning rate 1e-3, momentum 0.9, "beta2 = 0.01" (the early
    #: Adam paper's notation for a decay of 1 - 0.01), epsilon 1e-4, batch 200 in the official
    #: code. Added here: a linear warmup over the first 1,375 steps (5 epochs of 55,000 images
    #: at batch 200): without it most ReLUs of the last hidden layer die in the first steps and
    #: the likelihood plateaus below the paper's. The official code's per-step decay is left
    #: out, so the rate stays at 1e-3. The runs behind both choices: benchmarks/RESULTS.md,
    #: "NICE on real MNIST".
    optimizer_recipe = {
        "optimizer": "adam",
        "options": {"beta_1": 0.9, "beta_2": 0.99, "epsilon": 1e-4},
        "warmup_steps": 1375,
    }

    def __init__(
        self,
        input_shape: Iterable[int],
        coupling_layers: int = 4,
        hidden_layers: int = 5,
        hidden_units: int = 1000,
        prior: str = "logistic",
        pixels: bool = False,
        n_bits: int = 8,
        learning_rate: float = 1e-3,
        coupling: str = "additive",
        num_bins: int = 8,
        spline_bound: float = 3.0,
        **kwargs: Any,
    ):
        shape = tuple(int(d) for d in input_shape)
        if len(shape) != 1 or shape[0] < 2 or shape[0] % 2:
            raise ValueError(
                f"NICE `input_shape` must be (D,) with D even; received {tuple(input_shape)!r}. "
                f"Flatten images first."
            )
        if coupling_layers < 1:
            raise ValueError(f"`coupling_layers` must be >= 1; received {coupling_layers}.")
        check_coupling_args(coupling, num_bins, spline_bound)
        self.coupling_layers = int(coupling_layers)
        self.hidden_layers = int(hidden_layers)
        self.hidden_units = int(hidden_units)
        self.coupling = coupling
        self.num_bins = int(num_bins)
        self.spline_bound = float(spline_bound)
        super().__init__(
            shape, prior=prior, pixels=pixels, n_bits=n_bits, learning_rate=learning_rate, **kwargs
        )

    def build_flow(self) -> tfb.Bijector:
        shape = self.data_shape
        steps = []
        if self.pixels:
            steps.append(PixelScaling(shape, n_bits=self.n_bits, name="pixel_scaling"))
        for i in range(self.coupling_layers):
            partition = Partition("odd_even", shape, parity=i % 2)
            conditioner = MLP(
                conditioner_outputs(self.coupling, partition, self.num_bins),
                self.hidden_units,
                self.hidden_layers,
                name=f"coupling{i}_mlp",
            )
            steps.append(
                make_coupling(
                    self.coupling,
                    conditioner,
                    partition,
                    num_bins=self.num_bins,
                    spline_bound=self.spline_bound,
                    name=f"coupling{i}",
                )
            )
        # Data-dependent init of the scaling (the logistic prior's std is pi / sqrt(3)): the
        # paper starts at s = 0 and needs many epochs for Adam to grow it; see `Scaling`.
        init_scale = 1.8138 if self.prior == "logistic" else 1.0
        steps.append(Scaling(shape, data_init_scale=init_scale, name="scaling"))
        return chain_in_order(steps, "nice_flow")

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                "coupling_layers": self.coupling_layers,
                "hidden_layers": self.hidden_layers,
                "hidden_units": self.hidden_units,
                "pixels": self.pixels,
                "n_bits": self.n_bits,
                "coupling": self.coupling,
                "num_bins": self.num_bins,
                "spline_bound": self.spline_bound,
            }
        )
        return config
