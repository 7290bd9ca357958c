"""tfflow: exact-likelihood normalizing flows (NICE, RealNVP, Glow) for TensorFlow and Keras 3.

The package is organised as the architecture is:

- `tfflow.bijectors`: invertible building blocks, each a `tfp.bijectors.Bijector` subclass
  with an exact log-determinant. By convention every tfflow bijector's `forward` maps
  data towards the latent space (the "normalizing" direction); models invert the chain so
  that `model.bijector.forward` generates, as TFP expects.
- `tfflow.layers`: Keras 3 layers that own the parameters the bijectors read at call time
  (conditioner networks and parameter sets).
- `tfflow.models`: `NICE`, `RealNVP` and `Glow` as `keras.Model`s, and `Flow`, a model built
  from any list of tfflow and TFP bijectors and a base distribution.
- `tfflow.data`: datasets (scikit-learn digits, toy 2-D densities, IDX/npz/image folders,
  tensorflow-datasets) and `tf.data` pipelines with dequantization.
"""

from tfflow import bijectors, layers, models, serving
from tfflow._version import __version__
from tfflow.models import NICE, Flow, FlowModel, Glow, RealNVP
from tfflow.serving import export, load_served

__all__ = [
    "Flow",
    "FlowModel",
    "Glow",
    "NICE",
    "RealNVP",
    "bijectors",
    "export",
    "layers",
    "load_served",
    "models",
    "serving",
    "__version__",
]
