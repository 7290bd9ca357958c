"""Flow models as `keras.Model`s: NICE, RealNVP and Glow."""

from tfflow.models.flow_model import FlowModel
from tfflow.models.glow import Glow
from tfflow.models.nice import NICE
from tfflow.models.realnvp import RealNVP

__all__ = ["FlowModel", "Glow", "NICE", "RealNVP"]
