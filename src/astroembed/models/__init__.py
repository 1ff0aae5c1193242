"""Model families behind one Embedder protocol, one registry and one loader.

* :mod:`.base` — the :class:`~.base.Embedder` protocol and the ``model_type`` → class table.
* :mod:`.registry` — named pretrained models (sha256-checked); :mod:`.hub` — local dir / Hub resolution;
  :mod:`.pretrained` — :func:`load_pretrained`, dispatching on ``config.json["model_type"]``.
* :mod:`.persistence` — ``config.json`` + ``model.safetensors``; :mod:`.layers` — shared encodings;
  :mod:`.embedding` — the batched inference loop every family uses.
* one subpackage per family: :mod:`.maven`, :mod:`.supervised`, …

Names are resolved lazily, so ``import astroembed.models`` does not import torch.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "Embedder": ".base", "MODEL_TYPES": ".base", "register_model_type": ".base", "model_class": ".base",
    "list_models": ".registry", "get_model_spec": ".registry", "load_pretrained": ".pretrained",
    "resolve_device": ".device",
    "MODALITIES": ".maven", "LightCurveEncoderConfig": ".maven", "SpectrumEncoderConfig": ".maven",
    "MetadataEncoderConfig": ".maven", "MavenConfig": ".maven", "LightCurveEncoder": ".maven",
    "SpectrumEncoder": ".maven", "MetadataEncoder": ".maven", "LogitScales": ".maven", "clip_loss": ".maven",
    "info_nce": ".maven", "MavenModel": ".maven", "MetadataBatch": ".maven", "Embeddings": ".maven",
    "config_sha256": ".persistence",
    "SupervisedLightCurveModel": ".supervised", "SupervisedModelConfig": ".supervised",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'astroembed.models' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
