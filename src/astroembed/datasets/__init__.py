"""Real-data loaders for the curated supernova data of ``../shared/data`` (see its README).

The data directory is found from ``data_dir=``, the ``ASTROEMBED_DATA`` environment variable, or
``../shared/data`` next to the repository / current directory.

>>> from astroembed.datasets import load_ztf_bts, load_osc_pairs, load_foundation   # doctest: +SKIP
>>> ztf = load_ztf_bts(classes="maven5")                                              # doctest: +SKIP
>>> osc = load_osc_pairs()          # aligned osc.lightcurves[i] <-> osc.spectra[i]  # doctest: +SKIP
"""

from ..labels import CLASS_SETS, MAVEN3, MAVEN5, clean_label, clean_labels
from ._common import DATA_ENV_VAR, SupernovaDataset, resolve_data_dir
from .foundation import load_foundation
from .osc import OSC_CLASS_SETS, load_osc_pairs
from .osc_bands import VEGA_TO_AB, map_osc_band, map_osc_photometry, osc_band_table
from .ztf_bts import ZTF_CLASS_COLUMNS, load_ztf_bts

__all__ = ["load_ztf_bts", "load_osc_pairs", "load_foundation", "SupernovaDataset", "resolve_data_dir",
           "DATA_ENV_VAR", "map_osc_band", "map_osc_photometry", "osc_band_table", "VEGA_TO_AB",
           "ZTF_CLASS_COLUMNS", "OSC_CLASS_SETS", "MAVEN5", "MAVEN3", "CLASS_SETS", "clean_label", "clean_labels"]
