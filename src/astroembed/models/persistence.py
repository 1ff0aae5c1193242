"""Model directories: ``config.json`` (``model_type`` + config + band table + provenance) and ``model.safetensors``.

Shared by every model family: the weights are safetensors only (never pickle), loaded strictly, and
paired with their config through the config's sha256 stored in the safetensors metadata.

``band_wavelengths`` in ``config.json`` is the ``{band: Å}`` table the model was trained with; the
model encodes bands with it (:func:`encodes_bands`), so a later change of the band registry does not
change its embeddings.  Files without it (astroembed 0.1) get
:data:`~astroembed.data.bands.LEGACY_BAND_WAVELENGTHS`.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import torch
from torch import nn

from ..config import config_sha256
from ..data.bands import (
    LEGACY_BAND_WAVELENGTHS,
    band_wavelength_table,
    pinned_band_wavelengths,
    validate_band_table,
)
from ..errors import ConfigError

__all__ = ["CONFIG_NAME", "WEIGHTS_NAME", "config_sha256", "read_model_type", "read_config_file",
           "read_band_table", "write_config_file", "save_weights", "load_weights", "encodes_bands"]

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
_TOP_KEYS_REQUIRED = {"model_type", "config"}
#: ``metadata`` in config.json is provenance (astroembed/torch versions); it is written, never read back.
#: ``band_wavelengths`` is the band table the model was trained with (absent: astroembed 0.1's table).
_TOP_KEYS_OPTIONAL = {"metadata", "band_wavelengths"}


def _read_doc(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no {CONFIG_NAME} here; a model directory holds {CONFIG_NAME} and "
                                f"{WEIGHTS_NAME} (written by save_pretrained)")
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    unknown = sorted(set(doc) - _TOP_KEYS_REQUIRED - _TOP_KEYS_OPTIONAL)
    missing = sorted(_TOP_KEYS_REQUIRED - set(doc))
    if unknown or missing:
        raise ConfigError(f"{path}: unknown top-level key(s) {unknown}, missing {missing}; expected "
                          f"{sorted(_TOP_KEYS_REQUIRED)} and optionally {sorted(_TOP_KEYS_OPTIONAL)}")
    return doc


def read_model_type(path: str | os.PathLike) -> str:
    """The ``model_type`` recorded in a ``config.json`` (or in ``<dir>/config.json``)."""
    path = Path(path)
    if path.is_dir():
        path = path / CONFIG_NAME
    return str(_read_doc(path)["model_type"])


def _versions() -> dict[str, str]:
    try:
        from .. import __version__ as ae_version
    except ImportError:  # pragma: no cover
        ae_version = "unknown"
    return {"astroembed_version": ae_version, "torch_version": torch.__version__}


def write_config_file(path: str | os.PathLike, model_type: str, config: dict, extra_metadata: dict | None = None,
                      band_wavelengths: dict | None = None) -> None:
    """Write ``config.json``; ``band_wavelengths`` defaults to the band table in force now."""
    meta = _versions() | (extra_metadata or {})
    table = validate_band_table(band_wavelength_table() if band_wavelengths is None else band_wavelengths)
    doc = {"model_type": model_type, "config": config, "band_wavelengths": table, "metadata": meta}
    Path(path).write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")


def read_band_table(path: str | os.PathLike) -> dict[str, float]:
    """The ``{band: Å}`` table a saved model was trained with (``config.json`` or its folder).

    A ``config.json`` without ``band_wavelengths`` (astroembed 0.1) gives
    :data:`~astroembed.data.bands.LEGACY_BAND_WAVELENGTHS`.
    """
    path = Path(path)
    if path.is_dir():
        path = path / CONFIG_NAME
    doc = _read_doc(path)
    if "band_wavelengths" not in doc:
        return dict(LEGACY_BAND_WAVELENGTHS)
    try:
        return validate_band_table(doc["band_wavelengths"], where=f"{path}: band_wavelengths")
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def read_config_file(path: str | os.PathLike, model_type: str) -> dict:
    """Read a ``config.json`` (strict top level) of a ``model_type`` model; returns its ``config`` mapping."""
    path = Path(path)
    doc = _read_doc(path)
    if doc["model_type"] != model_type:
        raise ConfigError(f"{path}: model_type is {doc['model_type']!r}, expected {model_type!r}")
    return doc["config"]


def save_weights(module: nn.Module, path: str | os.PathLike, config_hash: str) -> None:
    from safetensors.torch import save_file

    sd = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    bad = [k for k, v in sd.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise ValueError(f"refusing to write non-finite weights (NaN/inf in {bad[:5]})")
    tmp = Path(str(path) + ".tmp")
    save_file(sd, str(tmp), metadata={"format": "pt", "config_sha256": config_hash})
    os.replace(tmp, path)


def load_weights(module: nn.Module, path: str | os.PathLike, config_hash: str) -> None:
    """Load safetensors weights strictly: the file must come from this very config."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: weights file not found (expected {WEIGHTS_NAME} beside {CONFIG_NAME})")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        sd = load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types on corrupt files
        raise ValueError(f"{path}: not a readable safetensors file ({exc})") from exc
    own = module.state_dict()
    missing = sorted(set(own) - set(sd))
    unexpected = sorted(set(sd) - set(own))
    shapes = [f"{k}: file {tuple(sd[k].shape)} vs model {tuple(own[k].shape)}"
              for k in sorted(set(sd) & set(own)) if sd[k].shape != own[k].shape]
    if missing or unexpected or shapes:
        raise ConfigError(
            f"{path}: the weights do not match the config (they come from another model config): "
            f"missing {missing[:8]}{' …' if len(missing) > 8 else ''}, unexpected "
            f"{unexpected[:8]}{' …' if len(unexpected) > 8 else ''}, shape mismatches {shapes[:5]}")
    file_hash = meta.get("config_sha256")
    if file_hash != config_hash:
        raise ConfigError(f"{path}: these weights were saved with a different config (config_sha256 "
                          f"{file_hash!r} != {config_hash!r} of {CONFIG_NAME}); use the {CONFIG_NAME} written "
                          "together with them by save_pretrained")
    module.load_state_dict(sd, strict=True)


