"""``load_pretrained``: the single entry point to get a ready-to-use model."""

from __future__ import annotations

import os

from .base import model_class
from .hub import resolve_model_dir
from .persistence import read_model_type

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
    torch.nn.Module
        The family's model class, chosen by ``model_type`` in ``config.json`` (``MavenModel`` for
        ``"maven"``; see :data:`astroembed.models.base.MODEL_TYPES`), in eval mode, with
        ``embed_lightcurve`` / ``embed_spectrum``.

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
    from .device import resolve_device

    path, kind = resolve_model_dir(name_or_path, revision=revision, cache_dir=cache_dir)
    cls = model_class(read_model_type(path))
    model = cls.from_pretrained(path, device=resolve_device(device))
    model.source = {"name_or_path": str(name_or_path), "kind": kind, "path": str(path), "revision": revision}
    return model
