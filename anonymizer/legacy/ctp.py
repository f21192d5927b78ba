"""The legacy "pacsbin" profile: CTP's value functions, exactly as RSNA CTP's DicomAnonymizer computes them.

The exact value functions and the evaluation of one script operation; the script (JSON form, loading and
validation) is ctp_script.py, and applying a script to a data set is the plan engine's job. Everything
below was checked against the sources CTP runs: johnperry/CTP (``DICOMAnonymizer.java`` 2ae3e71,
``AnonymizerFunctions.java`` 874d1f0, ``DICOMAnonymizerContext.java`` f1b0bad, ``FnCall.java`` b42d14e,
``DAScript.java`` ef731fa), johnperry/Util (``DigestUtil.java`` dbc8316, ``DateUtil.java`` 5778e36) and
johnperry/dcm4che-1.4-JP (``StringElement.java`` b10e1ca).

Values read ("contents"). ``DICOMAnonymizerContext.contents(int)`` joins ``DcmElement.getStrings(cs)``
with ``\\``; dcm4che's ``StringElement`` trims the *whole* decoded string before splitting: AE CS DS IS
LO SH strip leading spaces and trailing spaces/NULs (``TOT_TRIM``), PN strips trailing spaces/NULs/``^``
(``PN_TRIM``), DA DT TM UI LT ST UT UC strip trailing spaces/NULs (``TRAIL_TRIM``), AS nothing. So the
hashed text is the raw value, trimmed once, backslashes included: see ``ctp_contents``. Values are
always read from the *original* data set (``inDS``), never the partly de-identified one. An absent
element gives null (``contentsNull``), an empty one "".

Element names (``DICOMAnonymizerContext.getElementTag``, ``DicomObject.getElementTag``): ``this`` is the
element being processed; otherwise a dcm4che name, else 1-8 hex digits or ``gggg,eeee``, optionally
in ``[]``/``()``/``{}``. Deviation: names are pydicom keywords here (dcm4che names such as
"RefSOPInstanceUID" are not); an unknown name is a ScriptError at load (CTP: tag 0, value null, the
element is removed).

Parameters (``DICOMAnonymizerContext.getParam``): ``@NAME`` or ``$NAME`` is the variable, untrimmed
(``DAScript.addParam`` keeps the text as is); anything else is the argument itself, trimmed
(``FnCall`` trims arguments). Deviation: an undefined variable is a ScriptError (CTP writes "null"
or the call text "(args)").

hash (``DICOMAnonymizer.hash``, ``AnonymizerFunctions.hash``, ``DigestUtil.getUSMD5``): MD5 of the
UTF-8 bytes of the contents, ``new BigInteger(1, md5).toString()`` (decimal, no leading zeros), cut
to n characters; n < 1, empty or not an integer (``Integer.parseInt``, no spaces) means the whole
number; n beyond the length gives the whole number, not padded. Absent element -> remove.

hashuid (``DICOMAnonymizer.hashuid``, ``AnonymizerFunctions.hashUID``): the caller appends "." to the
root unless it ends in one (even an empty root: "" -> "."), then hashUID trims it and appends "."
again if non-empty and not ending in "."; root + ("9" if the decimal starts with "0") + decimal, cut
to 64. A decimal BigInteger never starts with 0 (only an all-zero MD5 would), so the 9 is dead code.
A multi-valued UI is hashed as one joined string and becomes one UID. The optional third argument
is not supported (ScriptError). Absent element -> remove.

hashdate (``DICOMAnonymizer.hashdate``, ``AnonymizerFunctions.incrementDate``, ``DateUtil.getCalendar``
newest version): date absent -> remove; contents shorter than 8 -> empty; hash element absent ->
remove; shift = -(int(last 4 decimal digits) mod 3650), -1 when 0. The contents are split on ``\\``
(Java ``split``: trailing empty values dropped) and every value shifted; any failure -> empty for
the whole element. A value: ``@``, ``:`` and whitespace removed, a leading "00" becomes "19",
year/month/day from characters 0-8, if longer an optional time HHMM[SS[.ffffff]] (cut at "&"); a
lenient calendar (month 13, day 0, hour 25 roll over); the result is YYYYMMDD of the shifted day
followed by the *original* characters from 8 on (a DT keeps its time as written). So partial
values (< 8) are emptied, a DT with seconds and a "+hhmm" offset fails (``Float.parseFloat``) ->
empty, and "2020.01.01" fails -> empty. Deviations: CTP adds n*24 h in the JVM's zone, so a JVM in
a zone with daylight saving time moves a date-only value one more day back when the shift crosses
from summer into winter time; this module is exact for a JVM in UTC (or a zone without DST). Dates
outside 1582-10-15..9999-12-31 (Java switches to the Julian calendar before) fail -> empty. An
older ``DateUtil.getCalendar`` (Util 0299d78) dropped every non-digit and required exactly 8 digits,
so there a DT failed -> empty and "2020.01.01" worked.

date/time (``AnonymizerFunctions.date``/``time``): yyyy, MM, dd (HH, mm, ss) joined by the argument,
"" for ``@date()``, in the JVM's local time: the clock is passed in here.

append (``FnCall`` "{...}" clause, ``DICOMAnonymizer.appendfn``): the rendered text; if the element is
present with at least one value, ``contents + "\\" + text``; ``processElements`` then trims the result
(Java ``String.trim``) and ``putXX`` splits it on ``\\`` into values. Deviation: an element holding only
spaces (vm 1, contents "") is treated as empty here (CTP would write an empty first value).

Absent elements (``DICOMAnonymizer.insertElements``): only a script starting with ``@always()`` creates
a missing (non-SQ) element; bare ``@require()`` and ``@append(){...}`` -- the form in CTP's
DICOM-PS3.15E-Basic script, from which this JSON derives -- never create one (``require`` only
matters after ``@always()``). ``always`` with ``["YES"]`` is ``@always()YES``: the value, set whether
present or not. Present elements (``processElements``): the result is trimmed; ``@remove()`` deletes,
``@keep()`` keeps, ``@empty()`` or "" writes an empty value.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from pydicom.datadict import tag_for_keyword

from anonymizer.errors import ScriptError

__all__ = [
    "CtpAction",
    "CtpOperation",
    "Lookup",
    "ctp_append",
    "ctp_contents",
    "ctp_format_date",
    "ctp_format_time",
    "ctp_hash",
    "ctp_hashdate",
    "ctp_hashdate_shift_days",
    "ctp_hashuid",
    "ctp_param",
    "ctp_shift_date",
    "ctp_value_for_absent",
    "evaluate_append_value",
    "evaluate_operation",
    "resolve_element_tag",
]

Lookup = Callable[[int], str | None]  # tag -> CTP contents of the ORIGINAL element, None when absent


class CtpAction(Enum):
    KEEP = "keep"
    REMOVE = "remove"
    EMPTY = "empty"


@dataclass(frozen=True)
class CtpOperation:
    name: str
    params: tuple[str | CtpOperation, ...] = ()


# ---------------------------------------------------------------- Java helpers


def _java_trim(s: str) -> str:
    """``String.trim``: strips every character <= U+0020 at both ends."""
    return s.strip("".join(map(chr, range(33))))


def _java_int(s: str) -> int:
    """``Integer.parseInt``: optional sign, digits, nothing else."""
    if not re.fullmatch(r"[+-]?\d+", s) or not -(2**31) <= int(s) < 2**31:
        raise ValueError(f"not an int: {s!r}")
    return int(s)


def _java_float_to_int(s: str) -> int:
    """``(int) Float.parseFloat(s)``: single precision, truncated toward 0, NaN -> 0, saturated."""
    s = _java_trim(s)
    if not re.fullmatch(r"[+-]?(?:NaN|Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fFdD]?)", s, re.ASCII):
        raise ValueError(f"not a float: {s!r}")
    f = float(s if s.endswith(("NaN", "Infinity")) else s.rstrip("fFdD"))
    if math.isnan(f):
        return 0
    try:
        f = struct.unpack("<f", struct.pack("<f", f))[0]
    except OverflowError:
        f = math.copysign(math.inf, f)
    return int(max(-(2.0**31), min(2.0**31 - 1, f)))


def _java_split_backslash(s: str) -> list[str]:
    """``s.split("\\\\")``: no match -> [s]; trailing empty strings dropped."""
    if "\\" not in s:
        return [s]
    parts = s.split("\\")
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def _usmd5(s: str) -> str:
    """``DigestUtil.getUSMD5``: MD5 of UTF-8 (unpaired surrogates -> '?'), unsigned, in decimal."""
    digest = hashlib.md5(s.encode("utf-8", "replace"), usedforsecurity=False).digest()
    return str(int.from_bytes(digest, "big"))


# ---------------------------------------------------------------- value functions


def ctp_contents(raw: str, vr: str) -> str:
    """The string CTP reads for an element: the whole decoded value (backslashes included), trimmed as
    dcm4che 1.4 trims that VR. Pass the decoded raw text: pydicom's values are already stripped per value
    (same result unless a value has leading spaces or spaces around a backslash)."""
    if vr == "AS":
        return raw
    if vr == "PN":
        return raw.rstrip("\0 ^")
    s = raw.rstrip("\0 ")
    return s.lstrip(" ") if vr in ("AE", "CS", "DS", "IS", "LO", "SH") else s


def ctp_hash(value: str, length: int) -> str:
    """``AnonymizerFunctions.hash(value, length)``; length < 1 means the whole decimal."""
    digits = _usmd5(value)
    return digits if length < 1 else digits[:length]


def ctp_hashuid(root: str, uid: str) -> str:
    """``DICOMAnonymizer.hashuid`` then ``AnonymizerFunctions.hashUID`` (root handling of both)."""
    prefix = _java_trim(root if root.endswith(".") else root + ".")
    if prefix and not prefix.endswith("."):
        prefix += "."
    digits = _usmd5(uid)
    return (prefix + ("9" if digits.startswith("0") else "") + digits)[:64]


def ctp_hashdate_shift_days(hash_source_value: str) -> int:
    """Days added by ``@hashdate``: -(last 4 decimal digits of the MD5 mod 3650), -1 instead of 0."""
    inc = -(int(_usmd5(hash_source_value)[-4:]) % 3650)
    return inc if inc else -1


def ctp_shift_date(value: str, days: int) -> str:
    """``AnonymizerFunctions.incrementDate(value, days)`` for one DA/DT value; ValueError where CTP throws."""
    d = re.sub(r"[@: \t\n\x0b\f\r]", "", value)
    if d.startswith("00"):
        d = "19" + d[2:]
    d = d.split("\\", 1)[0]
    if len(d) < 8:
        raise ValueError(f"short date: {value!r}")
    year, month, day = _java_int(d[0:4]), _java_int(d[4:6]), _java_int(d[6:8])
    seconds = 0
    if len(d) > 8:
        t = d[8:].split("&", 1)[0]
        if len(t) < 4:
            raise ValueError(f"short time: {value!r}")
        seconds = _java_int(t[0:2]) * 3600 + _java_int(t[2:4]) * 60
        if len(t) > 4:
            seconds += _java_float_to_int(t[4:])
    # lenient GregorianCalendar(year, month - 1, day, h, m, s), then + days * 24 h (no DST: see module doc)
    start = date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1).toordinal() + day - 1 + seconds // 86400
    cutover = date(1582, 10, 15).toordinal()
    if start < cutover or start + days < cutover:
        raise ValueError(f"date before the Gregorian cutover: {value!r}")
    out = date.fromordinal(start + days)
    return f"{out.year:04d}{out.month:02d}{out.day:02d}" + (value[8:] if len(value) > 8 else "")


def ctp_hashdate(date_contents: str | None, hash_contents: str | None) -> str | CtpAction:
    """``DICOMAnonymizer.hashdate`` given the contents of the date element and of the hashed element."""
    if date_contents is None:
        return CtpAction.REMOVE
    if len(date_contents) < 8:
        return CtpAction.EMPTY
    if hash_contents is None:
        return CtpAction.REMOVE
    days = ctp_hashdate_shift_days(hash_contents)
    try:
        return "\\".join(ctp_shift_date(v, days) for v in _java_split_backslash(date_contents))
    except (ValueError, OverflowError):
        return CtpAction.EMPTY


def ctp_format_date(clock: datetime, separator: str = "") -> str:
    """``AnonymizerFunctions.date(separator)`` at ``clock`` (CTP: JVM local time)."""
    return f"{clock.year:04d}{separator}{clock.month:02d}{separator}{clock.day:02d}"


def ctp_format_time(clock: datetime, separator: str = "") -> str:
    """``AnonymizerFunctions.time(separator)`` at ``clock``: HH mm ss."""
    return f"{clock.hour:02d}{separator}{clock.minute:02d}{separator}{clock.second:02d}"


def ctp_append(existing: str | None, value: str) -> str:
    """``appendfn`` + the trim in ``processElements``; ``existing`` None/"" = absent or no value."""
    return _java_trim(f"{existing}\\{value}" if existing else value)


# ---------------------------------------------------------------- references


def ctp_param(param: str, variables: Mapping[str, str]) -> str:
    """``DICOMAnonymizerContext.getParam``: ``@NAME``/``$NAME`` -> the variable (untrimmed), else the text
    trimmed."""
    p = _java_trim(param)
    if p[:1] in ("@", "$"):
        if p[1:] not in variables:
            raise ScriptError(f"undefined variable {p!r}")
        return variables[p[1:]]
    return p


def resolve_element_tag(name: str, this_tag: int) -> int:
    """``this``, a pydicom keyword, ``GGGGEEEE`` (1-8 hex digits) or ``gggg,eeee``, optionally bracketed."""
    n = _java_trim(name)
    if n == "this":
        return this_tag
    if len(n) > 1 and n[0] + n[-1] in ("[]", "()", "{}"):
        n = _java_trim(n[1:-1])
    tag = tag_for_keyword(n) if re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", n) else None  # pydicom knows keyword ""
    if tag is not None:
        return tag
    if re.fullmatch(r"[0-9a-fA-F]{1,8}", n):
        return int(n, 16)
    m = re.fullmatch(r"([0-9a-fA-F]{0,4}),([0-9a-fA-F]{1,4})", n)
    if m:
        return (int(m[1] or "0", 16) << 16) | int(m[2], 16)
    raise ScriptError(f"not an element name: {name!r}")


def _text(p: str | CtpOperation) -> str:
    if not isinstance(p, str):
        raise ScriptError(f"operation {p.name!r} not allowed here")
    return p


def evaluate_append_value(op: CtpOperation, variables: Mapping[str, str], clock: datetime) -> str:
    """Render the parts of ``append``/``always`` (literal text, ``param``, ``date``, ``time``) as CTP does."""
    out = []
    for part in op.params:
        if isinstance(part, str):
            out.append(part)
        elif part.name == "param":
            out.append(ctp_param(_text(part.params[0]), variables))
        else:  # date/time: FnCall.getArg(0) trims and drops enclosing double quotes
            sep = _java_trim(_text(part.params[0])) if part.params else ""
            sep = sep[1:-1] if len(sep) > 1 and sep[0] == sep[-1] == '"' else sep
            out.append((ctp_format_date if part.name == "date" else ctp_format_time)(clock, sep))
    return "".join(out)


def evaluate_operation(
    op: CtpOperation, this_tag: int, variables: Mapping[str, str], lookup: Lookup, clock: datetime
) -> str | CtpAction:
    """What CTP's ``processElements`` writes for an element PRESENT in the original data set."""
    p = [_text(x) for x in op.params] if op.name not in ("append", "always") else []
    result: str | CtpAction
    if op.name in ("keep", "require"):
        return CtpAction.KEEP
    if op.name == "remove":
        return CtpAction.REMOVE
    if op.name == "empty":
        return CtpAction.EMPTY
    if op.name == "hash":
        value = lookup(resolve_element_tag(p[0], this_tag))
        n = ctp_param(p[1], variables) if len(p) > 1 else ""
        try:
            length = _java_int(n) if n else 0
        except ValueError:
            length = 0
        result = CtpAction.REMOVE if value is None else ctp_hash(value, length)
    elif op.name == "hashuid":
        uid = lookup(resolve_element_tag(p[1], this_tag))
        result = CtpAction.REMOVE if uid is None else ctp_hashuid(ctp_param(p[0], variables), uid)
    elif op.name == "hashdate":
        result = ctp_hashdate(
            lookup(resolve_element_tag(p[0], this_tag)), lookup(resolve_element_tag(p[1], this_tag))
        )
    elif op.name == "param":
        result = ctp_param(p[0], variables)
    elif op.name == "always":
        result = evaluate_append_value(op, variables, clock)
    elif op.name == "append":
        result = ctp_append(lookup(this_tag), evaluate_append_value(op, variables, clock))
    else:
        raise ScriptError(f"unknown operation {op.name!r}")
    if isinstance(result, str):
        result = _java_trim(result)
        return result if result else CtpAction.EMPTY
    return result


def ctp_value_for_absent(op: CtpOperation, variables: Mapping[str, str], clock: datetime) -> str | None:
    """``insertElements``: the value to create a MISSING element with, or None (only ``always`` creates)."""
    return evaluate_append_value(op, variables, clock) if op.name == "always" else None
