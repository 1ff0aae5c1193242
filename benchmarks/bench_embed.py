"""Light-curve embedding throughput next to a machine yardstick, in one process at 1 and 2 threads.

    OMP_NUM_THREADS=1 python benchmarks/bench_embed.py [--quick] [--options] [--batch-sweep] [--cuda]

Rows (medians of ``--repeats`` runs, same process, so the ratios are same-run ratios):

* ``yardstick``: a plain ``torch.nn.TransformerEncoder`` (5 layers, d 64, 4 heads, ff 128, GELU,
  batch_first), T = 128 tokens, batch 64, no mask — sequences/s on this machine;
* real ZTF BTS light curves (``/work/shared/data/ztf_bts/lightcurves.parquet``; the bundled 10k-row
  sample with ``--quick`` or when the file is absent) through ``ae.embed_table`` and through
  ``model.embed_lightcurve`` on prebuilt ``LightCurve`` containers (building them is reported apart);
* LSST-like light curves (100 points, 6 bands, simulated) through the same two paths;
* the bare encoder forward on the same batches.  "Non-encoder share" is measured inside one end-to-end
  call: the time outside ``model.encode_lightcurves`` (preprocessing, padding, copies) / the call's time.

Every timed run is paired with a yardstick forward just before it; a ratio is the median of the per-pair
ratios (robust to the load changes of a shared machine).

FLOPs are counted by formula (:func:`astroembed.models.layers.transformer_flops`, tested against
``FlopCounterMode`` with the math attention backend) and compared with the measured dense float32
matmul rate.  ``--options``: ``torch.compile``, ONNX Runtime and dynamic int8 on the BTS forward, with
the maximum deviation from the eager embeddings.  ``--batch-sweep``: ``embed_table`` objects/s vs
batch size (how the CPU default was chosen).  ``--cuda``: GPU rows (AMP, large batches) instead.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import hardware, median_time  # noqa: E402

BTS = Path("/work/shared/data/ztf_bts/lightcurves.parquet")
LSST_BANDS = np.array(["lsstu", "lsstg", "lsstr", "lssti", "lsstz", "lssty"])


def bts_table(quick: bool):
    import pandas as pd

    import astroembed as ae

    if BTS.exists() and not quick:
        d = pd.read_parquet(BTS)
        return d.rename(columns={"ztfid": "object_id"})[["object_id", "mjd", "band", "mag", "magerr"]], str(BTS)
    path = Path(ae.__file__).parent / "_sample_data" / "ztf_bts_sample.parquet"
    d = pd.read_parquet(path)
    if quick:
        d = d[d["object_id"].isin(d["object_id"].drop_duplicates().iloc[:64])]
    return d, f"bundled sample {path.name}"


def lsst_table(n: int, points: int = 100, seed: int = 0):
    """``n`` LSST-like light curves: ``points`` observations over 6 bands and ~300 d, fluxes in µJy."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 300, (n, points)), axis=1) + 60000.0
    peak = rng.uniform(30, 250, (n, 1))
    amp = rng.lognormal(3.0, 1.0, (n, 1))
    flux = amp * np.exp(-0.5 * ((t - 60000 - peak) / 20.0) ** 2) + rng.normal(0, 1.0, (n, points))
    return pd.DataFrame({"object_id": np.repeat(np.arange(n), points), "mjd": t.ravel(),
                         "band": LSST_BANDS[rng.integers(0, 6, n * points)], "flux": flux.ravel(),
                         "flux_err": np.full(n * points, 1.0)})


class Yardstick:
    """A plain ``nn.TransformerEncoder`` (5 layers, d 64, 4 heads, ff 128), T = 128, batch 64, no mask."""

    def __init__(self, T=128, B=64):
        import torch

        layer = torch.nn.TransformerEncoderLayer(64, 4, 128, 0.0, activation="gelu", batch_first=True)
        self.enc = torch.nn.TransformerEncoder(layer, 5, enable_nested_tensor=False).eval()
        self.x = torch.randn(B, T, 64)
        self.B = B

    def seconds(self) -> float:
        import torch

        with torch.inference_mode():
            t0 = time.perf_counter()
            self.enc(self.x)
            return time.perf_counter() - t0

    def rate(self, repeats=5) -> float:
        self.seconds()
        return self.B / float(np.median([self.seconds() for _ in range(repeats)]))


