"""The supervised light-curve baseline: Maven's light-curve encoder + class and redshift heads."""

from .model import SupervisedLightCurveModel, SupervisedModelConfig

__all__ = ["SupervisedLightCurveModel", "SupervisedModelConfig"]
