"""Adapters that run peer models (ParSNIP, astromcad, ASTROMER) through the astroembed evaluation harness.

Each adapter turns a peer into an object with ``embed_lightcurve(list_of_LightCurve) -> (N, D)``, so
:func:`astroembed.evaluate.evaluate_model` runs it exactly like an astroembed model.  The peers are
**not** dependencies of astroembed (they pin other versions of torch/TensorFlow); install each one in
its own virtual environment, e.g.::

    python -m venv venv-parsnip && venv-parsnip/bin/pip install torch==2.13.0 astro-parsnip pyarrow

and either run the adapter there (with astroembed importable), or use the scripts of
``benchmarks/peers/`` that run the peer in its venv, write its embeddings to Parquet, and evaluate
that file from the astroembed environment (:func:`load_peer_embeddings`).  See ``docs/peers.md``.

The peer packages are imported lazily, only when an adapter is built; a missing peer raises an
``ImportError`` that names the venv and the ``pip install`` command.

This module imports only numpy (and the standard library) at import time, so the benchmark scripts
can load it by file path inside a peer's venv without astroembed's own dependencies.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["PEERS", "PeerInfo", "peer_missing_message", "import_peer", "ParsnipEmbedder", "AstromcadEmbedder",
           "lightcurve_to_parsnip_table", "register_ztf_bandpasses", "astromcad_sequence", "embeddings_path",
           "load_peer_embeddings", "parsnip_features", "PARSNIP_FEATURES", "UJY_TO_ZP25", "ASTROMCAD_BAND_UM",
           "ASTROMCAD_NTIMESTEPS", "ASTROMCAD_FLUX_NORMS"]


@dataclass(frozen=True)
class PeerInfo:
    """How to install and import one peer."""

    name: str
    module: str         # import name
    dist: str           # PyPI distribution
    venv: str           # suggested venv directory name
    install: tuple      # pip install argument lists, run in that order inside the venv
    what: str           # what its embedding is


PEERS: dict[str, PeerInfo] = {
    "parsnip": PeerInfo("parsnip", "parsnip", "astro-parsnip", "venv-parsnip",
                        ("torch==2.13.0", "astro-parsnip pyarrow"),
                        "ParSNIP (Boone 2021) VAE latent: colour, s1..s3 (+ log amplitude)"),
    "astromcad": PeerInfo("astromcad", "astromcad", "astromcad", "venv-astromcad",
                          ("astromcad pyarrow pandas matplotlib seaborn",),
                          "astromcad (Gupta+2024) GRU classifier, 100-d 'latent' layer (pretrained, shipped)"),
    "astromer": PeerInfo("astromer", "ASTROMER", "ASTROMER", "venv-astromer",
                         ("ASTROMER pyarrow tensorboard tf-keras",),
                         "ASTROMER (Donoso-Oliva+2023) single-band transformer encoder (no adapter: its "
                         "pretrained weights download from GitHub; see docs/peers.md)"),
}

#: µJy -> flux on the AB zero point 25 used by ParSNIP (25 - 23.9 = 1.1 mag).
UJY_TO_ZP25 = 10 ** (0.4 * 1.1)

#: Default ParSNIP latent features used as the embedding (``predict_dataset`` columns).  ``s1..s3`` and
#: ``color`` are the encoder's posterior means; ``log_amplitude`` is log10 of the fitted amplitude.
PARSNIP_FEATURES = ("color", "s1", "s2", "s3", "log_amplitude")


def peer_missing_message(peer: str, error: BaseException | None = None) -> str:
    """Text of the ImportError raised when a peer is not installed in the running environment."""
    info = PEERS[peer]
    why = f" ({type(error).__name__}: {error})" if error is not None else ""
    return (f"The peer model {peer!r} (PyPI: {info.dist}) is not importable in this Python environment{why}. "
            f"Peers are not astroembed dependencies; install it in its own virtual environment, e.g. "
            f"`python -m venv {info.venv} && "
            + " && ".join(f"{info.venv}/bin/pip install {args}" for args in info.install)
            + "`, and run it there"
            + (f" (benchmarks/peers/run_{peer}.py writes its embeddings to Parquet; evaluate them with "
               f"benchmarks/peers/evaluate_peer.py)" if peer != "astromer" else "")
            + ". See docs/peers.md.")


def import_peer(peer: str):
    """Import the peer's package, or raise ImportError with :func:`peer_missing_message`."""
    if peer not in PEERS:
        raise KeyError(f"unknown peer {peer!r}; known: {sorted(PEERS)}")
    try:
        return importlib.import_module(PEERS[peer].module)
    except ImportError as e:
        raise ImportError(peer_missing_message(peer, e)) from e


