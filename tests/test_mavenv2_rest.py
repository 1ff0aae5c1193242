"""Rest-frame spectrum pre-training plumbing (issue 14: rest vs observed frame).

The template sampler draws observed-frame spectra *with their redshift*; a rest-frame preprocessing config
must de-redshift them, so a line stays in the same grid bin whatever the drawn z."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from astroembed.data.preprocess import SpectrumPreprocessConfig
from astroembed.train.pretrain_masked import build_pool
from astroembed.train.spectrum_templates import TemplateRecord, TemplateSampler

ROOT = Path(__file__).resolve().parents[1]
LINE_AA = 5000.0


def _sampler():
    w = np.linspace(2500.0, 10000.0, 3000)
    flux = 1.0 + 3.0 * np.exp(-0.5 * ((w - LINE_AA) / 15.0) ** 2)
    return TemplateSampler([TemplateRecord(w, flux, "Ia", "a", "superfit", False)], augment=False)


def _peaks(frame, lo, hi):
    pcfg = SpectrumPreprocessConfig(wave_min=lo, wave_max=hi, n_bins=400, frame=frame, continuum="none")
    items, labels, zs = build_pool(_sampler(), pcfg, n=12, seed=3)
    assert len(items) == 12 and labels == ["Ia"] * 12
    waves = np.array([it.wavelength[np.argmax(np.where(it.mask, it.flux, -np.inf))] for it in items])
    return waves, np.array(zs)


def test_rest_frame_pool_puts_lines_at_rest_wavelength_for_every_redshift():
    waves, zs = _peaks("rest", 3520.0, 8520.0)
    assert np.ptp(zs) > 0.05  # the pool really spans several redshifts
    np.testing.assert_allclose(waves, LINE_AA, rtol=0.005)


def test_observed_frame_pool_moves_lines_with_redshift():
    waves, zs = _peaks("observed", 3800.0, 9200.0)
    np.testing.assert_allclose(waves, LINE_AA * (1 + zs), rtol=0.005)


def test_rest_config_differs_from_observed_only_in_frame_and_range():
    obs = json.loads((ROOT / "configs/mavenv2_spec.json").read_text())
    rest = json.loads((ROOT / "configs/mavenv2_spec_rest.json").read_text())
    po, pr = obs["model"].pop("spectrum_preprocess"), rest["model"].pop("spectrum_preprocess")
    assert obs == rest
    assert {k for k in po if po[k] != pr[k]} == {"frame", "wave_min", "wave_max"}
    assert pr["frame"] == "rest" and po["frame"] == "observed"
    # the rest grid is the observed grid divided by 1 + 0.08 (the training z prior's median), same bins
    assert abs(pr["wave_min"] * 1.08 - po["wave_min"]) < 5 and abs(pr["wave_max"] * 1.08 - po["wave_max"]) < 5
