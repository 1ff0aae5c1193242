"""astroembed.distributed on a LocalCluster (2 workers, threads): results equal the in-process ones."""

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import astroembed as ae

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

SAMPLE = Path(ae.__file__).parent / "_sample_data" / "ztf_bts_sample.parquet"


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None,
                                silence_logs=logging.ERROR) as lc, \
            distributed.Client(lc) as c:
        yield c


@pytest.fixture(scope="module")
def table():
    d = pd.read_parquet(SAMPLE)
    keep = d["object_id"].drop_duplicates().iloc[:12]
    return d[d["object_id"].isin(keep)].reset_index(drop=True)


def test_embed_dask_equals_in_process_with_objects_split_across_partitions(client, table):
    from astroembed.distributed import embed_dask

    ids, E = ae.embed_table(table, "maven", duplicates="mean")
    # 7 partitions of a table sorted by id: most objects are cut between two partitions
    ddf = dd.from_pandas(table, npartitions=5, sort=False)
    out = embed_dask(ddf, "maven", duplicates="mean")
    assert list(out.columns) == [f"e{i}" for i in range(128)]
    res = out.compute()
    assert res.index.name == "object_id" and res.index.is_unique
    assert (res.dtypes == np.float32).all()
    assert sorted(res.index) == sorted(ids)
    np.testing.assert_allclose(res.loc[ids].to_numpy(), E, atol=1e-6)


def test_model_object_is_sent_once_and_unshuffled_input(client, table):
    from astroembed.distributed import embed_dask
    from astroembed.models import MavenModel

    from .test_model import tiny_config

    torch.manual_seed(0)
    m = MavenModel(tiny_config())
    ids, E = ae.embed_table(table, m, duplicates="mean")
    ddf = dd.from_pandas(table.set_index("object_id"), npartitions=3, sort=True)  # whole objects per partition
    res = embed_dask(ddf, m, shuffle=False, duplicates="mean").compute()
    np.testing.assert_allclose(res.loc[ids].to_numpy(), E, atol=1e-6)


def test_worker_model_is_cached():
    from astroembed.distributed import worker_model

    assert worker_model("maven") is worker_model("maven")


def test_embed_dask_bad_id_column(table):
    from astroembed.distributed import embed_dask

    with pytest.raises(ValueError, match="id_column 'oid' is neither a column nor the index"):
        embed_dask(dd.from_pandas(table, npartitions=2), "maven", id_column="oid")


def test_embed_nested_equals_embed_table(table):
    npd = pytest.importorskip("nested_pandas")
    from astroembed.distributed import embed_nested

    ids, E = ae.embed_table(table, "maven", duplicates="mean")
    base = pd.DataFrame({"ra": np.linspace(10, 300, len(ids)), "dec": np.linspace(-60, 60, len(ids))},
                        index=pd.Index(ids, name="object_id"))
    flat = table.set_index("object_id")[["mjd", "band", "mag", "magerr"]]
    nf = npd.NestedFrame(base).join_nested(flat, "lc")
    out = embed_nested(nf, "lc", "maven", duplicates="mean")
    cols = [f"e{i}" for i in range(128)]
    assert list(out.columns[:3]) == ["ra", "dec", "lc"] and (out[cols].dtypes == np.float32).all()
    np.testing.assert_allclose(out.loc[ids, cols].to_numpy(), E, atol=1e-6)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("ASTROEMBED_RUN_SLOW"), reason="LSDB builds take minutes here (numba "
                    "compilation); set ASTROEMBED_RUN_SLOW=1")
def test_embed_catalog_on_lsdb_equals_embed_table(table):
    lsdb = pytest.importorskip("lsdb")
    from astroembed.distributed import embed_catalog

    ids, E = ae.embed_table(table, "maven", duplicates="mean")
    cols = [f"e{i}" for i in range(128)]
    base = pd.DataFrame({"ra": np.linspace(10, 300, len(ids)), "dec": np.linspace(-60, 60, len(ids))},
                        index=pd.Index(ids, name="object_id"))

    kw = dict(ra_column="ra", dec_column="dec", partition_rows=100_000, highest_order=1)  # few partitions
    cat = lsdb.from_dataframe(base.reset_index(), **kw)
    obs = lsdb.from_dataframe(table.merge(base.reset_index(), on="object_id"), **kw)
    cat = cat.join_nested(obs, left_on="object_id", right_on="object_id", nested_column_name="lc")
    res = embed_catalog(cat, "lc", "maven", duplicates="mean").compute().set_index("object_id")
    np.testing.assert_allclose(res.loc[ids, cols].to_numpy(), E, atol=1e-6)


def test_embed_nested_empty_row(table):
    npd = pytest.importorskip("nested_pandas")
    from astroembed.distributed import embed_nested

    one = table[table["object_id"] == table["object_id"].iloc[0]]
    base = pd.DataFrame({"x": [1.0, 2.0]}, index=pd.Index([one["object_id"].iloc[0], "empty"], name="object_id"))
    nf = npd.NestedFrame(base).join_nested(one.set_index("object_id")[["mjd", "band", "mag", "magerr"]], "lc")
    with pytest.raises(ValueError, match=r"row 1 \(index 'empty'\) has no observations"):
        embed_nested(nf, "lc", "maven", duplicates="mean")
    out = embed_nested(nf, "lc", "maven", duplicates="mean", errors="coerce")
    assert np.isfinite(out.iloc[0, 2:].to_numpy(dtype=float)).all()
    assert np.isnan(out.iloc[1, 2:].to_numpy(dtype=float)).all()