def embeddings_path(out_dir, peer: str, variant: str | None = None, dataset: str = "ztf_bts") -> Path:
    """Where the benchmark scripts write a peer's embeddings: ``<out_dir>/<peer>[-<variant>]_<dataset>.parquet``."""
    if peer not in PEERS:
        raise KeyError(f"unknown peer {peer!r}; known: {sorted(PEERS)}")
    tag = peer if not variant else f"{peer}-{variant}"
    return Path(out_dir) / f"{tag}_{dataset}.parquet"


def load_peer_embeddings(path, object_ids) -> tuple[np.ndarray, np.ndarray, dict]:
    """Read a peer's embedding file and align it to ``object_ids``.

    Returns ``(E, keep, metadata)``: ``E`` holds the rows of the objects the peer embedded, in the order of
    ``object_ids[keep]``; ``keep`` is a boolean mask over ``object_ids`` (a peer may reject objects, e.g.
    ParSNIP those without redshift).  Raises if the file holds no object of ``object_ids``.
    """
    from ..search.files import read_embeddings

    E, other, meta = read_embeddings(path)
    ids = np.asarray(object_ids).astype(str)
    pos = {str(o): i for i, o in enumerate(other["object_id"].astype(str).tolist())}
    if len(pos) != len(other):
        raise ValueError(f"{path}: duplicate object ids")
    keep = np.array([o in pos for o in ids.tolist()], dtype=bool)
    if not keep.any():
        raise ValueError(f"{path}: none of the {len(ids)} requested objects is in the file "
                         f"(file has {len(other)} ids, e.g. {list(pos)[:3]})")
    rows = np.array([pos[o] for o in ids[keep].tolist()], dtype=np.int64)
    return E[rows].astype(np.float64), keep, meta


# ---------------------------------------------------------------------------------------------------
# ParSNIP
# ---------------------------------------------------------------------------------------------------

def register_ztf_bandpasses(filter_dir=None, force: bool = True) -> list[str]:
    """Register ``ztfg``/``ztfr``/``ztfi`` in sncosmo from astroembed's shipped filter curves.

    sncosmo's own ZTF bandpasses are downloaded at first use, which fails offline; the curves shipped in
    ``astroembed/_package_data/filters/ztf*.ecsv`` (ZTF P48 total throughput) replace them.
    """
    import sncosmo

    fdir = Path(filter_dir) if filter_dir is not None else Path(__file__).resolve().parents[1] / "_package_data" / "filters"
    names = []
    for name in ("ztfg", "ztfr", "ztfi"):
        path = fdir / f"{name}.ecsv"
        if not path.exists():
            continue
        wave, trans = _read_ecsv_columns(path)
        sncosmo.register(sncosmo.Bandpass(wave, trans, name=name), name, force=force)
        names.append(name)
    if not names:
        raise FileNotFoundError(f"no ztf*.ecsv filter curves in {fdir}")
    return names


