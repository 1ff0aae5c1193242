"""The class taxonomy: BTS ``type_applecider`` names and the merges of classes too rare to learn."""

from __future__ import annotations

__all__ = ["CLASS_MERGE", "applecider_label"]

#: BTS ``type_applecider`` -> model class.  SN II and SN IIP are merged (BTS "SN II" is an un-subtyped
#: hydrogen-rich SN, 42 objects, not a distinct class); SN Ib and SN Ic are merged into SN Ib/c (36 and
#: 48 objects, separable only spectroscopically by He lines); the rest are kept.
CLASS_MERGE = {
    "SN Ia": "SN Ia", "SN II": "SN II", "SN IIP": "SN II", "SN Ib": "SN Ib/c", "SN Ic": "SN Ib/c",
    "SN IIb": "SN IIb", "SN IIn": "SN IIn", "Tidal Disruption Event": "TDE",
}

#: OSC ``class_broad`` -> model class (spectra; TDE absent there)
OSC_MERGE = {"Ia": "SN Ia", "II": "SN II", "Ibc": "SN Ib/c", "IIb": "SN IIb", "IIn": "SN IIn"}


def applecider_label(type_applecider):
    """Model class of a BTS ``type_applecider`` value (None for unknown/missing)."""
    return CLASS_MERGE.get(type_applecider) if isinstance(type_applecider, str) else None
