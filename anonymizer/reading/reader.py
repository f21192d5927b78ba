"""Fail-closed DICOM reading: a data set is returned only if every byte of the file was accounted for.

pydicom quietly accepts truncated files, so before pydicom sees the bytes the structural walker
(structure.py) checks every element of the file meta group, the command set and the data set. This module
decides what it walks and how, following pydicom's interpretation so that what is checked is what pydicom
parses: the transfer syntax (or pydicom's guess when the file meta has none), implicit VR detected from the
first element of the data set, a deflated data set inflated first. pydicom then parses the bytes and every
element is converted, so that bad values raise here and not later. Afterwards the number of elements and
items pydicom read must not exceed what the walker verified.

Decisions:

* Trailing bytes: after a deflated data set only 0x00 bytes may follow, or an 8-byte gzip-style trailer
  whose CRC-32 and size match the inflated data (some writers add one). (Padding after the last element
  of an uncompressed data set: see structure.py.)
* A cut exactly between two elements leaves a shorter file that is well-formed in every byte: the
  structure cannot show it, so it is not detected (no semantic rule such as "an image needs Pixel
  Data" is applied: header-only and test objects exist).
* Warnings: pydicom warnings about *content* (invalid value for a VR, value too long, unknown tag in
  implicit VR, undecodable characters, a data set whose first element shows another VR encoding than
  the transfer syntax says) do not reject a file: the structure was verified in the encoding pydicom
  uses, and the de-identifier replaces or removes such values anyway. Warnings that mean pydicom hit
  the end of the data are turned into MalformedDicomError. Warnings never escape this module.
* UN (PS3.5 6.2.2): an element encoded UN whose tag the public dictionary knows is read with the
  dictionary's VR at any length (pydicom stops at 64 KB), so that its attribute's rule applies (a long
  Contour Data is kept, a name is replaced); only unknown tags stay UN, for the plan's safety net.
* The file meta group must be explicit VR little endian (PS3.10). Tag order, duplicate tags (pydicom
  keeps the last) and the group length (0002,0000) are not checked: pydicom does not rely on them.
"""

from __future__ import annotations

import re
import struct
import threading
import warnings
import zlib
from io import BytesIO
from typing import Final

import pydicom
import pydicom.config
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileDataset
from pydicom.hooks import hooks
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.uid import UID
from pydicom.valuerep import AMBIGUOUS_VR, VR, PersonName
from pydicom.values import convert_value

from anonymizer.errors import (
    DicomDirError,
    MalformedDicomError,
    NotDicomError,
    UnsupportedError,
    plain_reading_reason,
)
from anonymizer.reading.originals import CHARSET, remember
from anonymizer.reading.structure import DICOMDIR_REASON, UNDEFINED_LENGTH, VRS, StructureWalker

__all__ = ["SNIFF_BYTES", "not_dicom_reason", "read_dataset"]

# Bytes a deflated data set may inflate to, by default (the CLI, the page); the server passes its token's
# request size limit, so that a deflate bomb costs no more than the same file sent inflated.
MAX_INFLATED: Final = 1 << 30

_DICOMDIR_CLASS: Final = "1.2.840.10008.1.3.10"
_UID_RE: Final = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")
_IMPLICIT_LE, _EXPLICIT_BE, _DEFLATED = "1.2.840.10008.1.2", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"
_JPIP_DEFLATE: Final = frozenset({"1.2.840.10008.1.2.4.95", "1.2.840.10008.1.2.4.205"})  # deflated too
_PARSE_LOCK: Final = threading.Lock()
_FATAL_WARNINGS: Final = ("end of file", "eof", "no tag to read", "deferred read")


def _uid_type(uid: str) -> str:
    """The type of a UID in the DICOM dictionary ("Transfer Syntax", ...), "" if it is not there."""
    if not uid.startswith("1.2.840.10008."):
        return ""
    with warnings.catch_warnings():  # UID() warns about invalid values
        warnings.simplefilter("ignore")
        return UID(uid).type


