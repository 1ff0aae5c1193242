"""ae.embed_table / embed_parquet: equality with the container path, ordering, chunking, bad input."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import astroembed as ae
from astroembed.data.io import lightcurves_from_table
from astroembed.models import MavenModel
from astroembed.table import embed_parquet

from .test_model import tiny_config

SAMPLE = Path(ae.__file__).parent / "_sample_data" / "ztf_bts_sample.parquet"


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(2)
    return MavenModel(tiny_config())


@pytest.fixture(scope="module")
def table():
    d = pd.read_parquet(SAMPLE)
    keep = d["object_id"].drop_duplicates().iloc[:25]
    return d[d["object_id"].isin(keep)].reset_index(drop=True)


def _container_embeddings(model, table, **kw):
    lcs = list(lightcurves_from_table(table, "object_id", **kw))
    return {lc.object_id: e for lc, e in zip(lcs, model.embed_lightcurve(lcs))}


def test_equals_container_path_and_ids_in_first_appearance_order(model, table):
    ids, E = ae.embed_table(table, model, id_column="object_id", duplicates="mean")
    assert ids.tolist() == table["object_id"].drop_duplicates().tolist()
    assert E.dtype == np.float32 and E.shape == (len(ids), model.embed_dim)
    ref = _container_embeddings(model, table, duplicates="mean")
    np.testing.assert_allclose(E, np.stack([ref[i] for i in ids]), atol=1e-4)
    # row order does not matter (beyond the order of the ids)
    shuffled = table.sample(frac=1.0, random_state=0)
    ids2, E2 = ae.embed_table(shuffled, model, duplicates="mean")
    assert ids2.tolist() == shuffled["object_id"].drop_duplicates().tolist()
    pos = {o: i for i, o in enumerate(ids2)}
    np.testing.assert_allclose(E2[[pos[i] for i in ids]], E, atol=1e-6)


def test_pyarrow_table_flux_columns_and_aliases(model, table):
    import pyarrow as pa

    f, fe = 10 ** (-0.4 * (table["mag"] - 23.9)), None
    fe = f * np.log(10) / 2.5 * table["magerr"]
    flux_tab = pd.DataFrame({"ID": table["object_id"], "MJD": table["mjd"], "filter": table["band"],
                             "FLUX": f, "fluxerr": fe})
    ids, E = ae.embed_table(pa.Table.from_pandas(flux_tab), model, id_column="ID", duplicates="mean")
    ids_ref, E_ref = ae.embed_table(table, model, duplicates="mean")
    assert ids.tolist() == ids_ref.tolist()
    np.testing.assert_allclose(E, E_ref, atol=1e-4)


def test_duplicates_policy_keep_and_error(model):
    t = pd.DataFrame({"object_id": ["a", "a", "a", "b"], "mjd": [1.0, 1.0, 2.0, 1.0],
                      "band": ["ztfg", "ztfg", "ztfr", "ztfr"], "mag": [18, 18.2, 18, 19],
                      "magerr": [0.1, 0.2, 0.1, 0.1]})
    with pytest.raises(ValueError, match=r"object 'a', table row [01]: duplicated observation"):
        ae.embed_table(t, model)
    for policy in ("keep", "mean"):
        ids, E = ae.embed_table(t, model, duplicates=policy)
        ref = _container_embeddings(model, t, duplicates=policy)
        np.testing.assert_allclose(E, np.stack([ref[i] for i in ids]), atol=1e-5)


def _bad_table():
    return pd.DataFrame({"object_id": ["a", "a", "b", "b", "c"], "mjd": [1.0, 2.0, 1.0, 2.0, 5.0],
                         "band": ["ztfg", "ztfr", "ztfg", "ztfg", "ztfr"], "mag": [18, 18.5, np.nan, 19, 20],
                         "magerr": [0.1, 0.1, 0.1, 0.1, 0.1]})


def test_bad_input_names_object_and_row(model):
    with pytest.raises(ValueError, match=r"object 'b', table row 2: non-finite 'mag'"):
        ae.embed_table(_bad_table(), model)
    t = _bad_table().assign(magerr=[0.1, 0.1, 0.1, 0.1, -1.0])
    t.loc[2, "mag"] = 19.5
    with pytest.raises(ValueError, match=r"object 'c', table row 4: 'magerr' <= 0"):
        ae.embed_table(t, model)
    t2 = _bad_table().assign(mag=18.0, band=["ztfg", "ztfg", "ztfg", "ztfg", "nosuchband"])
    with pytest.raises(ValueError, match=r"object 'c', table row 4: band: unknown band 'nosuchband'"):
        ae.embed_table(t2, model)
    with pytest.raises(ValueError, match="needs a time column"):
        ae.embed_table(_bad_table().drop(columns="mjd"), model)
    with pytest.raises(ValueError, match="id_column 'oid' is not a column"):
        ae.embed_table(_bad_table(), model, id_column="oid")
    with pytest.raises(ValueError, match="magnitude column 'mag' found but no error column"):
        ae.embed_table(_bad_table().drop(columns="magerr"), model)
    mixed = pd.DataFrame({"object_id": ["a", "a"], "mjd": [1.0, 2.0], "band": ["ztfg", "ztfg"],
                          "flux": [10.0, np.nan], "flux_err": [1.0, np.nan], "mag": [np.nan, 18.0]})
    with pytest.raises(ValueError, match=r"object 'a', table row 1: mixed brightness columns"):
        ae.embed_table(mixed, model)
    nonab = pd.DataFrame({"object_id": ["a", "b"], "mjd": [1.0, 2.0], "band": ["ztfg", "ztfg"],
                          "flux": [10.0, 5.0], "flux_err": [1.0, 1.0], "zpsys": ["ab", "vega"]})
    with pytest.raises(ValueError, match=r"object 'b', table row 1: 'zpsys' is not 'ab'"):
        ae.embed_table(nonab, model)
    with pytest.raises(ValueError, match="missing object id"):
        ae.embed_table(_bad_table().assign(object_id=["a", None, "b", "b", "c"]), model)


def test_coerce_and_dropna(model):
    ids, E = ae.embed_table(_bad_table(), model, errors="coerce")
    assert ids.tolist() == ["a", "b", "c"]
    assert np.isnan(E[1]).all() and np.isfinite(E[[0, 2]]).all()
    good = _bad_table().drop(index=[2, 3])
    np.testing.assert_allclose(E[[0, 2]], ae.embed_table(good, model)[1], atol=1e-6)
    ids, E = ae.embed_table(_bad_table(), model, dropna=True)  # b keeps its finite row
    np.testing.assert_allclose(E[1], ae.embed_table(_bad_table().drop(index=[2]), model)[1][1], atol=1e-6)
    only_nan = _bad_table().assign(mag=[18, 18, np.nan, np.nan, 18])
    with pytest.raises(ValueError, match=r"object 'b' \(first table row 2\): no usable observation"):
        ae.embed_table(only_nan, model, dropna=True)
    assert np.isnan(ae.embed_table(only_nan, model, dropna=True, errors="coerce")[1][1]).all()


@pytest.mark.parametrize("chunk_rows", [7, 50, 10_000])
def test_embed_parquet_streams_in_chunks(model, table, tmp_path, chunk_rows):
    src = tmp_path / "in.parquet"
    table.assign(redshift=np.arange(len(table)) * 0.001).to_parquet(src)
    out = tmp_path / f"out{chunk_rows}.parquet"
    n = embed_parquet(src, out, model, chunk_rows=chunk_rows, keep_columns=["redshift"], duplicates="mean")
    from astroembed.search.files import read_embeddings

    E, other, meta = read_embeddings(out)
    ids, E_ref = ae.embed_table(table, model, duplicates="mean")
    assert n == len(ids) and other["object_id"].tolist() == ids.tolist()
    np.testing.assert_allclose(E, E_ref, atol=1e-6)
    first_z = table.assign(z=np.arange(len(table)) * 0.001).drop_duplicates("object_id")["z"].to_numpy()
    np.testing.assert_allclose(other["redshift"].to_numpy(dtype=float), first_z)
    with pytest.raises(FileExistsError):
        embed_parquet(src, out, model)


def test_embed_parquet_refuses_non_contiguous_ids(model, table, tmp_path):
    src = tmp_path / "in.parquet"
    pd.concat([table.iloc[:40], table.iloc[:5]]).to_parquet(src)
    with pytest.raises(ValueError, match="appears again"):
        embed_parquet(src, tmp_path / "o.parquet", model, chunk_rows=20, duplicates="keep")
    assert not (tmp_path / "o.parquet").exists()


def test_spectra_list_column_and_wide_layout(model, rng):
    from .conftest import make_spectrum

    specs = [make_spectrum(rng, object_id=f"s{i}", redshift=0.01 * i) for i in range(4)]
    ref = model.embed_spectrum(specs)
    lists = pd.DataFrame({"object_id": [s.object_id for s in specs], "wave": [s.wavelength for s in specs],
                          "flux": [s.flux for s in specs], "flux_err": [s.flux_err for s in specs]})
    ids, E = ae.embed_table(lists, model, kind="spectrum")
    assert ids.tolist() == ["s0", "s1", "s2", "s3"]
    np.testing.assert_allclose(E, ref, atol=1e-5)
    w = specs[0].wavelength
    wide = pd.DataFrame(np.stack([s.flux for s in specs]), columns=[f"flux_{x:.3f}" for x in w])
    ids, E = ae.embed_table(wide, model, kind="spectrum")
    np.testing.assert_allclose(E, model.embed_spectrum([ae.Spectrum(w, s.flux) for s in specs]), atol=1e-5)
    bad = lists.copy()
    bad.at[2, "wave"] = np.linspace(1200, 3000, 300)
    with pytest.raises(ValueError, match=r"item 2 \(object_id='s2'\)"):
        ae.embed_table(bad, model, kind="spectrum")
    E = ae.embed_table(bad, model, kind="spectrum", errors="coerce")[1]
    assert np.isnan(E[2]).all() and np.isfinite(E[[0, 1, 3]]).all()


@pytest.mark.parametrize("seed", range(5))
def test_sort_rows_equals_lexsort(seed):
    from astroembed.data.table_pack import sort_rows

    rng = np.random.default_rng(seed)
    n = 400
    o = rng.integers(0, 7, n)
    t = rng.integers(0, 12, n).astype(float)  # many ties on (object, time)
    bc, f, fe = rng.integers(0, 3, n), rng.integers(0, 3, n).astype(float), rng.integers(1, 3, n).astype(float)
    if seed == 0:  # already grouped and time-sorted: the fast path
        s = np.lexsort((t, o))
        o, t, bc, f, fe = o[s], t[s], bc[s], f[s], fe[s]
    np.testing.assert_array_equal(sort_rows(o, t, bc, f, fe), np.lexsort((fe, f, bc, t, o)))
