"""Resolve a model name to a local directory: registry entry, local path, or Hugging Face Hub repo.

Weights are safetensors only.  For the Hub we use ``huggingface_hub.hf_hub_download`` (its cache,
``cache_dir``, ``revision`` and ``HF_HUB_OFFLINE`` apply).  In offline mode, or when the Hub cannot be
reached, a file that is not cached raises :class:`astroembed.errors.OfflineError` saying how to fill
the cache.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import ModelNotFoundError, OfflineError
from . import registry
from .registry import WEIGHT_FILES, get_model_spec, list_models, verify_files

__all__ = ["resolve_model_dir"]

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


def _hf_offline() -> bool:
    try:
        from huggingface_hub import constants

        return bool(constants.HF_HUB_OFFLINE)
    except Exception:  # pragma: no cover
        return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")


def _hub_reachable(timeout: float = 3.0) -> bool:
    """One quick TCP connection to the Hub endpoint (instead of huggingface_hub's ~25 s of retries)."""
    import socket
    from urllib.parse import urlparse

    try:
        from huggingface_hub import constants

        url = urlparse(constants.ENDPOINT)
    except Exception:  # pragma: no cover
        url = urlparse("https://huggingface.co")
    try:
        with socket.create_connection((url.hostname, url.port or (443 if url.scheme == "https" else 80)),
                                      timeout=timeout):
            return True
    except OSError:
        return False


def _both_readings(name: str) -> str:
    return (f"{name!r} is neither a local model directory (no folder {str(Path(name).expanduser().absolute())!r}) "
            f"nor a registered name ({', '.join(list_models()) or 'none'})")


def _download_from_hub(repo_id: str, revision: str | None, cache_dir, *, also_path: bool = False) -> Path:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError, RepositoryNotFoundError

    paths = []
    disabled = _hf_offline()
    offline = disabled
    if not offline:
        try:  # cached files need no network at all
            return _download_from_hub_offline(repo_id, revision, cache_dir)
        except (LocalEntryNotFoundError, OSError):
            pass
        if not _hub_reachable():
            offline = True  # fail fast below (one connection attempt, not ~25 s of retries), naming the cache
    prefix = (_both_readings(repo_id) + "; as a Hugging Face Hub repo id: ") if also_path else ""
    for fname in WEIGHT_FILES:
        try:
            paths.append(Path(hf_hub_download(repo_id, fname, revision=revision, cache_dir=cache_dir,
                                              library_name="astroembed", local_files_only=offline)))
        except (LocalEntryNotFoundError, OSError) as exc:
            if isinstance(exc, (EntryNotFoundError, RepositoryNotFoundError)) and not isinstance(
                    exc, LocalEntryNotFoundError):
                raise ModelNotFoundError(f"Hub repo {repo_id!r} (revision {revision or 'main'}) has no {fname}: "
                                         f"{exc}") from None
            from huggingface_hub import constants

            cache = cache_dir or constants.HF_HUB_CACHE
            raise OfflineError(
                f"{prefix}model {repo_id!r} (revision {revision or 'main'}) file {fname!r} is not in the local cache "
                f"{cache} and the Hugging Face Hub is {'disabled (HF_HUB_OFFLINE=1)' if disabled else 'unreachable'}. "
                f"To fix: on a machine with internet run `huggingface-cli download {repo_id}"
                f"{' --revision ' + revision if revision else ''} --cache-dir {cache}` and copy that cache here, "
                f"or download config.json + model.safetensors into a folder and call "
                f"astroembed.load_pretrained('/path/to/folder').") from None
        if paths[-1].suffix in (".bin", ".pt", ".pth", ".pkl"):
            raise ValueError("refusing pickled weights; astroembed loads safetensors only")
    return paths[0].parent


def _download_from_hub_offline(repo_id: str, revision: str | None, cache_dir) -> Path:
    from huggingface_hub import hf_hub_download

    paths = [Path(hf_hub_download(repo_id, f, revision=revision, cache_dir=cache_dir, library_name="astroembed",
                                  local_files_only=True)) for f in WEIGHT_FILES]
    return paths[0].parent


def resolve_model_dir(name_or_path: str | os.PathLike, *, revision: str | None = None,
                      cache_dir: str | os.PathLike | None = None) -> tuple[Path, str]:
    """Return ``(directory, kind)`` where directory holds ``config.json`` + ``model.safetensors``.

    ``kind`` is ``"registry"``, ``"local"`` or ``"hub"``.  Registry entries are sha256-checked.
    """
    if isinstance(name_or_path, os.PathLike) or (isinstance(name_or_path, str) and (
            os.sep in name_or_path and os.path.exists(name_or_path) or name_or_path.startswith((".", "~", "/")))):
        path = Path(name_or_path).expanduser()
        if not path.is_dir():
            raise ModelNotFoundError(f"model path {str(path)!r} is not a directory holding config.json + "
                                     "model.safetensors")
        missing = [f for f in WEIGHT_FILES if not (path / f).exists()]
        if missing:
            pickles = [p.name for p in path.iterdir() if p.suffix in (".bin", ".pt", ".pth", ".pkl", ".ckpt")]
            extra = f" (found {pickles}: pickled weights are not supported; convert to safetensors)" if pickles else ""
            raise ModelNotFoundError(f"model directory {str(path)!r} lacks {missing}{extra}")
        return path, "local"
    if not isinstance(name_or_path, str):
        raise TypeError(f"name_or_path: expected a model name, directory or repo id, got {type(name_or_path).__name__}")
    if name_or_path in list_models():
        spec = get_model_spec(name_or_path)
        if spec.bundled:
            path = registry.bundled_weights_dir() / spec.name
        else:
            path = _download_from_hub(spec.repo_id, revision or spec.revision, cache_dir)
        verify_files(path, spec.sha256, what=f"model {spec.name!r}")
        return path, "registry"
    if os.path.isdir(name_or_path):
        return resolve_model_dir(Path(name_or_path))
    if _REPO_ID.match(name_or_path):
        first = name_or_path.split("/", 1)[0]
        if os.path.isdir(first):  # "runs/my_model" with ./runs present: a local path that does not exist
            raise ModelNotFoundError(
                f"{_both_readings(name_or_path)}; the folder {first!r} exists here, so this looks like a local "
                f"path that does not exist (check the run directory) rather than a Hugging Face Hub repo id. "
                f"For a Hub repo of that name, run from another directory or call hf_hub_download first.")
        return _download_from_hub(name_or_path, revision, cache_dir, also_path=True), "hub"
    get_model_spec(name_or_path)  # raises ModelNotFoundError listing the known names
    raise AssertionError("unreachable")  # pragma: no cover
