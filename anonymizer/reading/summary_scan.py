"""A fast read of the study list's few attributes from a header, for the common encoding only.

Indexing a dropped folder reads a prefix of every file; in the browser, pydicom's general element generator
costs ~2 ms per CT header (most of indexing time). This scanner walks the elements of an explicit VR little
endian data set (after a 128-byte preamble, "DICM" and the file meta group) with struct only, keeps the raw
values of the wanted tags, and skips everything else by length (undefined-length sequences item by item).
Anything else (implicit VR, big endian, deflate, no preamble, a DICOMDIR, a malformed element) returns None
and the caller reads the header with pydicom as before.

Values: `plain_text` gives the study list's text of a value the way pydicom converts it, for the VRs whose
conversion is trimming and splitting 7-bit text (UI, CS, LO, SH, dates, US; IS and PN through pydicom's own
converter functions); anything else (non-ASCII or escape sequences, whose decoding depends on the character
set, or another VR) is left to pydicom's Dataset. Building a Dataset and reading values through it cost
most of the index's time in the browser (a character-set lookup and hooks per value).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydicom import config
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag, Tag
from pydicom.values import convert_IS_string, convert_PN

from .structure import ITEM, ITEM_DELIM, LONG_VRS, SEQ_DELIM, UNDEFINED_LENGTH, VRS

_HEADER = struct.Struct("<HH2sH")
_U32 = struct.Struct("<L")
_TAG_LEN = struct.Struct("<HHL")
_NOT_EXPLICIT_LE = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"}
_DIRECTORY_RECORDS = 0x00041220
MAX_DEPTH = 16  # deeper nesting: pydicom reads it (the fast path's recursion stays shallow)


@dataclass(frozen=True)
class Scan:
    """The raw (VR, value) of the file meta elements and of the wanted data set elements, by tag."""

    meta: dict[int, tuple[str, bytes]]
    elements: dict[int, tuple[str, bytes]]
    reached: bool  # whether the data went past `stop_after` (so every wanted element was seen)
    # Where the scan stopped when `reached`: the offset of the first top-level element after `stop_after`.
    # Every element before it lies whole inside the data scanned (completeness.py resumes from here).
    resume: int = 0

    def dataset(self) -> Dataset:
        """The same elements as a pydicom Dataset (for values `plain_text` leaves to pydicom)."""
        ds = Dataset(_raw(self.elements))
        ds.file_meta = FileMetaDataset(_raw(self.meta))
        return ds


def _raw(elements: dict[int, tuple[str, bytes]]) -> dict[BaseTag, DataElement | RawDataElement]:
    return {
        Tag(tag): RawDataElement(Tag(tag), vr, len(value), value, 0, False, True)
        for tag, (vr, value) in elements.items()
    }


def _trimmed(text: str) -> str:
    # pydicom's multi_string: trailing spaces and NULs off the whole value, then split at "\\"
    return text.rstrip(" \x00")


def _uids(text: str) -> str:
    # pydicom's convert_UI: multi_string, and UID() strips each value
    return "\\".join(v.strip() for v in _trimmed(text).split("\\"))


def _each_trimmed(text: str) -> str:
    # pydicom's convert_text (SH, LO): split at "\\", then trailing NULs and spaces off each value
    return "\\".join(v.rstrip("\x00 ") for v in text.split("\\"))


def _joined(value: Any) -> str:
    return "\\".join(str(v) for v in value) if isinstance(value, MultiValue) else str(value)


_TEXT: dict[str, Callable[[str], str]] = {
    "UI": _uids,
    "CS": _trimmed,
    "AS": _trimmed,
    "SH": _each_trimmed,
    "LO": _each_trimmed,
    "IS": lambda text: _joined(convert_IS_string(text.encode(), True)),
    "PN": lambda text: _joined(convert_PN(text.encode(), None)),
}
_DATES = ("DA", "DT", "TM")  # plain strings unless pydicom's datetime_conversion is on
_US = struct.Struct("<H")


def plain_text(vr: str, value: bytes) -> str | None:
    """The value as text, equal to str() of pydicom's value (multiple values joined with "\\"), or None
    when only pydicom can say (another VR, 8-bit bytes or ESC: character-set dependent, PS3.5 6.1)."""
    if vr == "US":
        if len(value) % 2:
            return None
        return "\\".join(str(v[0]) for v in _US.iter_unpack(value))
    convert = _TEXT.get(vr) or (_trimmed if vr in _DATES and not config.datetime_conversion else None)
    if convert is None or not value.isascii() or b"\x1b" in value:
        return None
    try:
        return convert(value.decode("ascii"))
    except ValueError:
        return None  # e.g. an IS that is not a number: pydicom's reading rules decide


class _Unusual(Exception):
    """Not the common case: let pydicom read it."""


def _element(data: bytes, pos: int) -> tuple[int, bytes, int, int]:
    """(tag, VR, value length, value offset) of the explicit VR LE element at `pos`."""
    group, elem, vr, short = _HEADER.unpack_from(data, pos)
    if vr not in VRS:
        raise _Unusual
    if vr in LONG_VRS:
        if pos + 12 > len(data):
            raise IndexError
        return (group << 16) | elem, vr, _U32.unpack_from(data, pos + 8)[0], pos + 12
    return (group << 16) | elem, vr, short, pos + 8


def _skip_sequence(data: bytes, pos: int, depth: int) -> int:
    """Past an undefined-length sequence starting at its first item; returns the offset after its end."""
    if depth > MAX_DEPTH:
        raise _Unusual
    while True:
        tag_group, tag_elem, length = _TAG_LEN.unpack_from(data, pos)
        tag = (tag_group << 16) | tag_elem
        pos += 8
        if tag == SEQ_DELIM:
            return pos
        if tag != ITEM:
            raise _Unusual
        if length != UNDEFINED_LENGTH:
            pos += length
            continue
        while True:  # an undefined-length item: its elements, then the item delimiter
            group, elem, _ = _TAG_LEN.unpack_from(data, pos)
            if (group << 16) | elem == ITEM_DELIM:
                pos += 8
                break
            tag, vr, length, value = _element(data, pos)
            pos = _skip_sequence(data, value, depth + 1) if length == UNDEFINED_LENGTH else value + length


def scan_summary(data: bytes, wanted: frozenset[int], stop_after: int) -> Scan | None:
    """The file meta and the wanted elements of an explicit VR LE Part 10 header, or None (unusual)."""
    if len(data) < 132 or data[128:132] != b"DICM":
        return None
    meta: dict[int, tuple[str, bytes]] = {}
    raw: dict[int, tuple[str, bytes]] = {}
    pos = 132
    reached = False
    try:
        while pos + 8 <= len(data):
            tag, vr, length, value = _element(data, pos)
            if tag >> 16 != 2:
                break
            if value + length > len(data):
                return None  # a truncated meta group: pydicom decides
            meta[tag] = (vr.decode(), data[value : value + length])
            pos = value + length
        syntax = meta.get(0x00020010)
        ts = syntax[1].decode("ascii", "replace").rstrip("\0 ") if syntax else ""
        if not ts or ts in _NOT_EXPLICIT_LE:
            return None
        while pos + 8 <= len(data):
            tag, vr, length, value = _element(data, pos)
            if tag > stop_after:
                reached = True
                break
            if tag == _DIRECTORY_RECORDS:
                return None
            if length == UNDEFINED_LENGTH:
                if vr not in (b"SQ", b"UN"):
                    return None  # encapsulated data before the summary's end: unusual
                pos = _skip_sequence(data, value, 1)
                continue
            if tag in wanted:
                if value + length > len(data):
                    break  # the prefix ends inside a wanted value: not reached
                raw[tag] = (vr.decode(), data[value : value + length])
            pos = value + length
    except (struct.error, IndexError):
        reached = False  # the prefix ended inside an element header or a sequence
    except _Unusual:
        return None
    return Scan(meta, raw, reached, pos if reached else 0)
