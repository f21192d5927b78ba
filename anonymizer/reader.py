"""Fail-closed DICOM reading: a data set is returned only if every byte of the file was accounted for.

pydicom quietly accepts truncated files (it cuts values short at the end of the data), so before
pydicom sees the bytes a small structural walker checks them: every element header and value fits,
undefined-length sequences and items end with their delimiters, undefined-length non-sequence values
(encapsulated pixel data) are items followed by a sequence delimiter, and sequences nest at most
``MAX_DEPTH`` levels. The walk is iterative, reads only headers (values are skipped, never copied)
and takes time linear in the number of elements. pydicom then parses the bytes and every element is
converted, so that bad values raise here and not later.

The walker follows pydicom's interpretation, so that what is checked is what pydicom parses: the
transfer syntax (or pydicom's guess when the file meta has none), implicit VR detected from the first
element of the data set and of each sequence item (pydicom's rule; items may use implicit VR, PS3.5
6.2.2), UN of undefined length read as a sequence, and the public and private dictionaries deciding
which implicit VR / UN values are sequences. Afterwards the number of elements and items pydicom read
must not exceed what the walker verified.

Decisions:

* Trailing bytes: after the last element, fewer than 8 bytes that are all 0x00 are accepted as
  padding (pydicom skips them too); anything else must parse as elements (Data Set Trailing Padding
  (FFFC,FFFC) is an ordinary element). After a deflated data set only 0x00 bytes may follow, or an
  8-byte gzip-style trailer whose CRC-32 and size match the inflated data (some writers add one).
* A cut exactly between two elements leaves a shorter file that is well-formed in every byte: the
  structure cannot show it, so it is not detected (no semantic rule such as "an image needs Pixel
  Data" is applied: header-only and test objects exist).
* Warnings: pydicom warnings about *content* (invalid value for a VR, value too long, unknown tag in
  implicit VR, undecodable characters, a data set whose first element shows another VR encoding than
  the transfer syntax says) do not reject a file: the structure was verified in the encoding pydicom
  uses, and the de-identifier replaces or removes such values anyway. Warnings that mean pydicom hit
  the end of the data are turned into MalformedDicomError. Warnings never escape this module.
* The file meta group must be explicit VR little endian (PS3.10). Tag order, duplicate tags (pydicom
  keeps the last) and the group length (0002,0000) are not checked: pydicom does not rely on them.
"""

from __future__ import annotations

import re
import struct
import warnings
import zlib
from dataclasses import dataclass
from io import BytesIO
from typing import Final

import pydicom
from pydicom.datadict import dictionary_VR, private_dictionary_VR
from pydicom.dataset import Dataset, FileDataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.uid import UID
from pydicom.valuerep import PersonName

from anonymizer.errors import DicomDirError, MalformedDicomError, NotDicomError, UnsupportedError

__all__ = ["MAX_DEPTH", "read_dataset"]

MAX_DEPTH: Final = 64  # nested sequence levels
MAX_INFLATED: Final = 1 << 30  # bytes a deflated data set may inflate to

_VRS: Final = frozenset(
    (
        b"AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL "
        b"SQ SS ST SV TM UC UI UL UN UR US UT UV"
    ).split()
)
_LONG_VRS: Final = frozenset(b"OB OD OF OL OV OW SQ UC UN UR UT SV UV".split())  # 4-byte length
_UNDEF: Final = 0xFFFFFFFF
_ITEM: Final = 0xFFFEE000
_ITEM_DELIM: Final = 0xFFFEE00D
_SEQ_DELIM: Final = 0xFFFEE0DD
_DIR_RECORDS: Final = 0x00041220
_DICOMDIR_CLASS: Final = "1.2.840.10008.1.3.10"
_DICOMDIR_REASON: Final = "DICOMDIR: holds patient names in its records; never copied"
_UID_RE: Final = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")
_IMPLICIT_LE, _EXPLICIT_BE, _DEFLATED = "1.2.840.10008.1.2", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"
_JPIP_DEFLATE: Final = frozenset({"1.2.840.10008.1.2.4.95", "1.2.840.10008.1.2.4.205"})  # deflated too
_FATAL_WARNINGS: Final = ("end of file", "eof", "no tag to read", "deferred read")

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


def _uid_type(uid: str) -> str:
    """The type of a UID in the DICOM dictionary ("Transfer Syntax", ...), "" if it is not there."""
    if not uid.startswith("1.2.840.10008."):
        return ""
    with warnings.catch_warnings():  # UID() warns about invalid values
        warnings.simplefilter("ignore")
        return UID(uid).type


