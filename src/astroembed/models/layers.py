"""Layers shared by every model family: positional encodings of time and wavelength, padding masks.

Family-specific encoders (``models/<family>/encoders.py``) build on these, so a light curve's time and
band (through its effective wavelength in Å) are encoded the same way everywhere.
"""

from __future__ import annotations

import math

import torch

__all__ = ["WAVE_REF", "INPUT_CLIP", "sinusoidal_encoding", "wavelength_position", "safe_key_mask"]

#: reference wavelength (Å) of the log-λ positions ``λ_ref · ln(λ / λ_ref)``
WAVE_REF = 5000.0
#: scaled fluxes/errors are clipped to ±INPUT_CLIP before the token projection (outliers, huge errors)
INPUT_CLIP = 10.0


def sinusoidal_encoding(pos: torch.Tensor, dim: int, base: float) -> torch.Tensor:
    """Transformer sinusoidal encoding of real-valued positions.

    ``pos`` (...,) → (..., dim): ``[sin(p ω_0), cos(p ω_0), sin(p ω_1), …]`` with
    ``ω_i = base ** (-2i / dim)``.
    """
    half = dim // 2
    freqs = torch.exp(-math.log(base) * torch.arange(half, device=pos.device, dtype=torch.float32) * 2.0 / dim)
    ang = pos.float().unsqueeze(-1) * freqs
    return torch.stack((torch.sin(ang), torch.cos(ang)), dim=-1).flatten(-2)


def wavelength_position(wave: torch.Tensor, mode: str) -> torch.Tensor:
    """Positions for the wavelength encoding: λ in Å (``"linear"``) or ``λ_ref ln(λ/λ_ref)`` (``"log"``)."""
    if mode == "linear":
        return wave
    return WAVE_REF * torch.log(wave.clamp_min(1.0) / WAVE_REF)


def safe_key_mask(mask: torch.Tensor) -> torch.Tensor:
    """Key mask with at least one True per row (all-padding rows get their first token)."""
    empty = ~mask.any(dim=1)
    if bool(empty.any()):
        mask = mask.clone()
        mask[empty, 0] = True
    return mask
