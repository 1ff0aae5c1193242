"""The fast inference paths: errors="raise"|"coerce", the SDPA transformer block, the vectorised
light-curve kernel (equal to the per-object path) and the spectrum grid cache."""

import numpy as np
import pytest
import torch

import astroembed as ae
from astroembed.models import MavenModel

from .conftest import make_lightcurve, make_spectrum
from .test_model import tiny_config


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(1)
    return MavenModel(tiny_config())


# -- errors= ---------------------------------------------------------------------------------------
def _uv_only_spectrum(rng):
    # 1200-3000 Å: covers no bin of the 3800-9200 Å model grid
    return make_spectrum(rng, lo=1200.0, hi=3000.0, object_id="uv-only")


def test_spectrum_errors_raise_names_index_and_object_id(model, rng):
    specs = [make_spectrum(rng, object_id="ok0"), _uv_only_spectrum(rng), make_spectrum(rng, object_id="ok2")]
    with pytest.raises(ValueError, match=r"item 1 \(object_id='uv-only'\).*covers 0 of"):
        model.embed_spectrum(specs)
    with pytest.raises(ValueError, match="errors: must be 'raise' or 'coerce'"):
        model.embed_spectrum(specs, errors="ignore")


def test_spectrum_errors_coerce_gives_nan_row_and_keeps_alignment(model, rng):
    good = [make_spectrum(rng, object_id=f"ok{i}") for i in range(3)]
    bad = _uv_only_spectrum(rng)
    E = model.embed_spectrum([good[0], bad, good[1], bad, good[2]], errors="coerce", batch_size=2)
    assert E.shape == (5, model.embed_dim) and E.dtype == np.float32
    assert np.isnan(E[[1, 3]]).all()
    ref = model.embed_spectrum(good)
    np.testing.assert_allclose(E[[0, 2, 4]], ref, atol=1e-6)
    assert np.isnan(model.embed_spectrum([bad], errors="coerce")).all()


def test_lightcurve_errors_coerce_for_unconvertible_table(model, rng):
    import pandas as pd

    lcs = [make_lightcurve(rng, object_id=i) for i in range(3)]
    broken = pd.DataFrame({"mjd": [59000.0, 59001.0], "band": ["ztfg", "ztfg"], "mag": [18.0, np.nan],
                           "magerr": [0.1, 0.1]})
    with pytest.raises(ValueError, match=r"item 1: .*non-finite"):
        model.embed_lightcurve([lcs[0], broken, lcs[1]])
    with pytest.raises(TypeError, match="item 1: expected an astroembed.LightCurve"):
        model.embed_lightcurve([lcs[0], 42])
    E = model.embed_lightcurve([lcs[0], broken, lcs[1], 42, lcs[2]], errors="coerce")
    assert np.isnan(E[[1, 3]]).all() and np.isfinite(E[[0, 2, 4]]).all()
    np.testing.assert_allclose(E[[0, 2, 4]], model.embed_lightcurve(lcs), atol=1e-6)
