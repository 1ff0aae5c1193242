"""Strict, JSON-serialisable config dataclasses.

Every config in astroembed derives from :class:`StrictConfig`: ``from_dict`` rejects unknown keys and
missing keys (naming them), so a config key can never be silently ignored.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, TypeVar

from .errors import ConfigError

T = TypeVar("T", bound="StrictConfig")


class StrictConfig:
    """Mixin for frozen dataclasses: strict ``from_dict`` / ``to_dict`` (nested configs supported)."""

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            out[f.name] = v.to_dict() if isinstance(v, StrictConfig) else (list(v) if isinstance(v, tuple) else v)
        return out

    @classmethod
    def from_dict(cls: type[T], d: dict[str, Any], *, where: str | None = None) -> T:
        where = where or cls.__name__
        if not isinstance(d, dict):
            raise ConfigError(f"{where}: expected a mapping, got {type(d).__name__}")
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(d) - set(fields))
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {unknown}; valid keys are {sorted(fields)}")
        missing = sorted(set(fields) - set(d))
        if missing:
            raise ConfigError(f"{where}: missing key(s) {missing}")
        hints = typing.get_type_hints(cls)
        kwargs = {}
        for name, value in d.items():
            typ = hints.get(name)
            if isinstance(typ, type) and issubclass(typ, StrictConfig):
                value = typ.from_dict(value, where=f"{where}.{name}")
            elif isinstance(value, list):
                value = tuple(value)
            kwargs[name] = value
        return cls(**kwargs)

    def replace(self: T, **changes) -> T:
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


def check_choice(where: str, value, choices) -> None:
    if value not in choices:
        raise ConfigError(f"{where}: must be one of {list(choices)}, got {value!r}")


def check_positive(where: str, value, *, allow_zero: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        raise ConfigError(f"{where}: must be a {'non-negative' if allow_zero else 'positive'} number, got {value!r}")


def check_number(where: str, value, lo=None, hi=None, *, lo_open: bool = False, hi_open: bool = False) -> None:
    """A finite real number (not a bool) within ``[lo, hi]`` (open ends with ``lo_open`` / ``hi_open``)."""
    import math

    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and lo is not None:
        ok = value > lo if lo_open else value >= lo
    if ok and hi is not None:
        ok = value < hi if hi_open else value <= hi
    if not ok:
        lo_s = "" if lo is None else (f"> {lo}" if lo_open else f">= {lo}")
        hi_s = "" if hi is None else (f"< {hi}" if hi_open else f"<= {hi}")
        raise ConfigError(f"{where}: must be a number {lo_s} {hi_s}".rstrip() + f", got {value!r}")


def check_int(where: str, value, lo: int = 0) -> None:
    """An int (not a bool) ``>= lo``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < lo:
        raise ConfigError(f"{where}: must be an int >= {lo}, got {value!r}")


def check_prob(where: str, value) -> None:
    """A number (not a bool) in ``[0, 1)``: dropout rates, masking fractions, decays."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value < 1.0:
        raise ConfigError(f"{where}: must be a number in [0, 1), got {value!r}")


def sub_config(cls, value, where: str):
    """A nested config field: ``None`` or an instance as is, a mapping through ``cls.from_dict``."""
    if value is None or isinstance(value, cls):
        return value
    if isinstance(value, dict):
        return cls.from_dict(value, where=where)
    raise ConfigError(f"{where}: expected a mapping or null, got {type(value).__name__}")


def config_sha256(cfg: StrictConfig | dict) -> str:
    """sha256 of the canonical JSON of a config (stored in the weights file to pair it with its config)."""
    import hashlib
    import json

    d = cfg.to_dict() if isinstance(cfg, StrictConfig) else cfg
    return hashlib.sha256(json.dumps(d, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
