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


# -- SDPA transformer block ------------------------------------------------------------------------
def _reference_stack(stack, d, heads, ff):
    """The pre-refactor path: nn.TransformerEncoder with the same weights."""
    layer = torch.nn.TransformerEncoderLayer(d, heads, ff, 0.0, activation="gelu", batch_first=True,
                                             norm_first=True)
    ref = torch.nn.TransformerEncoder(layer, len(stack.layers), enable_nested_tensor=False)
    ref.load_state_dict(stack.state_dict(), strict=True)  # same parameter names and shapes
    return ref.eval()


def test_block_matches_nn_transformer_encoder_with_padding():
    from astroembed.models.layers import TransformerStack

    torch.manual_seed(0)
    stack = TransformerStack(16, 4, 32, 0.1, 2).eval()
    ref = _reference_stack(stack, 16, 4, 32)
    x = torch.randn(5, 7, 16)
    mask = torch.arange(7)[None, :] < torch.tensor([7, 1, 3, 5, 2])[:, None]
    with torch.inference_mode():
        got, want = stack(x, mask), ref(x, src_key_padding_mask=~mask)
    np.testing.assert_allclose(got[mask].numpy(), want[mask].numpy(), atol=1e-5)
    with torch.inference_mode():  # no mask: the same as all-True
        np.testing.assert_allclose(stack(x).numpy(), ref(x).numpy(), atol=1e-5)


@pytest.mark.parametrize("name", ["maven", "maven-sim"])
def test_bundled_weights_give_the_old_outputs(name, rng):
    m = ae.load_pretrained(name)
    enc = m.lightcurve_encoder
    c = m.config.lightcurve
    ref = _reference_stack(enc.transformer, c.d_model, c.n_heads, c.ff_dim)
    lcs = [make_lightcurve(rng, n=n, object_id=i) for i, n in enumerate((3, 17, 40))]
    batch = m.collate_lightcurves([m.preprocess_lightcurve(lc) for lc in lcs])
    with torch.inference_mode():
        new = m.encode_lightcurves(batch)
        enc.transformer.forward = lambda x, mask: ref(x, src_key_padding_mask=~mask)  # old path
        try:
            old = m.encode_lightcurves(batch)
        finally:
            del enc.transformer.forward
    assert float((new - old).abs().max()) <= 1e-5
    assert float((new - old).abs().max()) < float((new[0] - new[1]).abs().max())


# -- vectorised light-curve kernel ------------------------------------------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from astroembed.data.collate import collate_lightcurves  # noqa: E402
from astroembed.data.packed import collate_packed, pack_lightcurves, preprocess_packed  # noqa: E402
from astroembed.data.preprocess import LightCurvePreprocessConfig, preprocess_lightcurve  # noqa: E402


def _lcs(seed, lengths):
    rng = np.random.default_rng(seed)
    out = []
    for i, n in enumerate(lengths):
        t = 59000.0 + np.round(rng.uniform(0, 60, n), 1)  # coarse: same-night pairs and ties
        flux = rng.normal(20, 30, n)
        if i % 3 == 0:
            flux = -np.abs(flux)  # no positive flux: the error sets the scale
        out.append(ae.LightCurve(time=t, band=rng.choice(["ztfg", "ztfr", "lssty", "ztfi"], n), flux=flux,
                                 flux_err=rng.choice([1.0, 2.0, 5.0], n), duplicates="keep", object_id=i))
    return out


CONFIGS = [LightCurvePreprocessConfig(max_length=6),
           LightCurvePreprocessConfig(max_length=5, truncate="even", time_reference="peak"),
           LightCurvePreprocessConfig(max_length=7, merge_same_night=True, night_window=0.3),
           LightCurvePreprocessConfig(max_length=256, merge_same_night=True, detection_snr=0.0)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lengths=st.lists(st.integers(1, 14), min_size=1, max_size=8), seed=st.integers(0, 10_000),
       which=st.integers(0, len(CONFIGS) - 1))
def test_packed_kernel_equals_per_object_path(lengths, seed, which):
    cfg = CONFIGS[which]
    lcs = _lcs(seed, lengths)
    vocab = ("ztfg", "ztfr", "ztfi")
    items = [preprocess_lightcurve(lc, cfg) for lc in lcs]
    packed = preprocess_packed(pack_lightcurves(lcs), cfg)
    assert packed.lengths.tolist() == [len(x) for x in items]
    pos = np.arange(len(lcs))[::-1]  # any subset/order of positions
    want = collate_lightcurves([items[i] for i in pos], vocab)
    got = collate_packed(packed, pos, vocab)
    for name in ("time", "flux", "flux_err", "wavelength", "band_id", "mask", "log_scale"):
        a, b = getattr(got, name), getattr(want, name)
        assert a.dtype == b.dtype and a.shape == b.shape, name
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6, err_msg=name)


def test_embed_lightcurve_matches_per_object_loop(model):
    lcs = _lcs(3, [1, 2, 9, 30, 70, 5, 5])
    E = model.embed_lightcurve(lcs, batch_size=3)
    per = np.concatenate([model.encode_lightcurves(model.collate_lightcurves([model.preprocess_lightcurve(lc)])
                                                   ).detach().numpy() for lc in lcs])
    np.testing.assert_allclose(E, per, atol=1e-5)


def test_spectrum_grid_is_cached_and_read_only():
    from astroembed.data.preprocess import SpectrumPreprocessConfig

    e1, c1 = SpectrumPreprocessConfig(n_bins=64).grid()
    e2, c2 = SpectrumPreprocessConfig(n_bins=64).grid()
    assert e1 is e2 and c1 is c2 and not c1.flags.writeable
    assert len(e1) == 65 and np.isclose(e1[0], 3800.0) and np.isclose(e1[-1], 9200.0)


# -- FLOP counter and inference options ------------------------------------------------------------
def test_transformer_flops_formula_matches_flop_counter():
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    from astroembed.models.layers import TransformerStack, transformer_flops

    s = TransformerStack(16, 4, 24, 0.0, 3).eval()
    for L in (1, 7, 30):
        with FlopCounterMode(display=False) as fc, torch.no_grad(), sdpa_kernel(SDPBackend.MATH):
            s(torch.randn(2, L, 16))  # the math backend is made of matmuls the counter sees
        assert fc.get_total_flops() == transformer_flops([L, L], 16, 24, 3)
    assert transformer_flops([128], 64, 128, 5) == 5 * (8 * 128 * 64**2 + 4 * 128 * 64 * 128 + 4 * 128**2 * 64)


@pytest.mark.parametrize("kind,tol", [("int8", 0.1), ("onnx", 1e-4)])
def test_optimize_for_inference_keeps_embeddings_close(kind, tol, rng):
    from astroembed.models.inference import optimize_for_inference

    if kind == "onnx":
        pytest.importorskip("onnxruntime")
        pytest.importorskip("onnx")
    torch.manual_seed(0)
    lcs = [make_lightcurve(rng, n=n, object_id=i) for i, n in enumerate((3, 12, 30, 7))]
    specs = [make_spectrum(rng), make_spectrum(rng, lo=5000.0)]
    m = MavenModel(tiny_config())
    E0, S0 = m.embed_lightcurve(lcs), m.embed_spectrum(specs)
    assert optimize_for_inference(m, kind) is m
    E1, S1 = m.embed_lightcurve(lcs), m.embed_spectrum(specs)
    assert np.abs(E1 - E0).max() <= tol and np.abs(S1 - S0).max() <= tol
    assert np.allclose(np.linalg.norm(E1, axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="kind must be one of"):
        optimize_for_inference(m, "fp4")
