"""Shifting DA and DT values by whole days (PS3.15 E.3.6, Modified Dates).

Pure date arithmetic on the proleptic Gregorian calendar (datetime.date), no time zones: a DT's time of day
and UTC offset are kept as written, since a whole-day shift does not change them (and Pyodide has no tzdata).
Partial values keep their precision: a year-only value is shifted as 1 January of that year, a
year-month value as the 1st of that month, and written back with the same precision.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

# PS3.5 6.2: DA is YYYYMMDD; ACR-NEMA wrote YYYY.MM.DD, and some writers use ISO YYYY-MM-DD.
_DA = re.compile(r"^(\d{4})(?:[.-]?(\d{2})(?:[.-]?(\d{2}))?)?$")
# DT is YYYY[MM[DD[HH[MM[SS[.F{1,6}]]]]]][&ZZXX]
_DT = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2}(?:\d{2}(?:\d{2}(?:\.\d{1,6})?)?)?)?([+-]\d{4})?$")
# TM is HH[MM[SS[.F{1,6}]]]; ACR-NEMA wrote HH:MM:SS.
_TM = re.compile(r"^\d{2}(?::?\d{2}(?::?\d{2}(?:\.\d{1,6})?)?)?$")


class InvalidDateError(ValueError):
    """A value that is not a date of the VR; it cannot be shifted and must not be kept."""


def _shift(year: int, month: int | None, day: int | None, days: int) -> tuple[str, int, int, int]:
    try:
        shifted = date(year, month or 1, day or 1) + timedelta(days=days)
    except (ValueError, OverflowError) as exc:
        raise InvalidDateError(str(exc)) from None
    return f"{shifted.year:04d}", shifted.year, shifted.month, shifted.day


def shift_da(value: str, days: int) -> str:
    """Shift one DA value; the output is always the standard YYYYMMDD form (or YYYY / YYYYMM if partial)."""
    text = value.strip()
    m = _DA.match(text)
    if not m:
        raise InvalidDateError(f"not a date: {len(text)} characters")
    month = int(m.group(2)) if m.group(2) else None
    day = int(m.group(3)) if m.group(3) else None
    _, y, mo, d = _shift(int(m.group(1)), month, day, days)
    if month is None:
        return f"{y:04d}"
    if day is None:
        return f"{y:04d}{mo:02d}"
    return f"{y:04d}{mo:02d}{d:02d}"


def shift_dt(value: str, days: int) -> str:
    """Shift one DT value by whole days, keeping time of day, fraction and UTC offset as written."""
    text = value.strip()
    m = _DT.match(text)
    if not m:
        raise InvalidDateError(f"not a date-time: {len(text)} characters")
    month = int(m.group(2)) if m.group(2) else None
    day = int(m.group(3)) if m.group(3) else None
    if month is not None and not 1 <= month <= 12:
        raise InvalidDateError("month out of range")
    _, y, mo, d = _shift(int(m.group(1)), month, day, days)
    out = f"{y:04d}"
    if month is not None:
        out += f"{mo:02d}"
        if day is not None:
            out += f"{d:02d}"
    return out + (m.group(4) or "") + (m.group(5) or "")


def shift_value(vr: str, value: str, days: int) -> str:
    """Shift a DA or DT value; ranges (PS3.4 C.2.2.2.5 'A-B', used in queries) shift both ends."""
    one = shift_da if vr == "DA" else shift_dt
    if vr == "DA" and "-" in value and not _DA.match(value.strip()):
        start, _, end = value.partition("-")
        return "-".join(one(part, days) if part.strip() else "" for part in (start, end))
    return one(value, days)


def is_time(value: str) -> bool:
    """Whether a value reads as a TM (a time of day written with another VR is kept only if it is one)."""
    return bool(_TM.match(value.strip()))
