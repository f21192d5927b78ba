"""What each date attribute is a date of (data/dates.csv): only the patient's care moves with the shift.

Under Retain Longitudinal Temporal Information with Modified Dates (PS3.15 E.3.6) the patient's dates move by
one secret shift. A date that someone can know from elsewhere (the version of a context group, a scanner's
calibration) must not move with it, or its known true value gives the shift away, and with it every true date
of that patient. The CSV lists every DA/DT attribute of the dictionary with one kind and the reason for it.
"""

from __future__ import annotations

import csv
from enum import Enum
from functools import cache
from importlib import resources

from pydicom.datadict import dictionary_VR

DATE_VRS = frozenset({"DA", "DT"})
_TEMPORAL_VRS = frozenset({"DA", "DT", "TM"})
# Text VRs a converter may have written a date in; a number or bytes cannot take a shifted date back (and a
# listed attribute written so is refused whole by vr_fit.py).
_STRING_VRS = frozenset("AE AS CS DA DS DT IS LO LT PN SH ST TM UC UI UR UT".split())  # noqa: SIM905


class DateKind(Enum):
    CARE = "care"  # an event of the patient's care or of this instance's making: shifted
    RESOURCE = "resource"  # the version or date of a public resource: kept as written
    OTHER = "other"  # equipment, authorization, expiry...: never shifted (the Basic Profile action)


@cache
def _kinds() -> dict[int, tuple[DateKind, str]]:
    text = resources.files("anonymizer").joinpath("data/dates.csv").read_text("utf-8")
    return {
        int(r["tag"].replace(",", ""), 16): (DateKind(r["kind"]), r["reason"])
        for r in csv.DictReader(text.splitlines())
    }


def date_kind(tag: int) -> DateKind | None:
    """The kind of a DA/DT attribute of the dictionary; None for any other tag."""
    found = _kinds().get(tag)
    return None if found is None else found[0]


def date_reason(tag: int) -> str:
    """Why the attribute has its kind (data/dates.csv), for the plan's rule; empty for any other tag."""
    found = _kinds().get(tag)
    return "" if found is None else found[1]


@cache
def _dictionary_temporal_vr(tag: int) -> str | None:
    if tag >> 16 & 1:
        return None
    try:
        vr = dictionary_VR(tag)
    except KeyError:
        return None
    return vr if vr in _TEMPORAL_VRS else None


def date_vr(tag: int, written: str) -> str | None:
    """DA, DT or TM when the value is a date or time: its attribute's dictionary VR is one (whatever text VR
    a converter wrote, e.g. Series Date as IS), or it was written as one; None otherwise."""
    if written in _TEMPORAL_VRS:
        return _dictionary_temporal_vr(tag) or written
    return _dictionary_temporal_vr(tag) if written in _STRING_VRS else None
