"""Is a file cut short? Found cheaply when the study list indexes it, from a prefix and the file's size.

A truncated export looks healthy in the list (its header is whole) and used to fail only when opened or
de-identified. The index reads a prefix of every file; this walks the element headers the prefix holds
(values are skipped by their declared lengths, sequences item by item) and compares where each value
declares it ends with the real size of the file. An element that ends past the end of the file means the
file is incomplete. The walk stops, without a verdict, where the prefix runs out before the next header:
it is a cheap early warning, not the fail-closed check (reader.py decides before anything is written).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from .originals import PIXEL_TAGS
from .structure import ITEM, ITEM_DELIM, LONG_VRS, SEQ_DELIM, UNDEFINED_LENGTH, VRS

__all__ = ["Incomplete", "find_incomplete"]

_IMPLICIT_LE, _EXPLICIT_BE, _DEFLATED = "1.2.840.10008.1.2", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"
_MAX_DEPTH: Final = 32


@dataclass(frozen=True)
class Incomplete:
    """Where the file is cut: a value (or item, or fragment) that ends past the end of the file."""

    top: int  # the top-level element it belongs to (what the message names in plain words)
    size: int  # the file's real size
    end: int  # where the value would end
    detail: str  # e.g. "element (7FE0,0010) declares 921600 bytes at offset 1140 but only 460305 remain"

    def message(self) -> str:
        """Plain words first, then the detail."""
        what = "its image data does" if self.top in PIXEL_TAGS else "its data does"
        return (
            f"incomplete file: it ends before {what} ({_sizes(self.size, self.end)}); "
            f"export it again from the source: {self.detail}"
        )


def _t(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _sizes(have: int, want: int) -> str:
    """ "920 kB of 1,381 kB"; in bytes when kB would not tell them apart."""
    a, b = round(have / 1000), round(want / 1000)
    if a == b:
        return f"{have:,} of {want:,} bytes"
    return f"{a:,} kB of {b:,} kB"


class _OutOfPrefix(Exception):
    """The prefix ends before the next header: no verdict."""


class _Walk:
    def __init__(self, data: bytes, size: int, little: bool) -> None:
        self.data, self.size = data, size
        e = "<" if little else ">"
        self.tag_len = struct.Struct(e + "HHL")
        self.expl = struct.Struct(e + "HH2sH")
        self.u32 = struct.Struct(e + "L")

    def _need(self, pos: int, n: int) -> None:
        if pos + n > len(self.data):
            raise _OutOfPrefix

    def _past_end(self, top: int, what: str, length: int, vpos: int) -> Incomplete:
        end = vpos + length
        remain = max(self.size - vpos, 0)
        detail = f"{what} declares {length} bytes at offset {vpos} but only {remain} remain"
        return Incomplete(top, self.size, end, detail)

    def implicit_at(self, pos: int) -> bool:
        self._need(pos, 6)
        a, b = self.data[pos + 4], self.data[pos + 5]
        return not (0x40 < a < 0x5B and 0x40 < b < 0x5B)

    def elements(self, pos: int, implicit: bool, top: int, depth: int) -> tuple[int, Incomplete | None]:
        """Walk a data set from `pos` to its item delimiter, or at the top (depth 0) to the file's end."""
        # The hot loop of the check (about 250 elements in a CT header): locals, no calls per element.
        data, size, have = self.data, self.size, len(self.data)
        tag_len, expl, u32 = self.tag_len.unpack_from, self.expl.unpack_from, self.u32.unpack_from
        while True:
            if depth == 0 and pos + 8 > size:
                return pos, None  # the end of the file (trailing padding is the reader's business)
            if pos + 8 > have:
                raise _OutOfPrefix
            group, elem, length = tag_len(data, pos)
            tag = (group << 16) | elem
            if tag == ITEM_DELIM and depth > 0:
                return pos + 8, None
            vpos = pos + 8
            if not implicit:
                vr = data[pos + 4 : pos + 6]
                if vr not in VRS:
                    raise _OutOfPrefix  # damaged, not cut: the reader says what is wrong
                if vr in LONG_VRS:
                    if pos + 12 > have:
                        raise _OutOfPrefix
                    length, vpos = u32(data, pos + 8)[0], pos + 12
                else:
                    length = expl(data, pos)[3]
            if length == UNDEFINED_LENGTH:
                pos, cut = self.items(vpos, implicit, tag if depth == 0 else top, depth + 1)
                if cut is not None:
                    return pos, cut
                continue
            if vpos + length > size:
                return pos, self._past_end(tag if depth == 0 else top, f"element {_t(tag)}", length, vpos)
            pos = vpos + length

    def items(self, pos: int, implicit: bool, top: int, depth: int) -> tuple[int, Incomplete | None]:
        """Items (or fragments) of an undefined-length value, up to its sequence delimiter."""
        if depth > _MAX_DEPTH:
            raise _OutOfPrefix
        while True:
            if pos + 8 > self.size:
                detail = f"element {_t(top)} has no sequence delimiter before the end (offset {self.size})"
                return pos, Incomplete(top, self.size, pos + 8, detail)
            self._need(pos, 8)
            group, elem, length = self.tag_len.unpack_from(self.data, pos)
            tag = (group << 16) | elem
            if tag == SEQ_DELIM:
                return pos + 8, None
            if tag != ITEM:
                raise _OutOfPrefix
            if length == UNDEFINED_LENGTH:
                pos, cut = self.elements(pos + 8, implicit or self.implicit_at(pos + 8), top, depth)
                if cut is not None:
                    return pos, cut
                continue
            if pos + 8 + length > self.size:
                return pos, self._past_end(top, f"an item of element {_t(top)}", length, pos + 8)
            pos += 8 + length


