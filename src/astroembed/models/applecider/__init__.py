"""AppleCiDEr-style early multimodal transient classifier (photometry + alert metadata + spectrum,
fused by a mixture of experts).  See docs/models/applecider.md.

Names are resolved lazily: importing this package does not import torch until a model is built.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "AppleCiderConfig": ".config", "AppleCiderTrainConfig": ".config", "PhotometryConfig": ".config",
    "MetadataConfig": ".config", "SpectrumTowerConfig": ".config", "FusionConfig": ".config",
    "DEFAULT_CLASSES": ".config", "METADATA_FIELDS": ".features", "truncate_lightcurve": ".features",
    "AppleCiderModel": ".model", "train_applecider": ".training", "classify_table": ".api",
    "CLASS_MERGE": ".labels", "applecider_label": ".labels", "AppleCiderEnsemble": ".ensemble",
    "AppleCiderEnsembleConfig": ".ensemble",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'astroembed.models.applecider' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
