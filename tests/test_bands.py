import numpy as np
import pytest

import astroembed as ae
from astroembed.data.bands import band_wavelength, resolve_band, resolve_bands


@pytest.mark.parametrize("name,expected", [
    ("ztfg", "ztfg"), ("ZTF_g", "ztfg"), ("ztf::r", "ztfr"), ("lsst::g", "lsstg"), ("LSSTY", "lssty"),
    ("V", "bessellv"), ("R", "bessellr"), ("UVW1", "uvw1"), ("NUV", "galexnuv"), ("gp1", "ps1g"),
])
def test_aliases(name, expected):
    assert resolve_band(name) == expected


def test_survey_hint_and_fid():
    assert resolve_band("g", survey="ztf") == "ztfg"
    assert resolve_band(2, survey="ztf") == "ztfr"
    assert resolve_band("y", survey="lsst") == "lssty"
    assert resolve_band("g", survey="lsst") == "lsstg"


def test_wavelengths_match_real_filters():
    wl = dict(zip(["ztfg", "ztfr", "ztfi", "lsstu", "lssty"],
                  band_wavelength(["ztfg", "ztfr", "ztfi", "lsstu", "lssty"])))
    assert abs(wl["ztfg"] - 4750) < 60 and abs(wl["ztfr"] - 6370) < 60 and abs(wl["ztfi"] - 7900) < 80
    assert abs(wl["lsstu"] - 3670) < 100 and abs(wl["lssty"] - 9710) < 100
    # wavelengths increase through each survey's bands
    for survey, letters in (("lsst", "ugrizy"), ("sdss", "ugriz"), ("ps1", "grizy")):
        w = band_wavelength([f"{survey}{b}" for b in letters])
        assert np.all(np.diff(w) > 0), survey


def test_unknown_band_lists_known_and_points_to_register():
    with pytest.raises(ValueError) as e:
        resolve_band("ztfq")
    msg = str(e.value)
    assert "ztfg" in msg and "register_band" in msg


def test_register_band():
    ae.register_band("myR", 6400.0, aliases=("my_red",))
    assert resolve_band("MYR") == "myr" and resolve_band("my_red") == "myr"
    assert band_wavelength("myr") == 6400.0
    with pytest.raises(ValueError, match="already registered"):
        ae.register_band("myR", 6500.0)
    with pytest.raises(ValueError, match="wavelength"):
        ae.register_band("bad", -5.0)
    with pytest.raises(TypeError):
        ae.register_band("bad2", "red")


def test_register_band_quantity():
    from astropy import units as u

    assert ae.register_band("mynm", 640 * u.nm).wavelength == pytest.approx(6400.0)


def test_resolve_bands_vectorised():
    out = resolve_bands(np.array(["g", "r", "g"]), survey="ztf")
    assert out.tolist() == ["ztfg", "ztfr", "ztfg"]