def _uid_value(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode("latin-1").strip("\0 ")


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


class _Walker:
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
        if length == _UNDEF:
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
        if vr == b"UN" and length >= 0xFFFF:
            return False
        return _public_vr(tag) == "SQ"

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
                if tag == _ITEM_DELIM and fr.kind == _ITEM_DS and fr.end is None:
                    pos += 8
                    stack.pop()
                    continue
                raise MalformedDicomError(f"unexpected {_t(tag)} at offset {pos}{where} inside a data set")
            vr: bytes | None = None
            vpos = pos + 8
            if not fr.implicit:
                vr = buf[pos + 4 : pos + 6]
                if vr not in _VRS:
                    shown = vr.decode("latin-1") if vr.isalpha() else " ".join(f"0x{c:02X}" for c in vr)
                    raise MalformedDicomError(
                        f"element {_t(tag)} at offset {pos}{where} has invalid VR '{shown}'"
                    )
                if vr in _LONG_VRS:
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
                raise DicomDirError(_DICOMDIR_REASON)

            if length == _UNDEF:
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
        if tag == _SEQ_DELIM:
            if fr.end is not None:
                raise MalformedDicomError(
                    f"sequence {seq}: sequence delimiter at offset {pos}{where} in a defined-length sequence"
                )
            stack.pop()
            return pos + 8
        if tag != _ITEM:
            raise MalformedDicomError(
                f"sequence {seq}: expected an item (FFFE,E000) at offset {pos}{where}, found {_t(tag)}"
            )
        self.items += 1
        start, pos = pos, pos + 8
        implicit = fr.implicit or self.looks_implicit(pos, False)
        if length == _UNDEF:
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
            if item == _SEQ_DELIM:
                return pos
            if item != _ITEM:
                raise MalformedDicomError(
                    f"encapsulated value {_t(tag)} at offset {start}{where}: expected an item (FFFE,E000) "
                    f"or sequence delimiter at offset {pos - 8}, found {_t(item)}"
                )
            if length == _UNDEF or length > limit - pos:
                shown = "undefined length" if length == _UNDEF else f"{length} bytes"
                raise MalformedDicomError(
                    f"truncated: encapsulated value {_t(tag)} fragment at offset {pos - 8}{where} declares "
                    f"{shown} but only {limit - pos} remain"
                )
            pos += length


def _looks_like_data_set(data: bytes) -> bool:
    """Whether a file without 'DICM' starts with a plausible group 0002 or 0008 element."""
    if len(data) < 8:
        return False
    vr_ok = data[4:6] in _VRS
    if data[:2] == b"\x00\x08":  # big endian: explicit VR only
        return vr_ok
    if data[:2] not in (b"\x08\x00", b"\x02\x00"):
        return False
    if vr_ok:
        return True
    length = int.from_bytes(data[4:8], "little")  # implicit VR little endian, group 0008 only
    return data[:2] == b"\x08\x00" and (length == _UNDEF or length <= len(data) - 8)


def _inflate(zipped: memoryview) -> bytes:
    d = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        out = d.decompress(zipped, MAX_INFLATED)
    except zlib.error as exc:
        raise MalformedDicomError(f"deflated data set cannot be inflated: {exc}") from exc
    if d.unconsumed_tail:
        raise UnsupportedError(f"deflated data set inflates to more than {MAX_INFLATED} bytes")
    if not d.eof:
        raise MalformedDicomError("truncated: the deflated data set ends before its end-of-stream marker")
    rest = d.unused_data
    if len(rest) >= 8 and rest[:8] == struct.pack("<LL", zlib.crc32(out), len(out) & 0xFFFFFFFF):
        rest = rest[8:]  # a gzip-style trailer that matches
    elif len(rest) == 8 and any(rest):
        raise MalformedDicomError("deflated data set does not match the CRC-32 and size that follow it")
    if any(rest):
        raise MalformedDicomError(
            f"{len(rest)} bytes after the deflated data set are neither 0x00 padding nor a matching CRC-32 "
            "and size (truncated or corrupt)"
        )
    return out


def _check_structure(data: bytes) -> tuple[bool, int, int]:
    """Walk the whole file; return (has 'DICM', elements, items) or raise a typed error."""
    if len(data) >= 132 and data[128:132] == b"DICM":
        has_dicm, pos = True, 132
    elif _looks_like_data_set(data):
        has_dicm, pos = False, 0
    else:
        what = "empty file" if not data else "no 'DICM' marker and no data set found"
        raise NotDicomError(f"not a DICOM file: {what}")
    n = len(data)
    meta = _Walker(data, True)
    if data[pos : pos + 2] == b"\x02\x00" and meta.looks_implicit(pos, False):
        raise MalformedDicomError(f"file meta information at offset {pos} is not explicit VR little endian")
    pos = meta.walk(pos, n, implicit=False, stop_group=2)
    if _uid_value(meta.values.get(0x00020002)) == _DICOMDIR_CLASS:
        raise DicomDirError(_DICOMDIR_REASON)
    ts = _uid_value(meta.values.get(0x00020010))
    # pydicom reads command set (group 0000) elements before the data set, always implicit VR LE
    if data[pos : pos + 2] == b"\x00\x00" and not meta.looks_implicit(pos, True):
        raise MalformedDicomError(f"command set element at offset {pos} is not implicit VR little endian")
    pos = meta.walk(pos, n, implicit=True, stop_group=0)
    if not any(data[pos:]):
        raise MalformedDicomError(f"truncated: no data set after the file meta information (offset {pos})")

    buf, where, implicit, little = data, "", True, True
    if ts is None:  # pydicom's guess: a valid VR means explicit VR; a big group, big endian
        if data[pos + 4 : pos + 6] in _VRS:
            implicit = False
            little = int.from_bytes(data[pos : pos + 2], "little") < 1024
    elif not ts or len(ts) > 64 or not _UID_RE.fullmatch(ts):
        raise MalformedDicomError(f"malformed transfer syntax UID {ts!r} in the file meta information")
    elif ts in _JPIP_DEFLATE or _uid_type(ts) != "Transfer Syntax":
        raise UnsupportedError(f"unknown transfer syntax {ts}")
    elif ts == _EXPLICIT_BE:
        implicit, little = False, False
    elif ts != _IMPLICIT_LE:  # explicit VR little endian, deflated or encapsulated
        implicit = False
        if ts == _DEFLATED:
            buf, pos, where = _inflate(memoryview(data)[pos:]), 0, " of the inflated data set"
    walker = _Walker(buf, little, where)
    walker.walk(pos, len(buf), implicit=walker.looks_implicit(pos, implicit))

    return has_dicm, meta.elements + walker.elements, meta.items + walker.items


def _touch(ds: Dataset, counts: list[int]) -> None:
    """Convert every element, nested ones too, so that bad values raise now; count elements and items."""
    stack: list[Dataset] = [ds]
    while stack:
        current = stack.pop()
        for tag in list(current.keys()):
            counts[2] = int(tag)
            value = current[tag].value
            counts[0] += 1
            if isinstance(value, Sequence):
                counts[1] += len(value)
                stack.extend(value)
            elif isinstance(value, PersonName):
                str(value)
            elif isinstance(value, MultiValue):
                for v in value:
                    if isinstance(v, PersonName):
                        str(v)


def _parse(data: bytes, force: bool, elements: int, items: int) -> FileDataset:
    counts = [0, 0, 0]  # elements, items, the tag being converted
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ds = pydicom.dcmread(BytesIO(data), force=force)
            _touch(ds.file_meta, counts)
            _touch(ds, counts)
        except Exception as exc:  # anything at all: struct.error, ValueError, UnicodeDecodeError, ...
            at = f" at element {_t(counts[2])}" if counts[2] else ""
            raise MalformedDicomError(f"unreadable{at}: {type(exc).__name__}: {str(exc)[:300]}") from exc
    for w in caught:
        text = str(w.message)
        if any(k in text.lower() for k in _FATAL_WARNINGS):
            raise MalformedDicomError(f"pydicom: {text[:300]}")
    if counts[0] > elements or counts[1] > items:
        raise MalformedDicomError(
            f"pydicom read {counts[0]} elements and {counts[1]} items but the structure check verified "
            f"{elements} and {items}"
        )
    return ds


def read_dataset(data: bytes, *, path: str | None = None) -> FileDataset:
    """Read a whole DICOM file into a pydicom data set, or raise a typed error saying what is wrong.

    Raises NotDicomError, DicomDirError, MalformedDicomError or UnsupportedError, each with `path`.
    """
    try:
        data = bytes(data)
        try:
            has_dicm, elements, items = _check_structure(data)
        except (NotDicomError, DicomDirError, MalformedDicomError, UnsupportedError):
            raise
        except Exception as exc:  # a bug in the walk must not let a file through
            raise MalformedDicomError(f"structure check failed: {type(exc).__name__}: {exc}") from exc
        return _parse(data, not has_dicm, elements, items)
    except (NotDicomError, DicomDirError, MalformedDicomError, UnsupportedError) as err:
        if path is None or err.path == path:
            raise
        raise err.with_path(path) from err.__cause__