class EncoderTimer:
    """Wraps ``model.encode_lightcurves`` to add up the seconds spent in the encoder during a call, so
    the non-encoder share of an end-to-end call is measured inside that same call."""

    def __init__(self, model):
        self.model, self.inner, self.seconds = model, model.encode_lightcurves, 0.0

    def __call__(self, *args, **kwargs):
        t0 = time.perf_counter()
        out = self.inner(*args, **kwargs)
        self.seconds += time.perf_counter() - t0
        return out

    def share(self, fn) -> float:
        """Fraction of one call of ``fn`` spent outside the encoder."""
        self.seconds = 0.0
        self.model.encode_lightcurves = self
        try:
            t0 = time.perf_counter()
            fn()
            total = time.perf_counter() - t0
        finally:
            del self.model.encode_lightcurves
        return 1.0 - self.seconds / total


def paired(fn, n_items, yard, repeats):
    """(median items/s, median ratio to the yardstick): each run of ``fn`` is paired with a yardstick
    forward just before it, so load changes on a shared machine hit both sides of a ratio."""
    fn()
    rates, ratios = [], []
    for _ in range(repeats):
        y = yard.B / yard.seconds()
        t0 = time.perf_counter()
        fn()
        r = n_items / (time.perf_counter() - t0)
        rates.append(r)
        ratios.append(r / y)
    return float(np.median(rates)), float(np.median(ratios))


def forward_batches(model, table, batch_size=None):
    """The exact batches embed_table feeds the encoder (built once, not timed)."""
    from astroembed.data.collate import length_buckets
    from astroembed.data.table_pack import pack_table
    from astroembed.table import table_columns

    ids, packed, ok, _ = pack_table(table_columns(table), "object_id")
    prep = model.prepare_lightcurves(None, packed=packed, index=ok)
    return [prep.collate(pos) for pos in length_buckets(prep.lengths, batch_size or BATCH)], prep.lengths


def run_forward(model, batches):
    import torch

    with torch.inference_mode():
        for b in batches:
            model.encode_lightcurves(b)


BATCH = 64


