"""Real pointing histories (issue 12, 'Real cadence'): tiny synthetic fixture, no real table needed."""

from __future__ import annotations

import numpy as np
import pytest

import astroembed.simulate as sim
from astroembed.simulate import simulator as S
from astroembed.simulate.pointings import load_pointings, pointing_schedule, write_pointings
from astroembed.simulate.surveys import get_survey

# two fields: one at (ra 150, dec 30) observed every night in alternating g / r at known depths, one at
# (ra 20, dec -10) observed once; nothing else on the sky
NIGHTS = np.arange(58400.0, 58700.0)


def _fixture(tmp_path, shape="square", fov=3.5, survey="ztf", name="ztf_fixture.npz"):
    n = len(NIGHTS)
    mjd = np.concatenate([NIGHTS + 0.25, [58500.3]])
    ra = np.concatenate([np.full(n, 150.0), [20.0]])
    dec = np.concatenate([np.full(n, 30.0), [-10.0]])
    band = np.concatenate([np.arange(n) % 2, [2]])                    # g, r, g, r, ...; one i visit
    m5 = np.concatenate([19.5 + (np.arange(n) % 7) * 0.25, [20.0]])  # depths 19.50 ... 21.00
    return write_pointings(tmp_path / name, survey=survey, bands=("ztfg", "ztfr", "ztfi"), mjd=mjd, ra=ra, dec=dec,
                           band=band, m5=m5, fov_shape=shape, fov_deg=fov, provenance="test fixture")


def test_visits_follow_the_fixture(tmp_path):
    path = _fixture(tmp_path)
    ph = load_pointings(str(path))
    sv = get_survey("ztf")
    t, b, m5 = pointing_schedule(ph, sv, 58450.0, 58460.0, 151.0, 32.0)   # inside the 7x7 deg field
    np.testing.assert_allclose(t, NIGHTS[50:60] + 0.25, atol=2e-4)
    k = np.arange(50, 60)
    np.testing.assert_array_equal(b, k % 2)                              # ztfg -> 0, ztfr -> 1
    np.testing.assert_allclose(m5, 19.5 + (k % 7) * 0.25, atol=0.006)
    # the field's edge: 3.4 deg east on the tangent plane is in, 3.6 deg is out
    assert len(pointing_schedule(ph, sv, 58450, 58460, 150 + 3.4 / np.cos(np.radians(30)), 30.0)[0]) == 10
    assert len(pointing_schedule(ph, sv, 58450, 58460, 150 + 3.6 / np.cos(np.radians(30)), 30.0)[0]) == 0
    # bands the run does not simulate are dropped; with ztfi requested the i visit appears
    assert len(pointing_schedule(ph, sv, 58500, 58501, 20.0, -10.0)[0]) == 0
    t, b, _ = pointing_schedule(ph, sv.with_bands(["ztfg", "ztfr", "ztfi"]), 58500, 58501, 20.0, -10.0)
    assert len(t) == 1 and b[0] == 2


def test_circle_fov_and_ra_wrap(tmp_path):
    mjd = np.array([60000.1, 60000.2, 60001.1])
    path = write_pointings(tmp_path / "c.npz", survey="lsst", bands=("lsstg", "lsstr"), mjd=mjd,
                           ra=[359.5, 0.5, 180.0], dec=[-30.0, -30.0, -30.0], band=[0, 1, 1], m5=[24.5, 24.0, 24.0],
                           fov_shape="circle", fov_deg=1.75)
    ph = load_pointings(str(path))
    assert len(ph.visits(0.0, -30.0, 59990, 60010)) == 2          # both sides of RA 0
    assert len(ph.visits(1.0, -31.6, 59990, 60010)) == 1          # 1.66 deg from (0.5, -30), 2.05 from (359.5, -30)
    assert len(ph.visits(3.0, -30.0, 59990, 60010)) == 0          # > 1.75 deg from both


