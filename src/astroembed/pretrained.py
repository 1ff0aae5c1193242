"""``load_pretrained``: the single entry point to get a ready-to-use model."""

from __future__ import annotations

import os

from ._device import resolve_device
from .models.hub import resolve_model_dir

__all__ = ["load_pretrained"]


def load_pretrained(name_or_path: str | os.PathLike = "maven", *, revision: str | None = None,
                    device: str = "auto", cache_dir: str | os.PathLike | None = None):
    """Load a pretrained astroembed model in eval mode.

    Parameters
    ----------
    name_or_path : str or path
        A registered name (see :func:`astroembed.list_models`; ``"maven"`` is bundled in the wheel),
        a local directory holding ``config.json`` + ``model.safetensors`` (what
        ``model.save_pretrained(dir)`` writes), or a Hugging Face Hub repo id ``"org/name"``.
    revision : str, optional
        Hub branch, tag or commit hash (a cached 40-hex commit never touches the network).
    device : str
        ``"auto"`` (CUDA if available, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:1"``…
    cache_dir : path, optional
        Hugging Face cache directory (default: the HF cache, ``HF_HOME``/``HF_HUB_CACHE``).

    Returns
    -------
    MavenModel
        A ``torch.nn.Module`` in eval mode with ``embed_lightcurve`` / ``embed_spectrum``.

    Raises
    ------
    astroembed.errors.ModelNotFoundError
        Unknown name (the message lists the registered ones).
    astroembed.errors.WeightsIntegrityError
        A bundled or registered file does not match its sha256.
    astroembed.errors.OfflineError
        Hub files not cached while offline (the message says how to fill the cache).
    astroembed.errors.ConfigError
        ``config.json`` with an unknown or missing key.

    Examples
    --------
    >>> import astroembed as ae
    >>> model = ae.load_pretrained("maven", device="cpu")
    >>> model.training
    False
    """
    from .models.model import MavenModel

    path, kind = resolve_model_dir(name_or_path, revision=revision, cache_dir=cache_dir)
    model = MavenModel.from_pretrained(path, device=resolve_device(device))
    model.source = {"name_or_path": str(name_or_path), "kind": kind, "path": str(path), "revision": revision}
    return model