def _read_ecsv_columns(path) -> tuple[np.ndarray, np.ndarray]:
    """(wavelength, transmission) of a two-column ECSV file, without astropy."""
    rows = [ln.split() for ln in Path(path).read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    data = np.array([[float(x) for x in r] for r in rows[1:]])  # rows[0] is the header
    return data[:, 0], data[:, 1]


def _lc_fields(lc):
    """(time, band, flux µJy, flux_err µJy, object_id, redshift, mwebv, label) of a LightCurve-like object."""
    return (np.asarray(lc.time, np.float64), np.asarray(lc.band).astype(str), np.asarray(lc.flux, np.float64),
            np.asarray(lc.flux_err, np.float64), lc.object_id, getattr(lc, "redshift", None),
            getattr(lc, "mwebv", None), getattr(lc, "label", None))


def lightcurve_to_parsnip_table(lc):
    """One astroembed ``LightCurve`` (or any object with ``time, band, flux, flux_err`` in µJy,
    ``object_id``, ``redshift``, ``mwebv``, ``label``) -> the astropy Table that ParSNIP/lcdata expect
    (flux on the AB zero point 25)."""
    from astropy.table import Table

    t, b, f, fe, oid, z, mwebv, label = _lc_fields(lc)
    tab = Table({"time": t, "flux": (f * UJY_TO_ZP25).astype(np.float32),
                 "fluxerr": (fe * UJY_TO_ZP25).astype(np.float32), "band": b})
    tab.meta["object_id"] = str(oid)
    tab.meta["redshift"] = float(z) if z is not None else np.nan
    tab.meta["mwebv"] = float(mwebv) if mwebv is not None else 0.0
    tab.meta["type"] = str(label) if label is not None else "Unknown"
    return tab


def parsnip_features(predictions, features=PARSNIP_FEATURES) -> np.ndarray:
    """The embedding columns of a ParSNIP ``predict_dataset`` table, as an (N, D) float array."""
    cols = []
    for name in features:
        if name == "log_amplitude":
            amp = np.asarray(predictions["amplitude"], np.float64)
            cols.append(np.log10(np.clip(amp, 1e-3, None)))
        else:
            cols.append(np.asarray(predictions[name], np.float64))
    return np.stack(cols, axis=1)


class ParsnipEmbedder:
    """A trained ParSNIP model as an astroembed embedder.

    Parameters
    ----------
    model : str or path or ``parsnip.ParsnipModel``
        A model file written by ParSNIP (``model.save()``), or a loaded model.  The models shipped in the
        wheel (``plasticc``, ``ps1``) are for LSST/PS1 bands, not ZTF.
    features : tuple of str
        ``predict_dataset`` columns used as the embedding (default: colour, s1, s2, s3, log10 amplitude).
    redshift : {"true", "zero"}
        ``"true"``: each light curve's redshift is given to the model (ParSNIP's design; light curves
        without one get NaN rows).  ``"zero"``: every light curve is put at z = 0, for a model trained that
        way (redshift-blind, observer frame): then nothing about the redshift enters the embedding.
    register_ztf : bool
        Register ZTF bandpasses in sncosmo from astroembed's filter curves first (sncosmo downloads its
        own at run time, which fails offline).

    Notes
    -----
    ParSNIP (with its default ``input_redshift=True``) takes the spectroscopic redshift as an encoder
    input and uses it to set the decoder's rest frame: a redshift probe on such embeddings is meaningless.
    ``input_redshift=False`` crashes in astro-parsnip 1.4.3 (``UnboundLocalError: extra_input_data`` in
    ``ParsnipModel._get_data``), hence the ``redshift="zero"`` route for a redshift-blind model.
    """

    def __init__(self, model, *, features=PARSNIP_FEATURES, redshift: str = "true", register_ztf: bool = True,
                 threads: int = 1):
        if redshift not in ("true", "zero"):
            raise ValueError(f"ParsnipEmbedder.redshift: 'true' or 'zero', got {redshift!r}")
        parsnip = import_peer("parsnip")
        if register_ztf:
            register_ztf_bandpasses()
        if isinstance(model, (str, os.PathLike)):
            model = parsnip.load_model(str(model), threads=threads)
        self.model = model
        self.features = tuple(features)
        self.redshift = redshift

    @property
    def dim(self) -> int:
        return len(self.features)

    def embed_lightcurve(self, lightcurves) -> np.ndarray:
        import lcdata

        lcs = list(lightcurves)
        out = np.full((len(lcs), self.dim), np.nan, dtype=np.float64)
        if not lcs:
            return out.astype(np.float32)
        needs_z = not self.model.settings["predict_redshift"]
        tables = [lightcurve_to_parsnip_table(lc) for lc in lcs]
        if self.redshift == "zero":  # redshift-blind model: every light curve at z = 0, as in its training
            for t in tables:
                t.meta["redshift"] = 0.0
        ok = [i for i, t in enumerate(tables) if not needs_z or np.isfinite(t.meta["redshift"])]
        ids = [f"{i}:{tables[i].meta['object_id']}" for i in ok]  # unique even for repeated objects
        for i, oid in zip(ok, ids):
            tables[i].meta["object_id"] = oid
        if ok:
            ds = lcdata.from_light_curves([tables[i] for i in ok])
            pred = self.model.predict_dataset(ds)
            feats = parsnip_features(pred, self.features)
            row = {str(o): k for k, o in enumerate(pred["object_id"])}
            for i, oid in zip(ok, ids):
                if oid in row:
                    out[i] = feats[row[oid]]
        return out.astype(np.float32)


# ---------------------------------------------------------------------------------------------------
# astromcad
# ---------------------------------------------------------------------------------------------------

#: Passband values of astromcad's input (µm), as in the package's example light curve.
ASTROMCAD_BAND_UM = {"ztfg": 0.4827, "ztfr": 0.6223}
ASTROMCAD_NTIMESTEPS = 656


#: µJy -> astromcad flux units: flux on the zero point 27.5 divided by 500 (1.0 <-> AB mag 20.75)
ASTROMCAD_UJY_SCALE = 10 ** (0.4 * (27.5 - 23.9)) / 500.0
ASTROMCAD_FLUX_NORMS = ("minmax", "max", "zp27.5/500")


def astromcad_sequence(lc, *, ntimesteps: int = ASTROMCAD_NTIMESTEPS, t_before: float = 30.0,
                       t_span: float = 100.0, flux_norm: str = "minmax", swap_bands: bool = False) -> np.ndarray:
    """One light curve -> astromcad's (ntimesteps, 4) input: [passband (µm), scaled time, flux, flux_err].

    astromcad 1.2.7 ships no preprocessing function; this is reconstructed from the package's example
    light curve and its authors' training notebook (``Rithwik-G/AstroMCAD``, ``Training_Model.ipynb``):
    time = (t - t_trigger + ``t_before``) / ``t_span`` (the window -30 … +70 d maps to 0 … 1; the trigger
    is taken as the first detection, as ZTF BTS holds detections only).  ``flux_norm``: ``"minmax"``
    (default, as in that notebook: (f - min) / (max - min), errors / (max - min)), ``"max"`` (f / max) or
    ``"zp27.5/500"`` (zero point 27.5 flux / 500, as in the authors' later AstroMCAD-ZTF code).
    ``swap_bands``: that notebook maps ``{'r': 0.4827, 'g': 0.6223}`` (g and r swapped relative to their
    wavelengths); ``True`` reproduces that.  Rows of other bands are dropped; zero padding to ``ntimesteps``.
    """
    if flux_norm not in ASTROMCAD_FLUX_NORMS:
        raise ValueError(f"astromcad_sequence.flux_norm: one of {ASTROMCAD_FLUX_NORMS}, got {flux_norm!r}")
    band_um = ASTROMCAD_BAND_UM if not swap_bands else {"ztfg": ASTROMCAD_BAND_UM["ztfr"],
                                                          "ztfr": ASTROMCAD_BAND_UM["ztfg"]}
    t, b, f, fe, *_ = _lc_fields(lc)
    keep = np.isin(b, list(band_um)) & np.isfinite(f) & np.isfinite(fe)
    t, b, f, fe = t[keep], b[keep], f[keep], fe[keep]
    out = np.zeros((ntimesteps, 4), dtype=np.float32)
    if len(t) == 0:
        return out
    st = (t - t.min() + t_before) / t_span
    win = (st >= 0) & (st <= 1)
    t, b, f, fe, st = t[win], b[win], f[win], fe[win], st[win]
    order = np.argsort(st, kind="stable")[:ntimesteps]
    lo = 0.0
    if flux_norm == "minmax":  # the authors' training notebook: MinMaxScaler per light curve
        lo = np.min(f)
        scale = (np.max(f) - lo) if np.max(f) > lo else 1.0
    elif flux_norm == "max":
        scale = np.max(f) if np.max(f) > 0 else 1.0
    else:
        scale = 1.0 / ASTROMCAD_UJY_SCALE
    rows = np.stack([np.array([band_um[x] for x in b[order]]), st[order], (f[order] - lo) / scale,
                     fe[order] / scale], axis=1)
    out[:len(rows)] = rows
    return out


def _load_astromcad_h5(path, *, host: bool):
    """Load one of astromcad's shipped Keras-2 H5 classifiers.

    Keras 3 (what ``pip install astromcad`` brings today) cannot deserialise them (``ValueError:
    Unrecognized keyword arguments passed to GRU: {'time_major': False}``), so on that error the network is
    rebuilt with astromcad's own ``build_model`` (same layers) and the weights are copied from the H5 file
    layer by layer, in order, with a shape check.  Returns ``(model, route)``.
    """
    import json

    import h5py
    from tensorflow import keras

    try:
        return keras.models.load_model(path, compile=False), "keras.models.load_model"
    except (ValueError, TypeError) as e:
        if "time_major" not in str(e):
            raise
    from astromcad import build_model

    model = build_model(100, ASTROMCAD_NTIMESTEPS, 12, 2 if host else 0, n_features=4)
    with h5py.File(path, "r") as f:
        g = f["model_weights"]
        order = [lay["config"]["name"] for lay in json.loads(f.attrs["model_config"])["config"]["layers"]]
        saved = []
        for name in order:
            names = [n.decode() if isinstance(n, bytes) else n for n in g[name].attrs.get("weight_names", [])]
            if names:
                saved.append((name, [np.asarray(g[name][n]) for n in names]))
    targets = [lay for lay in model.layers if lay.get_weights()]
    if len(targets) != len(saved):
        raise RuntimeError(f"{path}: {len(saved)} weighted layers in the file, {len(targets)} in build_model")
    for lay, (name, ws) in zip(targets, saved):
        if [w.shape for w in lay.get_weights()] != [w.shape for w in ws]:
            raise RuntimeError(f"{path}: layer {name} shapes {[w.shape for w in ws]} != "
                               f"{[w.shape for w in lay.get_weights()]} of {lay.name}")
        lay.set_weights(ws)
    return model, "astromcad.build_model + H5 weights copied layer by layer"


class AstromcadEmbedder:
    """astromcad's shipped, pretrained light-curve classifier; the embedding is its 100-d ``latent`` layer.

    Parameters
    ----------
    flux_norm : str
        Flux scaling of the input, see :func:`astromcad_sequence`.
    host : bool
        Use ``HostClassifier`` (light curve + [redshift, MW E(B-V)] input) instead of ``NoHostClassifier``.
        With ``host=True`` the redshift is an input, so a redshift probe on these embeddings is meaningless.
    """

    def __init__(self, *, host: bool = False, flux_norm: str = "minmax", swap_bands: bool = False,
                 batch_size: int = 256):
        astromcad = import_peer("astromcad")
        from tensorflow import keras

        name = "HostClassifier.h5" if host else "NoHostClassifier.h5"
        self.path = os.path.join(os.path.dirname(astromcad.__file__), "Models", name)
        model, self.load_route = _load_astromcad_h5(self.path, host=host)
        self.classifier = model   # full network (softmax over astromcad.Detect.classes), for sanity checks
        self.classes = list(astromcad.Detect.classes)
        self.encoder = keras.Model(inputs=model.inputs, outputs=model.get_layer("latent").output)
        self.host = bool(host)
        self.flux_norm = flux_norm
        self.swap_bands = bool(swap_bands)
        self.batch_size = int(batch_size)
        self.dim = int(self.encoder.output.shape[-1])

    def embed_lightcurve(self, lightcurves) -> np.ndarray:
        lcs = list(lightcurves)
        if not lcs:
            return np.zeros((0, self.dim), np.float32)
        X = np.stack([astromcad_sequence(lc, flux_norm=self.flux_norm, swap_bands=self.swap_bands) for lc in lcs])
        if self.host:
            H = np.array([[np.nan if lc.redshift is None else lc.redshift, lc.mwebv or 0.0] for lc in lcs],
                         dtype=np.float32)
            out = np.full((len(lcs), self.dim), np.nan, np.float32)
            ok = np.isfinite(H).all(axis=1)
            if ok.any():
                out[ok] = self.encoder.predict([X[ok], H[ok]], batch_size=self.batch_size, verbose=0)
            return out
        return np.asarray(self.encoder.predict(X, batch_size=self.batch_size, verbose=0), np.float32)
