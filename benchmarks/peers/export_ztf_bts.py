"""Export the ZTF BTS light curves (astroembed's loader, ``classes="maven5"``) to one Parquet file that
the peer venvs can read with pyarrow alone (one row per object; list columns time/band/flux/...).

    python benchmarks/peers/export_ztf_bts.py [--out /tmp/astroembed-peers] [--max-objects N]

Run in the astroembed environment.  Same objects, same cleaning as ``astroembed evaluate --data ztf_bts``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_WORK, EXPORT_NAME  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(DEFAULT_WORK))
    p.add_argument("--data-dir", default=None)
    p.add_argument("--max-objects", type=int, default=None)
    a = p.parse_args(argv)
    import pyarrow as pa
    import pyarrow.parquet as pq

    from astroembed.datasets import load_ztf_bts

    ds = load_ztf_bts(a.data_dir, classes="maven5", max_objects=a.max_objects)
    rows = []
    for lc in ds.lightcurves:
        rows.append({"object_id": str(lc.object_id), "label": lc.label,
                     "redshift": np.nan if lc.redshift is None else float(lc.redshift),
                     "mwebv": None if lc.mwebv is None else float(lc.mwebv),
                     "time": lc.time.tolist(), "band": lc.band.astype(str).tolist(),
                     "flux": lc.flux.tolist(), "flux_err": lc.flux_err.tolist(),
                     "mag": lc.mag.tolist(), "mag_err": lc.mag_err.tolist()})
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / EXPORT_NAME
    pq.write_table(pa.Table.from_pylist(rows), path)
    print(f"wrote {path}: {len(rows)} objects, {sum(len(r['time']) for r in rows)} points; "
          f"classes {ds.info['counts']}")


if __name__ == "__main__":
    main()
