"""Flow models as `keras.Model`s: NICE, RealNVP, Glow, and `Flow` from any bijectors."""

from tfflow.models.flow import Flow
from tfflow.models.flow_model import FlowModel
from tfflow.models.glow import Glow
from tfflow.models.nice import NICE
from tfflow.models.realnvp import RealNVP

__all__ = ["Flow", "FlowModel", "Glow", "NICE", "RealNVP"]
