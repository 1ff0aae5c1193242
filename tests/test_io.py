import numpy as np
import pandas as pd
import pytest
from astropy.table import Table
from hypothesis import given, settings
from hypothesis import strategies as st

import astroembed as ae
from astroembed.data.io import lightcurves_from_table


@settings(max_examples=30)
@given(st.integers(1, 30), st.integers(0, 2**32 - 1), st.sampled_from(["flux", "mag"]))
def test_table_round_trip(n, seed, kind):
    rng = np.random.default_rng(seed)
    t = rng.choice(np.arange(5000.0), n, replace=False) + 50000
    b = rng.choice(["ztfg", "lsstr", "ps1z"], n)
    lc = ae.LightCurve(time=t, band=b, flux=rng.uniform(1, 100, n), flux_err=rng.uniform(0.1, 1, n),
                       redshift=0.05, object_id="obj")
    back = ae.LightCurve.from_table(lc.to_table(kind=kind))
    assert back.object_id == "obj" and back.redshift == 0.05
    np.testing.assert_array_equal(back.time, lc.time)
    np.testing.assert_array_equal(back.band, lc.band)
    np.testing.assert_allclose(back.flux, lc.flux, rtol=1e-12)
    np.testing.assert_allclose(back.flux_err, lc.flux_err, rtol=1e-12)


def test_column_aliases_and_jd():
    tab = Table({"JD": [2459000.5, 2459001.5], "Filter": ["g", "r"], "MAGPSF": [18.0, 18.2],
                 "SigmaPSF": [0.1, 0.1]})
    lc = ae.LightCurve.from_table(tab, survey="ztf")
    assert lc.time.tolist() == [59000.0, 59001.0] and lc.band.tolist() == ["ztfg", "ztfr"]


def test_zp_column():
    df = pd.DataFrame({"mjd": [1.0], "band": ["ps1g"], "flux": [1000.0], "fluxerr": [10.0], "zp": [27.5],
                       "zpsys": ["ab"]})
    lc = ae.LightCurve.from_pandas(df)
    assert lc.mag[0] == pytest.approx(27.5 - 7.5)
    df["zpsys"] = ["vega"]
    with pytest.raises(ValueError, match="AB"):
        ae.LightCurve.from_pandas(df)


def test_fluxcal_defaults_to_zp_27_5():
    df = pd.DataFrame({"mjd": [1.0], "band": ["ps1g"], "fluxcal": [1000.0], "fluxcalerr": [10.0]})
    assert ae.LightCurve.from_pandas(df).mag[0] == pytest.approx(20.0)


