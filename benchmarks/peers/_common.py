"""Shared by the peer scripts.  Runs in the peers' own venvs too, so it needs only numpy + pyarrow:
astroembed's ``evaluate/peers.py`` and ``search/files.py`` are loaded by file path, not imported as a
package (importing ``astroembed`` would need torch, safetensors, ... in every peer venv)."""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "astroembed"
#: default work directory for exported light curves, peer models and embeddings (not in the repo)
DEFAULT_WORK = Path(os.environ.get("ASTROEMBED_PEERS_WORK", "/tmp/astroembed-peers"))
EXPORT_NAME = "ztf_bts_maven5_lightcurves.parquet"


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def peers_module():
    """``astroembed/evaluate/peers.py`` as a stand-alone module."""
    return _load("astroembed_peers_standalone", SRC / "evaluate" / "peers.py")


def embedding_files_module():
    """``astroembed/search/files.py`` (write_embeddings / read_embeddings) as a stand-alone module."""
    return _load("astroembed_embedding_files_standalone", SRC / "search" / "files.py")


def read_export(path) -> list[SimpleNamespace]:
    """The exported light curves as LightCurve-like records (time, band, flux, flux_err in µJy, mag,
    mag_err, object_id, redshift, mwebv, label), in file order."""
    import pyarrow.parquet as pq

    rows = pq.read_table(path).to_pylist()
    out = []
    for r in rows:
        z = r["redshift"]
        out.append(SimpleNamespace(
            object_id=r["object_id"], label=r["label"],
            redshift=None if z is None or not np.isfinite(z) else float(z),
            mwebv=None if r["mwebv"] is None else float(r["mwebv"]),
            time=np.asarray(r["time"], np.float64), band=np.asarray(r["band"]).astype(str),
            flux=np.asarray(r["flux"], np.float64), flux_err=np.asarray(r["flux_err"], np.float64),
            mag=np.asarray(r["mag"], np.float64), mag_err=np.asarray(r["mag_err"], np.float64)))
    return out


def write_peer_embeddings(path, E, records, *, metadata: dict) -> None:
    """Write embeddings with object ids, labels and redshifts in astroembed's Parquet format."""
    ef = embedding_files_module()
    E = np.asarray(E, np.float32)
    ok = np.isfinite(E).all(axis=1)
    ids = np.array([r.object_id for r in records], dtype=object)[ok]
    metadata = dict(metadata, n_rejected=int((~ok).sum()),
                    rejected_ids=[r.object_id for r, k in zip(records, ok) if not k][:50])
    cols = {"label": np.array([r.label or "" for r in records], dtype=object)[ok],
            "redshift": np.array([np.nan if r.redshift is None else r.redshift for r in records])[ok]}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    ef.write_embeddings(path, E[ok], ids, columns=cols, metadata=metadata)
    print(f"wrote {path}: {ok.sum()} x {E.shape[1]} ({(~ok).sum()} rejected)")


def environment() -> dict:
    import importlib.metadata as md

    pk = {}
    for d in ("astro-parsnip", "lcdata", "sncosmo", "torch", "astromcad", "tensorflow", "keras", "ASTROMER",
              "numpy"):
        try:
            pk[d] = md.version(d)
        except md.PackageNotFoundError:
            pass
    return {"python": platform.python_version(), "executable": sys.executable, "packages": pk,
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "cpu_count": os.cpu_count(),
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def dump_json(path, obj) -> None:
    Path(path).write_text(json.dumps(obj, indent=1, default=str))
