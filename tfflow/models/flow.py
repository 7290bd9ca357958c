"""`Flow`: a `FlowModel` built from any list of tfflow and TFP bijectors and a base."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfflow._compat.tfp import CHAIN_TYPES, INVERT_TYPES
from tfflow.bijectors.chain import chain_in_order
from tfflow.bijectors.flow_bijector import FlowBijector, walk_bijectors
from tfflow.models.flow_model import FlowModel
from tfflow.models.priors import PRIORS, check_base_distribution, sample_base

tfb = tfp.bijectors
tfd = tfp.distributions

__all__ = ["Flow"]

# Keys of the `.keras` weight store holding the tf.Variables of TFP bijectors and the base.
_TFP_KEY = "tfp_variable_"


def _registered(obj: object) -> bool:
    """Whether Keras can serialise `obj`: a registered function, or an instance of a
    registered class with `get_config`."""
    target = obj if inspect.isfunction(obj) else type(obj)
    if target is not obj and not hasattr(obj, "get_config"):
        return False
    name = keras.saving.get_registered_name(target)
    return keras.saving.get_registered_object(name) is target


@keras.saving.register_keras_serializable(package="tfflow")
class Flow(FlowModel):
    """A normalizing flow from a list of bijectors and a base distribution, as a Keras model.

    `bijectors` are applied in list order in the normalizing direction (data -> latent), as
    tfflow's own bijectors are: `z = f_n(... f_2(f_1(x)))`, and

        log p(x) = log p_base(z) + sum_i log|det J_{f_i}|

    TFP bijectors (`tfb.Permute`, `tfb.Shift`, `tfb.Scale`, `tfb.RationalQuadraticSpline`,
    ...) mix freely with tfflow's (`AffineCoupling`, `ActNorm`, ...). The model is a
    `FlowModel`, so it trains, evaluates, samples, encodes, decodes, exports
    (`tfflow.export`) and offers `model.distribution` exactly as `NICE`, `RealNVP` and
    `Glow` do (compare zuko's `Flow(transform, base)` and normflows'
    `NormalizingFlow(q0, flows)`).

    Design:

    - **Flat latent.** The latent is always the flat vector `(D,)`, `D = prod(input_shape)`,
      as for the named models: a `tfb.Reshape` named `flatten` ends the flow, mapping the
      last bijector's output event (any shape of `D` values) to `(D,)`. `encode`, `decode`,
      the export's `z` and the latent tools (`tfflow.latent`) then mean the same thing for
      every model, and `base` is a distribution over `(D,)`. The reshape also makes the flow
      sum each log-det over the whole example, even when every bijector is elementwise.
    - **Base.** `"normal"` or `"logistic"` (the named models' standard bases), or any TFP
      distribution over `(D,)` with an empty batch shape, e.g. `tfd.MultivariateNormalDiag`
      or `tfd.Sample(tfd.StudentT(4.0, 0.0, 1.0), [D])`. `log_prob` uses `base.log_prob`;
      `sample(n, temperature, seed)` decodes `temperature * base.sample(n, seed)`, stateless
      for an integer seed, so the same seed gives the same samples, in Python and in the
      exported `sample` signature. Temperature scales the draw about zero, as for the named
      models (whose bases are centred there).
    - **Parameters.** Keras layers inside tfflow bijectors are tracked (`flow_layers`), and
      the `tf.Variable`s held by TFP bijectors and by the base (e.g.
      `tfb.Shift(tf.Variable([0.0, 0.0]))`) are part of `variables` and
      `trainable_variables` (not of Keras' `weights` and `get_weights`, whose entries must
      be Keras variables), so `fit`, the divergence guard, `save_weights`, `.keras` files
      and the export see them. Pass TFP bijectors `tf.Variable`s, not Keras variables (TFP
      turns a Keras 3 variable into a constant). Variables of TFP bijectors and the base
      are created outside any `tf.distribute` strategy scope, so they are not mirrored.
    - **Saving.** A `.keras` file stores a model's config, and bijector objects have none.
      So `bijectors` (and `base`) may also be a *builder*: a function registered with
      `keras.saving.register_keras_serializable` (or an instance of such a class with a
      `get_config`) that takes no arguments and returns the list (the distribution). The
      config then names the builder, `keras.models.load_model` calls it again and restores
      the weights. A `Flow` built from objects raises `NotImplementedError` from
      `get_config` (so from `model.save`) saying so; its weights still save with
      `save_weights`, and `tfflow.export` works (its model card has no config).
    - **Pixels.** With `pixels=True` the data are pixel values in `[0, 2**n_bits)` (bits/dim
      are then those of published tables, integer input is dequantized by `fit`); the first
      bijector receives them unscaled, so begin the list with your own preprocessing (e.g.
      `tfflow.bijectors.logit.logit_preprocessing(shape, n_bits, alpha)`).

    Args:
        input_shape: shape of one example, e.g. `(2,)` or `(8, 8, 1)`.
        bijectors: a list of `tfp.bijectors.Bijector`s (tfflow's or TFP's), normalizing
            direction, in application order; or a registered builder returning one.
        base: `"normal"`, `"logistic"`, a `tfp.distributions.Distribution` over `(D,)`, or a
            registered builder returning one.
        pixels: whether inputs are pixel values in `[0, 2**n_bits)`.
        n_bits: bits per pixel.
        learning_rate: default learning rate of `compile()`.
        **kwargs: other `FlowModel` arguments (`num_classes`, `dequantization`) and
            `keras.Model` arguments (`name`, ...).

    Raises:
        TypeError: if `bijectors` is not a list (or builder) of bijectors, or `base` is
            neither a known name nor a TFP distribution (or builder).
        ValueError: if `base`'s event shape is not `(D,)` (expected and received given),
            its batch shape is not empty, or its dtype is not the model's; if the flow's
            output does not hold `D` values.

    Example:
        >>> import numpy as np, tensorflow as tf, tensorflow_probability as tfp, tfflow
        >>> from tfflow.bijectors import ActNorm, AffineCoupling, Partition
        >>> from tfflow.layers.mlp import MLP
        >>> tfb, tfd = tfp.bijectors, tfp.distributions
        >>> def coupling(i):
        ...     mlp = MLP(2, hidden_units=16, hidden_layers=1, name=f"mlp{i}")
        ...     return AffineCoupling(mlp, Partition("half", (2,), parity=i % 2), name=f"c{i}")
        >>> model = tfflow.Flow(
        ...     (2,),
        ...     [ActNorm((2,)), coupling(0), tfb.Permute([1, 0]), coupling(1),
        ...      tfb.Shift(tf.Variable([0.0, 0.0]))],
        ...     base=tfd.Sample(tfd.StudentT(4.0, 0.0, 1.0), [2]),
        ... )
        >>> model.sample(3, seed=0).shape
        TensorShape([3, 2])
        >>> x = np.zeros((1, 2), np.float32)  # identity at init: log p(x) = log p_base(x)
        >>> bool(np.isclose(model.log_prob(x), model.base_distribution.log_prob(x)))
        True
        >>> len(model.trainable_variables)  # ActNorm 2, couplings 2 x 5, the shift 1
        13
    """

    def __init__(
        self,
        input_shape: Iterable[int],
        bijectors: Sequence[tfb.Bijector] | Callable[[], Sequence[tfb.Bijector]],
        base: str | tfd.Distribution | Callable[[], tfd.Distribution] = "normal",
        pixels: bool = False,
        n_bits: int = 8,
        learning_rate: float = 1e-3,
        **kwargs: Any,
    ):
        self.bijectors_spec = bijectors
        self.base_spec = base
        if isinstance(base, str):
            if base not in PRIORS:
                raise ValueError(
                    f"`base` must be one of {PRIORS} or a tfp.distributions.Distribution; "
                    f"received {base!r}."
                )
            self._base = None
        else:
            self._base = (
                base() if callable(base) and not isinstance(base, tfd.Distribution) else base
            )
        self._tfp_variables: tuple = ()
        super().__init__(
            input_shape,
            prior=base if isinstance(base, str) else "normal",
            pixels=pixels,
            n_bits=n_bits,
            learning_rate=learning_rate,
            **kwargs,
        )
        if self._base is not None:
            # `prior` names a standard base; a TFP one has no name.
            self.prior = None
        self._tfp_variables = self._find_tfp_variables()

    def _bijector_list(self) -> list[tfb.Bijector]:
        spec = self.bijectors_spec
        if callable(spec) and not isinstance(spec, tfb.Bijector):
            spec = spec()
        if isinstance(spec, tfb.Bijector) or not isinstance(spec, list | tuple):
            raise TypeError(
                "`bijectors` must be a list of tfp.bijectors.Bijector (wrap a single bijector "
                f"in a list) or a builder returning one; received {type(spec).__name__}."
            )
        for i, bijector in enumerate(spec):
            if not isinstance(bijector, tfb.Bijector):
                raise TypeError(
                    f"`bijectors[{i}]` must be a tfp.bijectors.Bijector; received an object "
                    f"of type {type(bijector).__name__}: {bijector!r}."
                )
        return list(spec)

    def build_flow(self) -> tfb.Bijector:
        """`Chain` of the bijectors in list order, then `flatten` to the `(D,)` latent."""
        if self._base is not None:
            self._base = check_base_distribution(self._base, self.event_size, self.flow_dtype)
        parts = self._bijector_list()
        body = chain_in_order(parts, "flow_body")
        out = body.forward_event_shape(self.data_shape)
        if not out.is_fully_defined() or int(np.prod(out.as_list())) != self.event_size:
            raise ValueError(
                f"The flow must map an example of shape {self.data_shape} to "
                f"{self.event_size} latent values; its bijectors output event shape {out}."
            )
        flatten = tfb.Reshape([self.event_size], out.as_list(), name="flatten")
        return chain_in_order([*parts, flatten], "flow")

    def _find_tfp_variables(self) -> tuple:
        """The tf.Variables of the TFP bijectors and of the base (not of Keras layers)."""
        keras_owned = {id(getattr(v, "value", v)) for v in super().weights}
        modules = [
            b
            for b in walk_bijectors(self.flow)
            if not isinstance(b, (FlowBijector, *CHAIN_TYPES, *INVERT_TYPES))
        ]
        if self._base is not None:
            modules.append(self._base)
        found, seen = [], set()
        for module in modules:
            for v in module.variables:
                if id(v) not in seen and id(v) not in keras_owned:
                    seen.add(id(v))
                    found.append(v)
        return tuple(found)

    @property
    def base_distribution(self) -> tfd.Distribution:
        """The latent distribution over `(D,)`: `base`, or the named standard one."""
        return super().base_distribution if self._base is None else self._base

    def latent_log_prob(self, z: tf.Tensor) -> tf.Tensor:
        if self._base is None:
            return super().latent_log_prob(z)
        return self._base.log_prob(tf.cast(z, self._base.dtype))

    def draw_latent(
        self,
        num_samples: int | tf.Tensor,
        temperature: float | tf.Tensor = 1.0,
        seed: int | tf.Tensor | None = None,
    ) -> tf.Tensor:
        if self._base is None:
            return super().draw_latent(num_samples, temperature, seed)
        return sample_base(self._base, num_samples, temperature, seed)

    # Keras' state family (`variables`, and `trainable_variables`/`non_trainable_variables`
    # derived from it) holds them; `weights` stays Keras variables only (Keras reads their
    # `.regularizer` there).
    @property
    def variables(self) -> list[tf.Variable]:
        return super().variables + list(self._tfp_variables)

    def save_own_variables(self, store: MutableMapping[str, np.ndarray]) -> None:
        super().save_own_variables(store)
        for i, v in enumerate(self._tfp_variables):
            store[f"{_TFP_KEY}{i}"] = v.numpy()

    def load_own_variables(self, store: Mapping[str, np.ndarray]) -> None:
        keys = list(store.keys())
        tfp_keys = [k for k in keys if k.startswith(_TFP_KEY)]
        if len(tfp_keys) != len(self._tfp_variables):
            raise ValueError(
                f"The saved Flow holds {len(tfp_keys)} variables of TFP bijectors and its base; "
                f"the rebuilt one has {len(self._tfp_variables)}."
            )
        super().load_own_variables({k: store[k] for k in keys if not k.startswith(_TFP_KEY)})
        for i, v in enumerate(self._tfp_variables):
            v.assign(store[f"{_TFP_KEY}{i}"])

    def save(self, filepath: str | os.PathLike, *args: Any, **kwargs: Any) -> None:
        """`keras.Model.save`; a Flow without a config raises before any file is written."""
        self.get_config()
        return super().save(filepath, *args, **kwargs)

    def get_config(self) -> dict:
        """The config, naming the registered builders of the bijectors and base.

        Raises:
            NotImplementedError: if `bijectors` or a non-string `base` was given as objects
                rather than registered builders.
        """
        unsaveable = [
            name
            for name, spec in (("bijectors", self.bijectors_spec), ("base", self.base_spec))
            if not isinstance(spec, str) and not (callable(spec) and _registered(spec))
        ]
        if unsaveable:
            raise NotImplementedError(
                f"This Flow cannot be saved with its config (`model.save`, `get_config`): "
                f"its {' and '.join(f'`{n}`' for n in unsaveable)} were given as objects. "
                f"Pass a function returning them, registered with "
                f"`@keras.saving.register_keras_serializable()`, to rebuild them on load; or "
                f"save the weights only (`model.save_weights`), or export with `tfflow.export`."
            )
        config = super().get_config()
        config.pop("prior")
        config.update(
            {
                "bijectors": keras.saving.serialize_keras_object(self.bijectors_spec),
                "base": (
                    self.base_spec
                    if isinstance(self.base_spec, str)
                    else keras.saving.serialize_keras_object(self.base_spec)
                ),
                "pixels": self.pixels,
                "n_bits": self.n_bits,
            }
        )
        return config

    @classmethod
    def from_config(cls, config: dict) -> Flow:
        config = dict(config)
        config["bijectors"] = keras.saving.deserialize_keras_object(config["bijectors"])
        if not isinstance(config.get("base", "normal"), str):
            config["base"] = keras.saving.deserialize_keras_object(config["base"])
        return cls(**config)
