"""Maven models: typed configs, encoders, the CLIP model and its loss.

``import astroembed.models`` never imports the training code (:mod:`astroembed.train`).
"""

from .config import (
    MODALITIES,
    LightCurveEncoderConfig,
    MavenConfig,
    MetadataEncoderConfig,
    SpectrumEncoderConfig,
    config_sha256,
)
from .encoders import LightCurveEncoder, MetadataEncoder, SpectrumEncoder
from .losses import LogitScales, clip_loss, info_nce
from .model import Embeddings, MavenModel, MetadataBatch, resolve_device

__all__ = [
    "MODALITIES", "LightCurveEncoderConfig", "SpectrumEncoderConfig", "MetadataEncoderConfig", "MavenConfig",
    "config_sha256", "LightCurveEncoder", "SpectrumEncoder", "MetadataEncoder", "LogitScales", "clip_loss",
    "info_nce", "MavenModel", "MetadataBatch", "Embeddings", "resolve_device",
]
