"""The Embedder protocol every model family implements, and the ``model_type`` → class table.

A model family lives in ``astroembed/models/<family>/`` and is a ``torch.nn.Module`` with:

* a class attribute ``model_type`` (the value written to ``config.json``),
* ``config`` (a frozen :class:`~astroembed.config.StrictConfig` dataclass) and ``embed_dim``,
* ``embed_lightcurve(objs, *, batch_size, progress, normalize, errors)`` and/or ``embed_spectrum(...)``
  returning float32 (N, embed_dim) unit-norm arrays (a family without a modality raises
  ``NotImplementedError`` naming the modality; :attr:`modalities` says which it has),
* ``save_pretrained(directory)`` and the classmethod ``from_pretrained(directory, device=...)``.

Families register their model type in :data:`MODEL_TYPES` (module path + class name, imported only
when a model of that type is loaded), so :func:`astroembed.load_pretrained`, search, tasks, evaluate
and the CLI never special-case a family.
"""

from __future__ import annotations

import importlib
import os
from typing import Any, Protocol, runtime_checkable

from ..errors import ConfigError

__all__ = ["Embedder", "MODEL_TYPES", "register_model_type", "model_class", "has_modality"]


@runtime_checkable
class Embedder(Protocol):
    """What search, tasks, evaluate and the CLI rely on (structural: no base class needed)."""

    model_type: str
    config: Any

    @property
    def embed_dim(self) -> int: ...

    @property
    def modalities(self) -> tuple[str, ...]: ...

    def embed_lightcurve(self, objs, *, batch_size: int = ..., progress: bool | None = ...,
                         normalize: bool = ..., errors: str = ...): ...

    def embed_spectrum(self, objs, *, batch_size: int = ..., progress: bool | None = ...,
                       normalize: bool = ..., errors: str = ...): ...

    def save_pretrained(self, directory: str | os.PathLike, extra_metadata: dict | None = None): ...


#: ``model_type`` (as in config.json) → ``"module:Class"``; the module is imported on first use
MODEL_TYPES: dict[str, str] = {
    "maven": "astroembed.models.maven.model:MavenModel",
    "supervised-lightcurve": "astroembed.models.supervised.model:SupervisedLightCurveModel",
    "simfm": "astroembed.models.simfm.model:SimFMModel",
    "transceiver": "astroembed.models.transceiver.model:TransceiverModel",
    "applecider": "astroembed.models.applecider.model:AppleCiderModel",
    "applecider-ensemble": "astroembed.models.applecider.ensemble:AppleCiderEnsemble",
}


def register_model_type(model_type: str, target: str) -> None:
    """Register a model family: ``target`` is ``"package.module:ClassName"`` with ``from_pretrained``."""
    if not isinstance(model_type, str) or not model_type:
        raise ValueError("register_model_type: model_type must be a non-empty string")
    if not isinstance(target, str) or target.count(":") != 1:
        raise ValueError(f"register_model_type: target must look like 'package.module:Class', got {target!r}")
    MODEL_TYPES[model_type] = target


def model_class(model_type: str) -> type:
    """The class implementing ``model_type`` (imports its family's module)."""
    try:
        target = MODEL_TYPES[model_type]
    except KeyError:
        raise ConfigError(f"config.json: unknown model_type {model_type!r}; known model types: "
                          f"{sorted(MODEL_TYPES)} (a newer astroembed may know it)") from None
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def has_modality(model, modality: str) -> bool:
    """Whether ``model`` can embed ``modality`` (``"lightcurve"`` or ``"spectrum"``)."""
    mods = getattr(model, "modalities", None)
    if mods is not None:
        return modality in tuple(mods)
    return callable(getattr(model, f"embed_{modality}", None))