def _uid_value(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode("latin-1").strip("\0 ")


def _looks_like_data_set(data: bytes, size: int | None = None) -> bool:
    """Whether a file without 'DICM' starts with a plausible group 0002 or 0008 element (`data` may be a
    prefix of a file of `size` bytes)."""
    if len(data) < 8:
        return False
    vr_ok = data[4:6] in VRS
    if data[:2] == b"\x00\x08":  # big endian: explicit VR only
        return vr_ok
    if data[:2] not in (b"\x08\x00", b"\x02\x00"):
        return False
    if vr_ok:
        return True
    length = int.from_bytes(data[4:8], "little")  # implicit VR little endian, group 0008 only
    total = len(data) if size is None else size
    return data[:2] == b"\x08\x00" and (length == UNDEFINED_LENGTH or length <= total - 8)


SNIFF_BYTES: Final = 132 + 8  # enough of a file's start for `not_dicom_reason`


def not_dicom_reason(prefix: bytes, size: int) -> str | None:
    """Why a file of `size` bytes that starts with `prefix` (at least SNIFF_BYTES, or the whole file) is
    not DICOM, decided from its first bytes as the reader decides; None if it may be DICOM."""
    if len(prefix) >= 132 and prefix[128:132] == b"DICM":
        return None
    if _looks_like_data_set(prefix, size):
        return None
    return "not a DICOM file: " + ("empty file" if not size else "no 'DICM' marker and no data set found")


def _inflate(zipped: memoryview, limit: int) -> bytes:
    d = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        out = d.decompress(zipped, limit)
    except zlib.error as exc:
        raise MalformedDicomError(f"deflated data set cannot be inflated: {exc}") from exc
    if d.unconsumed_tail:
        raise UnsupportedError(f"deflated data set inflates to more than {limit} bytes")
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


def _check_structure(data: bytes, max_inflated: int) -> tuple[bool, int, int, tuple[int, int] | None]:
    """Walk the whole file; return (has 'DICM', elements, items, where the top-level Pixel Data value is
    in `data` when it has a defined length) or raise a typed error."""
    if len(data) >= 132 and data[128:132] == b"DICM":
        has_dicm, pos = True, 132
    elif _looks_like_data_set(data):
        has_dicm, pos = False, 0
    else:
        what = "empty file" if not data else "no 'DICM' marker and no data set found"
        raise NotDicomError(f"not a DICOM file: {what}")
    n = len(data)
    meta = StructureWalker(data, True)
    if data[pos : pos + 2] == b"\x02\x00" and meta.looks_implicit(pos, False):
        raise MalformedDicomError(f"file meta information at offset {pos} is not explicit VR little endian")
    pos = meta.walk(pos, n, implicit=False, stop_group=2)
    if _uid_value(meta.values.get(0x00020002)) == _DICOMDIR_CLASS:
        raise DicomDirError(DICOMDIR_REASON)
    ts = _uid_value(meta.values.get(0x00020010))
    # pydicom reads command set (group 0000) elements before the data set, always implicit VR LE
    if data[pos : pos + 2] == b"\x00\x00" and not meta.looks_implicit(pos, True):
        raise MalformedDicomError(f"command set element at offset {pos} is not implicit VR little endian")
    pos = meta.walk(pos, n, implicit=True, stop_group=0)
    if not any(memoryview(data)[pos:]):
        raise MalformedDicomError(f"truncated: no data set after the file meta information (offset {pos})")

    buf, where, implicit, little = data, "", True, True
    if ts is None:  # pydicom's guess: a valid VR means explicit VR; a big group, big endian
        if data[pos + 4 : pos + 6] in VRS:
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
            buf, pos, where = _inflate(memoryview(data)[pos:], max_inflated), 0, " of the inflated data set"
    walker = StructureWalker(buf, little, where)
    walker.walk(pos, len(buf), implicit=walker.looks_implicit(pos, implicit))
    pixels = walker.pixel_value if buf is data else None
    return has_dicm, meta.elements + walker.elements, meta.items + walker.items, pixels


def known_vr(current: Dataset, tag: int) -> None:
    """A UN element whose tag the dictionary knows gets the dictionary's VR (PS3.5 6.2.2), whatever its
    length: pydicom does this only below 64 KB (its writer makes longer 2-byte-length values UN again), and
    a long Contour Data or a sequence passed on as UN is data like any other, with its attribute's rule.
    The byte order and VR encoding of the value are pydicom's, as for the short ones (the walk agrees)."""
    raw = current.get_item(tag)
    if isinstance(raw, RawDataElement) and raw.VR == "UN":
        try:
            vr = dictionary_VR(tag)
        except KeyError:
            return  # unknown: stays UN, for the safety net
        if vr != "UN":
            current[tag] = raw._replace(VR=vr)


# VRs whose raw elements Dataset.__getitem__ only converts and stores (no VR lookup, no ambiguous-VR
# correction, no sequence bookkeeping): _touch converts those itself, ~4 µs an element less.
_PLAIN_VRS: Final = frozenset(str(vr) for vr in VR) - {"SQ", "UN"} - {str(vr) for vr in AMBIGUOUS_VR}


# The character set (pydicom converts it as it reads) and the LUT descriptors (the default hook corrects a
# negative first value): pydicom's own path.
_OWN_PATH_TAGS: Final = frozenset({CHARSET, 0x00281101, 0x00281102, 0x00281103, 0x00283002})
_DEFAULT_HOOKS: Final = (hooks.raw_element_vr, hooks.raw_element_value)


def _default_conversion() -> bool:
    """Whether pydicom converts raw elements with its default hooks (nobody registered others)."""
    return (
        (hooks.raw_element_vr, hooks.raw_element_value) == _DEFAULT_HOOKS
        and not hooks.raw_element_kwargs
        and not pydicom.config.data_element_callback
    )


def _touch(ds: Dataset, counts: list[int]) -> None:
    """Convert every element, nested ones too, so that bad values raise now; count elements and items.

    Each element's bytes as read are remembered beside the value they converted to (originals.py), so
    that one the plan keeps is written as it came (unless it was given another VR or value since)."""
    stack: list[Dataset] = [ds]
    while stack:
        current = stack.pop()
        originals = remember(current)
        stored = current._dict
        charset = current.original_character_set or current._character_set
        plain = _default_conversion()
        for tag in list(stored):
            number = int(tag)
            if number & 0x10000:
                continue  # private: the structure walk checked its bytes; the plan removes it unconverted
            counts[2] = number
            raw = stored[tag]
            if (
                plain
                and isinstance(raw, RawDataElement)
                and raw.VR in _PLAIN_VRS
                and raw.value is not None
                and number not in _OWN_PATH_TAGS
            ):
                # What Dataset.__getitem__ -> convert_raw_data_element -> the default hooks do for such an
                # element (its VR as read, the value converted), without their lookups: convert, store.
                value = convert_value(raw.VR, raw, charset)
                elem = stored[tag] = DataElement(
                    raw.tag, raw.VR, value, raw.value_tell, raw.length == 0xFFFFFFFF, already_converted=True
                )
            else:  # UN, sequences, ambiguous or implicit VRs, a deferred value: pydicom's own path
                known_vr(current, tag)
                elem = current[tag]
                value = elem.value
            if isinstance(raw, RawDataElement) and raw.VR not in (None, "UN", "SQ"):
                originals[int(tag)] = (raw, elem, value)
            elif tag == CHARSET:  # converted by pydicom as it read: remembered to see it is unchanged
                originals[int(tag)] = (elem, elem, value)
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


class _ViewingSource(BytesIO):
    """The file for pydicom, which reads each value out of it as a copy: the one read of the Pixel Data
    value (offset, length from the structure walk) is answered with a view of the file's bytes instead,
    so a large image is held once (the input), not twice, and is handed on to the writer uncopied."""

    def __init__(self, data: bytes, at: int, length: int) -> None:
        super().__init__(data)
        self._view, self._at, self._length = memoryview(data), at, length

    def read(self, size: int | None = -1, /) -> bytes:
        pos = self.tell()
        if pos != self._at or size != self._length:
            return super().read(size)
        self.seek(pos + self._length)
        # A view is what pydicom keeps as the OB/OW value (it converts those by returning them as read).
        return self._view[pos : pos + self._length]  # type: ignore[return-value]


def _source(data: bytes, pixels: tuple[int, int] | None) -> BytesIO:
    """pydicom's file: the Pixel Data value read as a view when it is large enough for a copy to matter
    (a read in Python per value costs more than copying a small one)."""
    if pixels is None or pixels[1] < VIEW_AT_LEAST:
        return BytesIO(data)
    return _ViewingSource(data, *pixels)


# Pixel Data values at least this large are views of the input (_ViewingSource), smaller ones copies.
VIEW_AT_LEAST = 1 << 20


def _parse(
    data: bytes, force: bool, elements: int, items: int, pixels: tuple[int, int] | None = None
) -> FileDataset:
    counts = [0, 0, 0]  # elements, items, the tag being converted
    # Content validation would only warn, and content warnings never reject a file (see the module's
    # docstring): it is skipped as values are converted (pydicom checks each value against its VR). The
    # mode and the warnings filter are process-wide: one parse at a time (a server's threads), so that
    # neither is left changed by two parses interleaving.
    with _PARSE_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        validation = pydicom.config.settings.reading_validation_mode
        try:
            pydicom.config.settings.reading_validation_mode = pydicom.config.IGNORE
            ds = pydicom.dcmread(_source(data, pixels), force=force)
            _touch(ds.file_meta, counts)
            _touch(ds, counts)
        except Exception as exc:  # anything at all: struct.error, ValueError, UnicodeDecodeError, ...
            tag = counts[2]
            at = f" at element ({tag >> 16:04X},{tag & 0xFFFF:04X})" if tag else ""
            raise MalformedDicomError(f"unreadable{at}: {type(exc).__name__}: {str(exc)[:300]}") from exc
        finally:
            pydicom.config.settings.reading_validation_mode = validation
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


def read_dataset(data: bytes, *, path: str | None = None, max_inflated: int = MAX_INFLATED) -> FileDataset:
    """Read a whole DICOM file into a pydicom data set, or raise a typed error saying what is wrong.

    `max_inflated`: the most bytes a deflated data set may inflate to (UnsupportedError beyond it).

    Raises NotDicomError, DicomDirError, MalformedDicomError or UnsupportedError, each with `path`.
    """
    try:
        data = bytes(data)
        try:
            has_dicm, elements, items, pixels = _check_structure(data, max_inflated)
        except (NotDicomError, DicomDirError, MalformedDicomError, UnsupportedError):
            raise
        except Exception as exc:  # a bug in the walk must not let a file through
            raise MalformedDicomError(f"structure check failed: {type(exc).__name__}: {exc}") from exc
        return _parse(data, not has_dicm, elements, items, pixels)
    except (NotDicomError, DicomDirError, MalformedDicomError, UnsupportedError) as err:
        plain = plain_reading_reason(err)
        if plain == err.reason and (path is None or err.path == path):
            raise
        raise type(err)(plain, path=path or err.path) from err.__cause__