def dataset_rows(name, model, table, lcs, build_s, yard, repeats):
    import astroembed as ae
    from astroembed.models.layers import transformer_flops

    n = len(lcs)
    tab_fn = lambda: ae.embed_table(table, model, batch_size=BATCH, progress=False, duplicates="mean")  # noqa: E731
    con_fn = lambda: model.embed_lightcurve(lcs, batch_size=BATCH, progress=False)  # noqa: E731
    tab = paired(tab_fn, n, yard, repeats)
    con = paired(con_fn, n, yard, repeats)
    batches, lengths = forward_batches(model, table)
    fwd = paired(lambda: run_forward(model, batches), n, yard, repeats)
    timer = EncoderTimer(model)
    share_tab = float(np.median([timer.share(tab_fn) for _ in range(repeats)]))
    share_con = float(np.median([timer.share(con_fn) for _ in range(repeats)]))
    c = model.config.lightcurve
    fl = transformer_flops(lengths + 1, c.d_model, c.ff_dim, c.n_layers)  # +1: the scale token
    rows = [(f"{name} embed_table", tab, share_tab),
            (f"{name} containers (embed_lightcurve)", con, share_con),
            (f"{name} encoder forward only", fwd, 0.0)]
    for label, (rate, ratio), non_enc in rows:
        print(f"| {label} | {rate:,.0f} | {ratio:.2f}x | {non_enc:.0%} |", flush=True)
    print(f"| {name} container build (not in the rows above) | {n / build_s:,.0f} | | |")
    yard_fl = transformer_flops([128] * 64, 64, 128, 5) / 64  # per yardstick sequence
    print(f"| {name} forward: {fl / n / 1e6:.2f} MFLOP/object by formula; its FLOP rate = {fwd[1] * fl / n / yard_fl:.2f}"
          f" x the yardstick's | | | |", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="bundled sample, few objects, 1 thread (CI)")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--n-lsst", type=int, default=2000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--options", action="store_true", help="torch.compile / ONNX Runtime / int8 rows")
    p.add_argument("--batch-sweep", action="store_true", help="embed_table objects/s vs batch size")
    p.add_argument("--skip-main", action="store_true", help="only the --batch-sweep / --options rows")
    p.add_argument("--cuda", action="store_true", help="GPU rows (AMP, large batches); see bench_embed_gpu.sh")
    p.add_argument("--cuda-dry-run", action="store_true", help="run the --cuda code path on the CPU (tiny sizes)")
    a = p.parse_args(argv)
    if a.cuda or a.cuda_dry_run:
        from bench_embed_cuda import main as cuda_main

        return cuda_main(a)
    if a.quick:
        a.threads, a.n_lsst, a.repeats = [1], 32, 1
    import torch

    import astroembed as ae
    from astroembed.data.io import lightcurves_from_table
    from astroembed.models.layers import transformer_flops

    model = ae.load_pretrained("maven")
    bts, bts_src = bts_table(a.quick)
    lsst = lsst_table(a.n_lsst)
    t0 = time.perf_counter()
    bts_lcs = list(lightcurves_from_table(bts, "object_id", duplicates="mean"))
    bts_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    lsst_lcs = list(lightcurves_from_table(lsst, "object_id"))
    lsst_build = time.perf_counter() - t0
    print(f"# bench_embed: {hardware()}")
    print(f"# model maven (bundled weights; light-curve encoder 5 layers, d 64, 4 heads, ff 128), batch {BATCH}; "
          f"BTS: {bts_src}, {len(bts_lcs)} objects, {len(bts)} rows; LSST-like: {len(lsst_lcs)} x 100 points; "
          f"medians of {a.repeats}")
    for threads in [] if a.skip_main else a.threads:
        torch.set_num_threads(threads)
        a_ = torch.randn(1024, 1024)
        peak = 2 * 1024**3 / median_time(lambda a_=a_: torch.mm(a_, a_), repeats=5)
        yard = Yardstick()
        yrate = yard.rate()
        yfl = transformer_flops([128] * 64, 64, 128, 5) / 64 * yrate
        print(f"\n## {threads} thread(s): matmul {peak / 1e9:.1f} GFLOP/s; yardstick nn.TransformerEncoder "
              f"(T=128, batch 64): {yrate:,.0f} sequences/s = {yfl / 1e9:.1f} GFLOP/s by formula = {yfl / peak:.0%} "
              "of the matmul rate (measured back to back)")
        print("| path | light curves/s | ratio to yardstick | non-encoder share |")
        print("|---|---|---|---|")
        dataset_rows("BTS", model, bts, bts_lcs, bts_build, yard, a.repeats)
        dataset_rows("LSST-like", model, lsst, lsst_lcs, lsst_build, yard, a.repeats)
    torch.set_num_threads(a.threads[0])
    if a.batch_sweep:
        print("\n## embed_table on BTS vs batch size (1st thread setting)\n| batch | light curves/s |\n|---|---|")
        for bs in (16, 32, 64, 128, 256):
            t = median_time(lambda bs=bs: ae.embed_table(bts, model, batch_size=bs, progress=False,
                                                         duplicates="mean"), repeats=a.repeats)
            print(f"| {bs} | {len(bts_lcs) / t:,.0f} |", flush=True)
    if a.options:
        from bench_embed_options import options_rows

        options_rows(bts, a.repeats)
    E = ae.embed_table(bts, model, progress=False, duplicates="mean")[1]
    assert E.dtype == np.float32 and np.allclose(np.linalg.norm(E, axis=1), 1, atol=1e-4)
    return 0


if __name__ == "__main__":
    t0 = time.perf_counter()
    rc = main()
    print(f"# total {time.perf_counter() - t0:.1f} s")
    raise SystemExit(rc)
