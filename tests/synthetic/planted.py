"""PlantedFile, what every generator returns, and the search for planted markers in output bytes.

The two live together because each needs the other: :meth:`PlantedFile.leaks` runs
:func:`find_markers`, which accepts a :class:`PlantedFile`. :func:`get_path` resolves the keyword
paths of ``PlantedFile.kept``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydicom import dcmread
from pydicom.dataset import Dataset

TOKEN_RE = re.compile(r"PHIX\d{4}[A-Z]{4}", re.IGNORECASE)
_TOKEN_BYTES_RE = re.compile(rb"phix\d{4}[a-z]{4}")
_TOKEN_UTF16_RE = re.compile(rb"p\x00h\x00i\x00x\x00(?:\d\x00){4}(?:[a-z]\x00){4}")


# --------------------------------------------------------------------------------------------
# Result type
# --------------------------------------------------------------------------------------------


@dataclass
class PlantedFile:
    """One generated file and a record of what was planted in it (see the package docstring)."""

    data: bytes
    markers: dict[str, str] = field(default_factory=dict)  # token -> where
    uids: dict[str, str] = field(default_factory=dict)  # original UID -> where (all places)
    dates: dict[str, str] = field(default_factory=dict)  # YYYYMMDD -> where
    times: dict[str, str] = field(default_factory=dict)  # HHMMSS.FFFFFF -> where
    numbers: dict[str, str] = field(default_factory=dict)  # IS/DS digit string -> where
    values: dict[str, str] = field(default_factory=dict)  # where -> unsearchable planted value
    kept: dict[str, Any] = field(default_factory=dict)  # keyword path -> value that must survive
    temporal: dict[str, str] = field(default_factory=dict)  # keyword -> key date/datetime
    table_rows: dict[str, str] = field(default_factory=dict)  # E.1-1 csv tag -> where planted
    safe_private: dict[str, Any] = field(default_factory=dict)  # Table E.3.10-1 attr -> value
    labels: dict[str, str] = field(default_factory=dict)  # e.g. patient/series/instance
    name: str = ""

    def dataset(self) -> Dataset:
        """The planted file, parsed by pydicom."""
        return dcmread(io.BytesIO(self.data))

    def leaks(
        self, output: bytes, *, uids: bool = True, temporal: bool = True, numbers: bool = True
    ) -> list[str]:
        """:func:`find_markers` on ``output``, each leak described with where it was planted."""
        where: dict[str, str] = {
            **self.markers,
            **(self.uids if uids else {}),
            **(self.dates if temporal else {}),
            **(self.times if temporal else {}),
            **(self.numbers if numbers else {}),
        }
        found = find_markers(output, self, uids=uids, temporal=temporal, numbers=numbers)
        return [f"{key}  <- planted at {where.get(key, '?')}" for key in found]


# --------------------------------------------------------------------------------------------
# Leak detection
# --------------------------------------------------------------------------------------------

_UID_KEY = re.compile(r"^\d+(\.\d+)+$")
_DATE_KEY = re.compile(r"^\d{8}$")
_TIME_KEY = re.compile(r"^\d{6}\.\d{1,6}$")
_NUMBER_KEY = re.compile(r"^-?\d+$")


def _alternatives(key: str) -> list[bytes | re.Pattern[bytes]]:
    """Needles for lower-cased data that reveal ``key`` in an output file: plain byte strings
    (substring search) or patterns (when a boundary matters)."""
    k = key.strip(" \x00")

    def wide(s: str) -> list[bytes | re.Pattern[bytes]]:
        return [s.lower().encode(enc) for enc in ("utf-16-le", "utf-16-be")]

    if _DATE_KEY.match(k):
        y, m, d = k[:4], k[4:6], k[6:]
        forms = [k] + [f"{y}{sep}{m}{sep}{d}" for sep in "-.:/"]
        patterns: list[bytes | re.Pattern[bytes]] = [
            re.compile(rb"(?<![0-9.])" + re.escape(f.encode())) for f in forms
        ]
        return patterns + wide(k)
    if _NUMBER_KEY.match(k):
        return [re.compile(rb"(?<![0-9.])" + re.escape(k.encode()) + rb"(?![0-9])")]
    if _UID_KEY.match(k) or _TIME_KEY.match(k):
        return [k.encode(), *wide(k)]
    needles: list[bytes | re.Pattern[bytes]] = []
    for needle in TOKEN_RE.findall(k) or [k]:
        needles.append(needle.lower().encode("utf-8"))
        needles.extend(wide(needle))
    return needles


def _occurs(needle: bytes | re.Pattern[bytes], haystack: bytes) -> bool:
    if isinstance(needle, bytes):
        return needle in haystack
    return needle.search(haystack) is not None


def find_markers(
    data: bytes,
    markers: PlantedFile | Mapping[str, str] | Iterable[str],
    *,
    uids: bool = True,
    temporal: bool = True,
    numbers: bool = True,
) -> list[str]:
    """Return the planted markers that occur anywhere in ``data`` (the leaks), in input order.

    ``markers`` is a :class:`PlantedFile` (its ``markers``, plus ``uids``, ``dates`` + ``times``
    and ``numbers`` unless switched off), or any mapping/iterable of marker strings. Each key is
    recognised by its shape:

    * token-bearing text (``PHIx0042QZKW``, ``PHIx0042QZKW^Given``, ...): each embedded token,
      case-insensitively, in ASCII/UTF-8, UTF-16LE and UTF-16BE. Searching for the bare token
      also catches trimmed, padded, truncated-after-token and re-cased forms.
    * UID and time: the exact string (ASCII, UTF-16)
    * date ``YYYYMMDD``: that, plus ``YYYY-MM-DD``, ``YYYY.MM.DD``, ``YYYY:MM:DD`` (EXIF) and
      ``YYYY/MM/DD``, not preceded by a digit or dot (so not inside a UID)
    * integer: as a whole number (not preceded by a digit or dot, not followed by a digit)

    Switch off ``uids`` for the Retain UIDs option, ``temporal`` for the date options and
    ``numbers`` for Retain Patient Characteristics (size, weight)."""
    keys: list[str]
    if isinstance(markers, PlantedFile):
        keys = list(markers.markers)
        if uids:
            keys += list(markers.uids)
        if temporal:
            keys += list(markers.dates) + list(markers.times)
        if numbers:
            keys += list(markers.numbers)
    else:
        keys = list(markers)
    haystack = data.lower()
    return [key for key in dict.fromkeys(keys) if any(_occurs(n, haystack) for n in _alternatives(key))]


def scan_for_tokens(data: bytes) -> list[str]:
    """Every marker token in ``data`` (ASCII or UTF-16LE), whichever file planted it, upper-cased.
    A catch-all next to :func:`find_markers`."""
    low = data.lower()
    found = [m.decode("ascii") for m in _TOKEN_BYTES_RE.findall(low)]
    found += [m.decode("utf-16-le") for m in _TOKEN_UTF16_RE.findall(low)]
    return sorted({f.upper() for f in found})


def get_path(ds: Dataset, path: str) -> Any:
    """Resolve a ``kept`` path such as ``ReferencedSeriesSequence[0].ReferencedInstanceSequence[0]
    .ReferencedSOPClassUID`` or ``file_meta.TransferSyntaxUID``. Raises KeyError or IndexError if
    the element is missing."""
    node: Any = ds
    for part in path.split("."):
        m = re.fullmatch(r"(\w+)(?:\[(\d+)\])?", part)
        if not m:
            raise KeyError(path)
        name, index = m.group(1), m.group(2)
        if name == "file_meta":
            node = node.file_meta
            continue
        if name not in node:
            raise KeyError(f"{path}: {name} missing")
        node = node[name].value
        if index is not None:
            node = node[int(index)]
    return node