def test_unobserved_position_gets_no_visits_and_events_land_in_the_field(tmp_path):
    path = str(_fixture(tmp_path, fov=12.0, name="wide.npz"))  # a wide field: events are found in few draws
    ph = load_pointings(path)
    assert len(ph.visits(300.0, 60.0, 58000, 60000)) == 0
    assert len(ph.visits(150.0, 30.0, 58000, 60000)) == len(NIGHTS)
    cfg = S.make_config(seed=3, survey="ztf", pointings=path)
    assert cfg.survey.mjd_range == pytest.approx((58400.25, 58699.25), abs=1e-3)  # peaks within the history
    ds = sim.simulate(n=3, survey="ztf", seed=3, pointings=path, max_tries=200000)
    tr = ds.truth
    # every kept event lies in the observed field (its detections can only come from that field's visits)
    assert all(len(ph.visits(r, d, 58000, 60000)) > 0 for r, d in zip(tr.ra, tr.dec, strict=True))
    lc = ds.lc_table
    frac = (lc.mjd.to_numpy() - 0.25) % 1.0
    assert np.all(np.minimum(frac, 1 - frac) < 2e-4)              # visit times are the fixture's
    assert set(np.round(lc.m5.to_numpy(), 2)) <= set(np.round(19.5 + np.arange(7) * 0.25, 2))
    assert ds.config["pointings"] == path


def test_noise_uses_the_visit_depth(tmp_path):
    from astroembed.simulate.pointings import observe_at_depth

    sv = get_survey("ztf")
    rng = np.random.default_rng(0)
    _, err, _ = observe_at_depth(rng, sv, np.zeros(2), np.array([20.0, 21.0]))
    f5 = 10 ** (-0.4 * (np.array([20.0, 21.0]) - 23.9))
    np.testing.assert_allclose(err, f5 / 5.0)                      # zero flux: the sky term only


@pytest.mark.parametrize("breakit, match", [
    (lambda p: p.unlink(), "does not exist"),
    (lambda p: p.write_bytes(b"not an npz"), "cannot be read"),
    (lambda p: np.savez(p, dt=np.zeros(3)), "missing keys"),
])
def test_bad_file_names_the_key(tmp_path, breakit, match):
    path = _fixture(tmp_path, name=f"bad_{match[:4].replace(' ', '_')}.npz")
    breakit(path)
    with pytest.raises((ValueError, FileNotFoundError), match=rf"pointings: .*{match}"):
        sim.simulate(n=1, survey="ztf", pointings=str(path))


def test_wrong_survey_and_bad_band_codes(tmp_path):
    path = str(_fixture(tmp_path))
    with pytest.raises(ValueError, match="pointings: .*holds 'ztf' pointings but survey='lsst'"):
        S.make_config(survey="lsst", pointings=path)
    bad = write_pointings(tmp_path / "codes.npz", survey="ztf", bands=("ztfg",), mjd=[58500.0], ra=[0.0], dec=[0.0],
                          band=[3], m5=[20.0], fov_shape="square", fov_deg=3.5)
    with pytest.raises(ValueError, match="pointings: .*band codes"):
        S.make_config(survey="ztf", pointings=str(bad))
    bad = write_pointings(tmp_path / "fov.npz", survey="ztf", bands=("ztfg",), mjd=[58500.0], ra=[0.0], dec=[0.0],
                          band=[0], m5=[20.0], fov_shape="hexagon", fov_deg=3.5)
    with pytest.raises(ValueError, match="pointings: .*fov_shape"):
        S.make_config(survey="ztf", pointings=str(bad))
    with pytest.raises(TypeError, match="pointings: expected a path"):
        S.make_config(survey="ztf", pointings=3)


def test_default_path_unchanged():
    # pointings=None is the survey's cadence model, draw for draw (the recorded fingerprint of this run before
    # the option existed is checked in the report; here: explicit None == omitted, and no pointing file is read)
    a = sim.simulate(n=6, survey="ztf", seed=11)
    b = sim.simulate(n=6, survey="ztf", seed=11, pointings=None)
    np.testing.assert_array_equal(a.lc_table.flux.to_numpy(), b.lc_table.flux.to_numpy())
    np.testing.assert_array_equal(a.lc_table.mjd.to_numpy(), b.lc_table.mjd.to_numpy())
    assert a.config["pointings"] is None
    assert S.make_config(survey="ztf").survey.mjd_range == (58200.0, 59300.0)