def _meta(data: bytes) -> tuple[int, str | None]:
    """After the file meta group: (offset, transfer syntax UID or None)."""
    pos, ts = 132, None
    u16, u32 = struct.Struct("<H"), struct.Struct("<L")
    while pos + 8 <= len(data) and data[pos : pos + 2] == b"\x02\x00":
        vr = data[pos + 4 : pos + 6]
        if vr in LONG_VRS:
            length, vpos = u32.unpack_from(data, pos + 8)[0], pos + 12
        else:
            length, vpos = u16.unpack_from(data, pos + 6)[0], pos + 8
        if data[pos + 2 : pos + 4] == b"\x10\x00":
            ts = data[vpos : vpos + length].decode("latin-1").strip("\0 ")
        pos = vpos + length
    return pos, ts


def find_incomplete(data: bytes, size: int, resume: int = 0) -> Incomplete | None:
    """Where a file of `size` bytes, whose first bytes are `data`, is cut; None if the prefix shows no cut
    (or the file is not plain enough to tell: deflated, damaged, no DICOM).

    `resume`: the offset of a top-level element of an explicit VR little endian data set before which
    everything lies whole inside `data` (the study list's scan stops there, summary_scan.Scan.resume): the
    walk starts there instead of walking those elements a second time."""
    if resume:
        try:
            return _Walk(data, size, True).elements(resume, False, 0, 0)[1]
        except (_OutOfPrefix, struct.error):
            return None
    if len(data) >= 132 and data[128:132] == b"DICM":
        pos, ts = _meta(data)
        if ts == _DEFLATED:
            return None
        if pos > size:
            return Incomplete(0x00020000, size, pos, f"the file meta information ends at offset {pos}")
        implicit, little = ts == _IMPLICIT_LE, ts != _EXPLICIT_BE
    else:
        pos, little = 0, True
        if len(data) < 8 or data[:2] not in (b"\x08\x00", b"\x02\x00"):
            return None
        implicit = data[4:6] not in VRS
    try:
        walk = _Walk(data, size, little)
        if pos + 6 <= len(data):  # pydicom's rule (and the reader's): the first element's VR bytes decide
            implicit = walk.implicit_at(pos)
        return walk.elements(pos, implicit, 0, 0)[1]
    except (_OutOfPrefix, struct.error):
        return None
