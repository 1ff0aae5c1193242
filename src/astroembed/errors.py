"""The few precise exception types astroembed raises.

Bad *input* raises the builtin :class:`ValueError` / :class:`TypeError` with a message that names the
field and the fix.  The types below exist for situations a caller may want to catch specifically.
"""

from __future__ import annotations

__all__ = ["ModelNotFoundError", "OfflineError", "WeightsIntegrityError", "ConfigError", "TrainingDivergedError"]


class ModelNotFoundError(LookupError):
    """A model name is neither a registered model, a local directory, nor a Hub repo id."""


class OfflineError(FileNotFoundError):
    """Weights are not in the local cache and the Hugging Face Hub cannot be reached."""


class WeightsIntegrityError(ValueError):
    """A weights file does not match its recorded sha256 (corrupt or truncated download)."""


class ConfigError(ValueError):
    """A model/preprocessing config has an unknown key, a missing key or a bad value."""


class TrainingDivergedError(FloatingPointError):
    """The loss or the gradients became NaN/inf; training stopped without writing the bad weights."""
