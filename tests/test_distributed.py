"""astroembed.distributed on a LocalCluster (2 workers, threads): results equal the in-process ones."""

import logging
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
