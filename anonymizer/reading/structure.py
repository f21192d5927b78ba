"""The structural walk behind fail-closed reading: every element header and value of a buffer must fit.

pydicom quietly accepts truncated files (it cuts values short at the end of the data), so before pydicom
sees the bytes this walker checks them: every element header and value fits, undefined-length sequences
and items end with their delimiters, undefined-length non-sequence values (encapsulated pixel data) are
items followed by a sequence delimiter, and sequences nest at most ``MAX_DEPTH`` levels. The walk is
iterative, reads only headers (values are skipped, never copied) and takes time linear in the number of
elements. It counts the elements and items it verified, so the reader can check pydicom read no more.

The walker follows pydicom's interpretation, so that what is checked is what pydicom parses: implicit VR
detected from the first element of each sequence item (pydicom's rule; items may use implicit VR, PS3.5
6.2.2), UN of undefined length read as a sequence, and the public and private dictionaries deciding which
implicit VR / UN values are sequences. One buffer is walked in one byte order; which buffer, byte order and
VR encoding (file meta, command set, data set, inflated data set) is the reader's decision (reader.py).

Trailing bytes: after the last top-level element, fewer than 8 bytes that are all 0x00 are accepted as
padding (pydicom skips them too); anything else must parse as elements (Data Set Trailing Padding
(FFFC,FFFC) is an ordinary element).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from pydicom.datadict import dictionary_VR, private_dictionary_VR

from anonymizer.errors import DicomDirError, MalformedDicomError

__all__ = ["DICOMDIR_REASON", "LONG_VRS", "MAX_DEPTH", "UNDEFINED_LENGTH", "VRS", "StructureWalker"]

MAX_DEPTH: Final = 64  # nested sequence levels

VRS: Final = frozenset(
    (
        b"AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL "
        b"SQ SS ST SV TM UC UI UL UN UR US UT UV"
    ).split()
)
LONG_VRS: Final = frozenset(b"OB OD OF OL OV OW SQ UC UN UR UT SV UV".split())  # 4-byte length
UNDEFINED_LENGTH: Final = 0xFFFFFFFF
ITEM: Final = 0xFFFEE000
ITEM_DELIM: Final = 0xFFFEE00D
SEQ_DELIM: Final = 0xFFFEE0DD
_DIR_RECORDS: Final = 0x00041220
_PIXEL_DATA: Final = 0x7FE00010
DICOMDIR_REASON: Final = "DICOMDIR: holds patient names in its records; never copied"

_TOP, _ITEM_DS, _SEQ = 0, 1, 2  # frame kinds: top-level data set, sequence item, sequence
_CACHE_SIZE: Final = 20_000  # VR lookups kept; a file full of made-up tags must not grow them forever
_public_vr_cache: dict[int, str | None] = {}
_private_vr_cache: dict[tuple[int, str], str | None] = {}


def _t(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _public_vr(tag: int) -> str | None:
    try:
        return _public_vr_cache[tag]
    except KeyError:
        try:
            vr: str | None = dictionary_VR(tag)
        except KeyError:
            vr = None
        if len(_public_vr_cache) >= _CACHE_SIZE:
            _public_vr_cache.clear()
        _public_vr_cache[tag] = vr
        return vr


def _private_vr(tag: int, creator: str) -> str | None:
    key = (tag, creator)
    try:
        return _private_vr_cache[key]
    except KeyError:
        try:
            vr: str | None = private_dictionary_VR(tag, creator)
        except (KeyError, ValueError, TypeError):
            vr = None
        if len(_private_vr_cache) >= _CACHE_SIZE:
            _private_vr_cache.clear()
        _private_vr_cache[key] = vr
        return vr


@dataclass(slots=True)
class _Frame:
    kind: int  # _TOP, _ITEM_DS or _SEQ
    end: int | None  # None: undefined length (ends with a delimiter)
    limit: int  # nothing inside may pass this offset
    implicit: bool
    tag: int  # the sequence's tag (for messages)
    start: int  # offset of the item or sequence header
    depth: int  # sequence nesting level
    creators: dict[int, str] | None = None  # private creators of this data set, by tag


class StructureWalker:
    """Walks the structure of one buffer in one byte order, counting elements and items."""

    def __init__(self, buf: bytes, little: bool, where: str = "") -> None:
        self.buf = buf
        self.where = where  # appended to offsets, e.g. " of the inflated data set"
        e = "<" if little else ">"
        self.hdr = struct.Struct(e + "HHL")
        self.expl = struct.Struct(e + "HH2sH")
        self.u32 = struct.Struct(e + "L")
        self.elements = 0
        self.items = 0
        self.values: dict[int, bytes] = {}  # short top-level values of the file meta group
        # (offset, length) of a top-level Pixel Data value of defined length: the reader hands it on as a
        # view of the buffer instead of a copy (reader.py)
        self.pixel_value: tuple[int, int] | None = None

    def looks_implicit(self, pos: int, assumed: bool) -> bool:
        """pydicom's rule: the first element's VR bytes decide, unless fewer than 6 bytes remain."""
        if pos + 6 > len(self.buf):
            return assumed
        a, b = self.buf[pos + 4], self.buf[pos + 5]
        return not (0x40 < a < 0x5B and 0x40 < b < 0x5B)

    def is_sequence(self, tag: int, vr: bytes | None, length: int, vpos: int, fr: _Frame) -> bool:
        """Whether pydicom reads this element's value as a sequence (vr is None for implicit VR)."""
        if vr == b"SQ":
            return True
        if vr is not None and vr != b"UN":
            return False
        if length == UNDEFINED_LENGTH:
            if vr == b"UN":
                return True
            dvr = _public_vr(tag)
            if dvr is not None:
                return dvr == "SQ"
            return vpos + 8 <= len(self.buf) and self.hdr.unpack_from(self.buf, vpos)[:2] == (0xFFFE, 0xE000)
        group, elem = tag >> 16, tag & 0xFFFF
        if group & 1:
            if 0x10 <= elem <= 0xFF or not elem & 0xFF00 or fr.creators is None:
                return False
            creator = fr.creators.get((group << 16) | (elem >> 8))
            return creator is not None and _private_vr(tag, creator) == "SQ"
        return _public_vr(tag) == "SQ"  # any length: the reader gives known UN tags their VR

    def walk(self, pos: int, end: int, implicit: bool, stop_group: int | None = None) -> int:
        """Walk the elements from `pos` to `end`, or to the first top-level tag not in `stop_group`.

        Returns the offset where the walk stopped.
        """
        buf, hdr, expl, u32, where = self.buf, self.hdr, self.expl, self.u32, self.where
        stack = [_Frame(_TOP, None, end, implicit, 0, pos, 0)]
        while stack:
            fr = stack[-1]
            if fr.end is not None and pos == fr.end:
                stack.pop()
                continue
            avail = fr.limit - pos
            if fr.kind == _SEQ:
                pos = self.item(fr, pos, avail, stack)
                continue

            # an element of a data set: the top level or a sequence item
            if avail < 8:
                if fr.kind == _TOP:
                    if stop_group is not None:
                        return pos
                    if not any(buf[pos : fr.limit]):
                        return fr.limit
                    raise MalformedDicomError(
                        f"truncated: {avail} bytes at offset {pos}{where} are not a whole element header"
                    )
                if fr.end is None:
                    raise MalformedDicomError(
                        f"sequence {_t(fr.tag)} item at offset {fr.start}{where} has no item delimiter "
                        "(FFFE,E00D) before the data ends"
                    )
                raise MalformedDicomError(
                    f"truncated: element header at offset {pos}{where} runs past the end of the "
                    f"sequence {_t(fr.tag)} item at offset {fr.start}"
                )
            group, elem, length = hdr.unpack_from(buf, pos)
            tag = (group << 16) | elem
            if stop_group is not None and fr.kind == _TOP and group != stop_group:
                return pos
            if group == 0xFFFE:
                if tag == ITEM_DELIM and fr.kind == _ITEM_DS and fr.end is None:
                    pos += 8
                    stack.pop()
                    continue
                raise MalformedDicomError(f"unexpected {_t(tag)} at offset {pos}{where} inside a data set")
            vr: bytes | None = None
            vpos = pos + 8
            if not fr.implicit:
                vr = buf[pos + 4 : pos + 6]
                if vr not in VRS:
                    shown = vr.decode("latin-1") if vr.isalpha() else " ".join(f"0x{c:02X}" for c in vr)
                    raise MalformedDicomError(
                        f"element {_t(tag)} at offset {pos}{where} has invalid VR '{shown}'"
                    )
                if vr in LONG_VRS:
                    if avail < 12:
                        raise MalformedDicomError(
                            f"truncated: element {_t(tag)} header at offset {pos}{where} needs 12 bytes but "
                            f"only {avail} remain"
                        )
                    length = u32.unpack_from(buf, pos + 8)[0]
                    vpos += 4
                else:
                    length = expl.unpack_from(buf, pos)[3]
            self.elements += 1
            if tag == _DIR_RECORDS:
                raise DicomDirError(DICOMDIR_REASON)

            if length == UNDEFINED_LENGTH:
                if self.is_sequence(tag, vr, length, vpos, fr):
                    self.push_sequence(stack, fr, tag, pos, None)
                    pos = vpos
                else:
                    pos = self.fragments(tag, pos, vpos, fr.limit)
                continue
            if length > fr.limit - vpos:
                inside = "" if fr.kind == _TOP else f" of the sequence {_t(fr.tag)} item at offset {fr.start}"
                raise MalformedDicomError(
                    f"truncated: element {_t(tag)} declares {length} bytes at offset {vpos}{where} but only "
                    f"{fr.limit - vpos} remain{inside}"
                )
            if group & 1 and 0x10 <= elem <= 0xFF:  # a private creator, for private VR lookups
                if fr.creators is None:
                    fr.creators = {}
                fr.creators[tag] = buf[vpos : vpos + length].decode("latin-1").rstrip("\0 ")
            elif fr.kind == _TOP and group == 2 and length <= 1024:
                self.values[tag] = buf[vpos : vpos + length]
            elif tag == _PIXEL_DATA and fr.kind == _TOP:
                self.pixel_value = (vpos, length)
            if length and vr in (None, b"SQ", b"UN") and self.is_sequence(tag, vr, length, vpos, fr):
                self.push_sequence(stack, fr, tag, pos, vpos + length)
                pos = vpos
            else:
                pos = vpos + length
        return pos

    def push_sequence(self, stack: list[_Frame], fr: _Frame, tag: int, pos: int, end: int | None) -> None:
        if fr.depth >= MAX_DEPTH:
            raise MalformedDicomError(
                f"nesting deeper than {MAX_DEPTH} sequence levels: sequence {_t(tag)} at offset "
                f"{pos}{self.where}"
            )
        limit = fr.limit if end is None else end
        stack.append(_Frame(_SEQ, end, limit, fr.implicit, tag, pos, fr.depth + 1))

    def item(self, fr: _Frame, pos: int, avail: int, stack: list[_Frame]) -> int:
        """Read the next item header of sequence `fr`; push the item's data set or pop the sequence."""
        seq, where = _t(fr.tag), self.where
        if avail < 8:
            if fr.end is None:
                raise MalformedDicomError(
                    f"sequence {seq} at offset {fr.start}{where} has no sequence delimiter (FFFE,E0DD) "
                    f"before the data ends at offset {fr.limit}"
                )
            raise MalformedDicomError(
                f"truncated: item header at offset {pos}{where} runs past the end of sequence {seq}"
            )
        group, elem, length = self.hdr.unpack_from(self.buf, pos)
        tag = (group << 16) | elem
        if tag == SEQ_DELIM:
            if fr.end is not None:
                raise MalformedDicomError(
                    f"sequence {seq}: sequence delimiter at offset {pos}{where} in a defined-length sequence"
                )
            stack.pop()
            return pos + 8
        if tag != ITEM:
            raise MalformedDicomError(
                f"sequence {seq}: expected an item (FFFE,E000) at offset {pos}{where}, found {_t(tag)}"
            )
        self.items += 1
        start, pos = pos, pos + 8
        implicit = fr.implicit or self.looks_implicit(pos, False)
        if length == UNDEFINED_LENGTH:
            stack.append(_Frame(_ITEM_DS, None, fr.limit, implicit, fr.tag, start, fr.depth))
        elif length > fr.limit - pos:
            raise MalformedDicomError(
                f"truncated: sequence {seq} item at offset {start}{where} declares {length} bytes but only "
                f"{fr.limit - pos} remain"
            )
        else:
            stack.append(_Frame(_ITEM_DS, pos + length, pos + length, implicit, fr.tag, start, fr.depth))
        return pos

    def fragments(self, tag: int, start: int, pos: int, limit: int) -> int:
        """Skip an undefined-length non-sequence value: items (FFFE,E000), then (FFFE,E0DD)."""
        buf, hdr, where = self.buf, self.hdr, self.where
        while True:
            if limit - pos < 8:
                raise MalformedDicomError(
                    f"encapsulated value {_t(tag)} at offset {start}{where} has no sequence delimiter "
                    f"(FFFE,E0DD) before the data ends at offset {limit}"
                )
            group, elem, length = hdr.unpack_from(buf, pos)
            item = (group << 16) | elem
            pos += 8
            if item == SEQ_DELIM:
                return pos
            if item != ITEM:
                raise MalformedDicomError(
                    f"encapsulated value {_t(tag)} at offset {start}{where}: expected an item (FFFE,E000) "
                    f"or sequence delimiter at offset {pos - 8}, found {_t(item)}"
                )
            if length == UNDEFINED_LENGTH or length > limit - pos:
                shown = "undefined length" if length == UNDEFINED_LENGTH else f"{length} bytes"
                raise MalformedDicomError(
                    f"truncated: encapsulated value {_t(tag)} fragment at offset {pos - 8}{where} declares "
                    f"{shown} but only {limit - pos} remain"
                )
            pos += length
