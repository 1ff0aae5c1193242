import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def make_lightcurve(rng, n=20, bands=("ztfg", "ztfr"), **kw):
    import astroembed as ae

    t = 59000.0 + np.sort(rng.uniform(0, 100, n))
    b = rng.choice(list(bands), n)
    flux = 100 * np.exp(-0.5 * ((t - t.mean()) / 20) ** 2) + rng.normal(0, 2, n) + 5
    return ae.LightCurve(time=t, band=b, flux=flux, flux_err=rng.uniform(1, 3, n), duplicates="keep", **kw)


def make_spectrum(rng, n=300, lo=3600.0, hi=9300.0, **kw):
    import astroembed as ae

    w = np.linspace(lo, hi, n)
    f = 1e-16 * (1 + 0.3 * np.sin(w / 300.0)) + rng.normal(0, 1e-18, n)
    return ae.Spectrum(wavelength=w, flux=f, flux_err=np.full(n, 1e-18), **kw)