def test_duplicate_listing_kept_once(tmp_path):
    path = write_pointings(tmp_path / "dup.npz", survey="ztf", bands=("ztfg", "ztfr"), mjd=[58500.1, 58500.1, 58500.1],
                           ra=[10.0, 10.0, 10.0], dec=[5.0, 5.0, 5.0], band=[0, 0, 1], m5=[20.0, 20.1, 20.2],
                           fov_shape="square", fov_deg=3.5)
    t, b, m5 = pointing_schedule(load_pointings(str(path)), get_survey("ztf"), 58500, 58501, 10.0, 5.0)
    assert sorted(b.tolist()) == [0, 1] and len(t) == 2


def _build_tool():
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("bpt", Path(__file__).parents[1] / "tools" / "build_pointing_tables.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_build_tool_reduces_a_redback_like_table(tmp_path):
    import pandas as pd

    q = 58300.171875  # float32-like step: three exposures of one field in one step, one next night, one in i
    df = pd.DataFrame({"expMJD": [q, q, q, q + 1.0, q + 1.0, 60000.0], "filter": ["ztfg", "ztfg", "ztfr", "ztfg", "ztfi",
                                                                             "ztfr"],
                       "fiveSigmaDepth": [20.5, 20.6, 20.4, 21.0, 19.9, 20.0],
                       "_ra": np.radians([150.0] * 5 + [10.0]), "_dec": np.radians([30.0] * 5 + [0.0])})
    table = tmp_path / "ztf.tar.gz"
    df.to_csv(table, index=False, compression="gzip")
    mod = _build_tool()
    out = tmp_path / "h.npz"
    mod.main(["--survey", "ztf", "--table", str(table), "--out", str(out), "--mjd-max", "59000"])
    ph = load_pointings(str(out))
    assert len(ph.mjd) == 5 and ph.bands == ("ztfg", "ztfr", "ztfi") and ph.fov_shape == "square"
    idx = ph.visits(150.0, 30.0, 58000, 59000)
    assert len(np.unique(ph.mjd[idx])) == 5                                    # de-quantised: distinct times
    np.testing.assert_allclose(np.sort(ph.m5[idx]), [19.9, 20.4, 20.5, 20.6, 21.0], atol=0.006)
    out1 = tmp_path / "h1.npz"
    mod.main(["--survey", "ztf", "--table", str(table), "--out", str(out1), "--mjd-max", "59000", "--max-per-night", "1"])
    ph1 = load_pointings(str(out1))
    assert sorted(ph1.band.tolist()) == [0, 0, 1, 2]                           # one g per field and night


def test_dequantise_spreads_exposures_within_a_step():
    mod = _build_tool()
    q = 58288.171875
    out = mod.dequantise(np.array([q, q, q, q, q + 1 / 256]))
    assert len(np.unique(out)) == 5 and np.all(np.diff(out[:4]) > 0)          # row order kept, all distinct
    assert np.all(np.abs(out[:4] - q) < 0.5 / 256) and out[4] == q + 1 / 256   # within the float32 step


def test_cli_pointings_option(tmp_path, capsys):
    from astroembed.cli import main

    assert main(["simulate", "--n", "1", "--out", str(tmp_path / "o"), "--pointings", str(tmp_path / "none.npz"),
                 "--no-progress"]) == 2
    assert "pointings: " in capsys.readouterr().err
    path = str(_fixture(tmp_path, fov=12.0, name="wide_cli.npz"))
    assert main(["simulate", "--n", "2", "--seed", "3", "--out", str(tmp_path / "o2"), "--pointings", path,
                 "--no-progress"]) == 0
    import json

    assert json.loads((tmp_path / "o2" / "manifest.json").read_text())["config"]["pointings"] == path