def encodes_bands(method):
    """Decorator for a model method that turns band names into wavelengths (embedding, prediction,
    generation, preprocessing): the method runs with the model's band table pinned.  A model without a
    table of its own (built in this process, or a sub-module of a loaded model) keeps the table in force."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if self._band_table is None:
            return method(self, *args, **kwargs)
        with pinned_band_wavelengths(self._band_table):
            return method(self, *args, **kwargs)

    return wrapper


class PretrainedMixin:
    """``save_pretrained`` / ``from_pretrained`` for a model family (one implementation for all of them).

    A family's ``nn.Module`` lists this mixin first among its bases and sets the class attributes
    ``model_type`` (written to ``config.json``) and ``config_class`` (its strict config dataclass); its
    ``__init__`` takes that config as its only argument and keeps it as ``self.config``.  Its methods that
    read band wavelengths are decorated with :func:`encodes_bands`.
    """

    model_type: str
    config_class: type
    #: the band table pinned for this model (``None``: the live registry, for a model built in this process)
    _band_table: dict | None = None

    @property
    def band_wavelengths(self) -> dict[str, float]:
        """``{band: Å}``: the effective wavelengths this model encodes bands with (saved with it)."""
        if self._band_table is None:
            return band_wavelength_table()
        with pinned_band_wavelengths(self._band_table):
            return band_wavelength_table()

    def pin_band_wavelengths(self, table) -> None:
        """Encode bands with ``table`` (``{band: Å}``, e.g. :func:`read_band_table` of the model whose
        weights this one starts from); ``None`` returns to the live registry."""
        self._band_table = None if table is None else validate_band_table(table)

    def save_pretrained(self, directory: str | os.PathLike, extra_metadata: dict | None = None) -> Path:
        """Write ``config.json`` (config + provenance metadata) and ``model.safetensors`` to ``directory``.

        Non-finite weights are refused (``ValueError``).
        """
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        save_weights(self, d / WEIGHTS_NAME, config_sha256(self.config))
        write_config_file(d / CONFIG_NAME, self.model_type, self.config.to_dict(), extra_metadata,
                          band_wavelengths=self.band_wavelengths)
        return d

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, *, device="cpu"):
        """Load a model directory written by :meth:`save_pretrained`; strict about config keys and weights.

        Returns the model in eval mode on ``device`` (``"auto"`` = CUDA if available).
        """
        from .device import resolve_device

        d = Path(directory)
        cfg = cls.config_class.from_dict(read_config_file(d / CONFIG_NAME, cls.model_type), where=str(d / CONFIG_NAME))
        model = cls(cfg)
        load_weights(model, d / WEIGHTS_NAME, config_sha256(cfg))
        model.pin_band_wavelengths(read_band_table(d / CONFIG_NAME))
        return model.to(resolve_device(device)).eval()