def test_missing_columns_errors():
    with pytest.raises(ValueError, match="time column"):
        ae.LightCurve.from_pandas(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(ValueError, match="error column"):
        ae.LightCurve.from_pandas(pd.DataFrame({"mjd": [1.0], "band": ["ztfg"], "mag": [18.0]}))
    with pytest.raises(TypeError):
        ae.LightCurve.from_table([1, 2, 3])


def test_antares_csv(tmp_path):
    p = tmp_path / "lc.csv"
    p.write_text("time,mag,magerr,band\n59000.1,18.5,0.1,ztfg\n59001.2,18.4,0.1,ztfr\n")
    lc = ae.LightCurve.read_csv(p)
    assert len(lc) == 2 and lc.bands == ["ztfg", "ztfr"]


def test_ztf_alert_dicts_and_table():
    alerts = [{"jd": 2459000.6, "fid": 1, "magpsf": 18.0, "sigmapsf": 0.1},
              {"jd": 2459001.6, "fid": 2, "magpsf": None, "sigmapsf": None},
              {"jd": 2459002.6, "fid": 2, "magpsf": 18.3, "sigmapsf": 0.1}]
    lc = ae.LightCurve.from_ztf_alert(alerts, object_id="ZTF1")
    assert lc.band.tolist() == ["ztfg", "ztfr"] and lc.object_id == "ZTF1"
    with pytest.raises(ValueError, match="missing"):
        ae.LightCurve.from_ztf_alert(pd.DataFrame({"jd": [1.0]}))


def test_lightcurves_from_long_table():
    df = pd.DataFrame({"oid": ["a", "a", "b"], "mjd": [1.0, 2.0, 1.0], "band": ["ztfg"] * 3,
                       "mag": [18.0, 18.1, 19.0], "magerr": [0.1] * 3})
    lcs = list(lightcurves_from_table(df, "oid"))
    assert [lc.object_id for lc in lcs] == ["a", "b"] and [len(lc) for lc in lcs] == [2, 1]


@pytest.mark.parametrize("text,has_err", [
    ("wavelength,flux,flux_err\n4000,1,0.1\n4001,1,0.1\n4002,1,0.1\n4003,1,0.1\n4004,1,0.1\n", True),
    ("# comment\n4000 1\n4001 1\n4002 1\n4003 1\n4004 1\n", False),
])
def test_spectrum_csv(tmp_path, text, has_err):
    p = tmp_path / "s.txt"
    p.write_text(text)
    s = ae.Spectrum.read_csv(p, redshift=0.1)
    assert len(s) == 5 and (s.flux_err is not None) == has_err and s.redshift == 0.1


def test_spectrum_table_round_trip():
    s = ae.Spectrum(wavelength=np.linspace(4000, 8000, 20), flux=np.linspace(-1, 1, 20),
                    flux_err=np.full(20, 0.1), redshift=0.2, mjd=59000.0, object_id="s1")
    assert ae.Spectrum.from_table(s.to_table()).equals(s)


def _alert_packet():
    """A ZTF alert packet in the shape of the ZTF Avro schema (fields trimmed to those we read + a few)."""
    prv = [
        {"candid": 1001, "jd": 2459000.70, "fid": 1, "magpsf": 19.4, "sigmapsf": 0.12, "diffmaglim": 20.5},
        {"candid": None, "jd": 2459001.71, "fid": 2, "magpsf": None, "sigmapsf": None, "diffmaglim": 20.1},
        {"candid": 1003, "jd": 2459002.69, "fid": 2, "magpsf": 19.0, "sigmapsf": 0.09, "diffmaglim": 20.4},
        {"candid": 1004, "jd": 2459004.72, "fid": 1, "magpsf": 18.8, "sigmapsf": 0.07, "diffmaglim": 20.6},
    ]
    cand = {"candid": 1005, "jd": 2459006.70, "fid": 2, "magpsf": 18.6, "sigmapsf": 0.06, "ra": 150.1,
            "dec": 2.2, "programid": 1}
    return {"schemavsn": "3.3", "publisher": "ZTF (www.ztf.caltech.edu)", "objectId": "ZTF21abcdefg",
            "candid": 1005, "candidate": cand, "prv_candidates": prv, "cutoutScience": None}


def test_lightcurve_from_real_ztf_alert_packet():
    """Regression: a whole alert packet (objectId, candidate, prv_candidates) was rejected."""
    lc = ae.LightCurve.from_ztf_alert(_alert_packet())
    assert lc.object_id == "ZTF21abcdefg"
    assert len(lc) == 4  # 3 previous detections (the upper limit dropped) + the current candidate
    np.testing.assert_allclose(lc.time, [59000.20, 59002.19, 59004.22, 59006.20], atol=1e-9)
    assert list(lc.band) == ["ztfg", "ztfr", "ztfg", "ztfr"]
    np.testing.assert_allclose(lc.mag, [19.4, 19.0, 18.8, 18.6])
    # the candidate repeated in prv_candidates (as some brokers do) is kept once
    pkt = _alert_packet()
    pkt["prv_candidates"].append(dict(pkt["candidate"]))
    assert len(ae.LightCurve.from_ztf_alert(pkt)) == 4
    # null prv_candidates (first alert of an object)
    pkt = _alert_packet()
    pkt["prv_candidates"] = None
    assert len(ae.LightCurve.from_ztf_alert(pkt)) == 1
    with pytest.raises(ValueError, match=r"detection row 0 \(candid 7\) lacks \['sigmapsf'\]"):
        ae.LightCurve.from_ztf_alert({"objectId": "x", "candidate": {"candid": 7, "jd": 2459000.5, "fid": 1,
                                                                     "magpsf": 19.0}})


def test_bare_band_letters_warn_without_survey(monkeypatch):
    from astroembed.data import bands

    monkeypatch.setattr(bands, "_WARNED_LETTERS", set())
    with pytest.warns(UserWarning, match=r"band 'g' is ambiguous.*'sdssg'.*'ztf'"):
        lc = ae.LightCurve(time=[1.0, 2.0, 3.0], band=["g", "g", "g"], mag=[18.0, 18.1, 18.2],
                           mag_err=[0.1, 0.1, 0.1])
    assert set(lc.band) == {"sdssg"}
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lc = ae.LightCurve(time=[1.0, 2.0], band=["g", "r"], mag=[18.0, 18.1], mag_err=[0.1, 0.1], survey="ztf")
        assert list(lc.band) == ["ztfg", "ztfr"]
        ae.LightCurve(time=[1.0, 2.0], band=["g", "g"], mag=[18.0, 18.1], mag_err=[0.1, 0.1])  # warned once only
