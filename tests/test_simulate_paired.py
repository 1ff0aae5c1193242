"""Paired ZTF/LSST simulation: one physical event, two surveys, same units."""

import numpy as np
import pytest

from astroembed.simulate import simulate
from astroembed.simulate.paired import simulate_paired

CLASSES = {"Ia": 1.0, "II": 1.0, "Ibc": 1.0}


@pytest.fixture(scope="module")
def pair():
    return simulate_paired(12, seed=7, classes=CLASSES)


def test_same_physical_event(pair):
    a, b = pair
    assert len(a) == len(b) >= 10
    for col in ("redshift", "class", "peak_mjd", "peak_absmag", "host_av", "mw_av", "pair_id"):
        assert (a.truth[col].to_numpy() == b.truth[col].to_numpy()).all(), col
    assert set(a.truth["survey"]) == {"ztf"} and set(b.truth["survey"]) == {"lsst"}
    assert all(set(lc.band) <= {"ztfg", "ztfr"} for lc in a.lightcurves)
    assert all(set(lc.band) <= {"lsstu", "lsstg", "lsstr", "lssti", "lsstz", "lssty"} for lc in b.lightcurves)


def test_same_units(pair):
    """g/r peak magnitudes of the two members differ only by the filter curves (< 0.15 mag); a zero-point or
    unit mismatch between the surveys (e.g. 27.5 vs 23.9, nJy vs µJy) would shift them by magnitudes."""
    a, b = pair
    for band in ("g", "r"):
        d = a.truth[f"peak_mag_ztf{band}"].to_numpy() - b.truth[f"peak_mag_lsst{band}"].to_numpy()
        assert np.max(np.abs(d)) < 0.15, (band, d)
    # the stored LSST fluxes are the noiseless model + noise in the same unit (µJy)
    ratio = np.concatenate([(t.flux / t.true_flux).to_numpy() for _, t in b.lc_table.groupby("object_id")])
    assert 0.9 < np.median(ratio) < 1.1
    # brightest LSST r detection is never brighter than the noiseless r peak by more than the noise allows
    for lc, (_, row) in zip(b.lightcurves, b.truth.iterrows(), strict=True):
        r = lc.band == "lsstr"
        if r.any():
            assert 23.9 - 2.5 * np.log10(lc.flux[r].max()) > row["peak_mag_lsstr"] - 0.3


def test_ztf_member_is_the_plain_simulation(pair):
    a, _ = pair
    plain = simulate(12, "ztf", 7, classes=CLASSES)
    keep = plain.truth["object_id"].isin(a.truth["object_id"]).to_numpy()
    assert keep.sum() == len(a)
    for lc0, lc1 in zip([lc for lc, k in zip(plain.lightcurves, keep, strict=True) if k], a.lightcurves, strict=True):
        np.testing.assert_array_equal(lc0.flux, lc1.flux)
        np.testing.assert_array_equal(lc0.time, lc1.time)


def test_deterministic(pair):
    _, b = pair
    _, b2 = simulate_paired(12, seed=7, classes=CLASSES)
    np.testing.assert_array_equal(b.lc_table["flux"].to_numpy(), b2.lc_table["flux"].to_numpy())
