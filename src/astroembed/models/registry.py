"""Registry of named pretrained models (``list_models()``), in the spirit of timm's.

Each entry says where its files are — bundled inside the wheel (``_weights/<name>/``) or on the
Hugging Face Hub at a pinned revision — and the sha256 of every file, checked on load.  The entries
live in ``_weights/registry.json`` (written by ``benchmarks/register_weights.py`` from the files
themselves, never typed by hand).
"""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..errors import ModelNotFoundError, WeightsIntegrityError

__all__ = ["ModelSpec", "list_models", "get_model_spec", "sha256_file", "verify_files", "bundled_weights_dir",
           "write_registry_entry"]

WEIGHT_FILES = ("config.json", "model.safetensors")


@dataclass(frozen=True)
class ModelSpec:
    """One registered model.

    ``bundled`` models live in ``astroembed/_weights/<name>``; others name a Hub ``repo_id`` and a
    pinned ``revision``.  ``sha256`` maps each file name to its hex digest.
    """

    name: str
    description: str
    sha256: dict[str, str] = field(default_factory=dict)
    bundled: bool = True
    repo_id: str | None = None
    revision: str | None = None
    default: bool = False


def bundled_weights_dir() -> Path:
    """Directory holding the bundled weights (``astroembed/_weights``)."""
    return Path(str(resources.files("astroembed") / "_weights"))


def _load_registry() -> dict[str, ModelSpec]:
    path = bundled_weights_dir() / "registry.json"
    if not path.exists():
        return {}
    raw = json.loads(path.read_text())
    return {name: ModelSpec(name=name, **entry) for name, entry in raw.items()}


def list_models(filter: str = "") -> list[str]:  # noqa: A002 - timm-style argument name
    """Names of the registered pretrained models, optionally filtered by a glob pattern.

    >>> import astroembed as ae
    >>> "maven" in ae.list_models()
    True
    """
    names = sorted(_load_registry())
    return [n for n in names if not filter or fnmatch.fnmatch(n, filter)]


def get_model_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of a registered model; ``ModelNotFoundError`` lists the known names."""
    registry = _load_registry()
    if name in registry:
        return registry[name]
    close = difflib.get_close_matches(name, list(registry), n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ModelNotFoundError(
        f"unknown model {name!r}.{hint} Registered models: {sorted(registry) or 'none'}. You can also pass a "
        "local directory holding config.json + model.safetensors, or a Hugging Face repo id 'org/name'.")


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def verify_files(directory: Path, expected: dict[str, str], *, what: str) -> None:
    """Check every file of ``expected`` exists in ``directory`` with the recorded sha256."""
    for fname, digest in expected.items():
        path = Path(directory) / fname
        if not path.exists():
            raise WeightsIntegrityError(f"{what}: file {fname!r} is missing from {directory}; reinstall astroembed "
                                        "or re-download the model")
        got = sha256_file(path)
        if got != digest:
            raise WeightsIntegrityError(
                f"{what}: {fname} is corrupt or truncated (sha256 {got[:12]}… != expected {digest[:12]}…); "
                "reinstall astroembed / delete the cached file and download it again")


def write_registry_entry(name: str, description: str, *, weights_root: Path | None = None,
                         default: bool = False) -> ModelSpec:
    """Record the bundled model ``weights_root/name`` in ``registry.json`` with the sha256 of its files.

    Used by the release step after training (``python -m astroembed.models.registry NAME "description"``);
    the digests come from the files themselves.
    """
    root = Path(weights_root) if weights_root is not None else bundled_weights_dir()
    folder = root / name
    digests = {f: sha256_file(folder / f) for f in WEIGHT_FILES}
    path = root / "registry.json"
    raw = json.loads(path.read_text()) if path.exists() else {}
    raw[name] = {"description": description, "sha256": digests, "bundled": True, "repo_id": None,
                 "revision": None, "default": default}
    path.write_text(json.dumps(raw, indent=2, sort_keys=True) + "\n")
    return ModelSpec(name=name, **raw[name])


def bundle_weights(src, name: str, description: str, *, default: bool = False,
                   weights_root: Path | None = None) -> ModelSpec:
    """Copy a trained model directory's ``config.json`` + ``model.safetensors`` into the bundled weights
    folder ``name`` and record them with :func:`write_registry_entry` (the release step of the tools)."""
    import shutil

    src = Path(src)
    missing = [f for f in WEIGHT_FILES if not (src / f).is_file()]
    if missing:
        raise FileNotFoundError(f"bundle_weights: {src} lacks {missing}; pass a directory written by save_pretrained")
    dest = (Path(weights_root) if weights_root is not None else bundled_weights_dir()) / name
    dest.mkdir(parents=True, exist_ok=True)
    for f in WEIGHT_FILES:
        shutil.copyfile(src / f, dest / f)
    return write_registry_entry(name, description, weights_root=weights_root, default=default)


if __name__ == "__main__":  # pragma: no cover
    import sys

    if len(sys.argv) < 3:
        sys.exit("usage: python -m astroembed.models.registry NAME DESCRIPTION [--default]")
    print(write_registry_entry(sys.argv[1], sys.argv[2], default="--default" in sys.argv))
