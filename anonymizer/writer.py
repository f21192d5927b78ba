"""Writing the de-identified data set: what is kept is copied as its bytes, the rest encoded by pydicom.

pydicom's dcmwrite spends ~15 µs per element in Python whether the element is a raw one (its bytes as
read, reading/originals.py) or a value to encode, and builds the file in a BytesIO that is copied once
more at the end. For the common case, explicit VR little endian or an encapsulated transfer syntax, read
in the encoding and character set it is written in, this writer does what dcmwrite does for the file
meta and for each element it must encode, and writes a raw element's tag, VR, length and value bytes
itself (PS3.5 7.1.2); the parts are joined once. Any other case (implicit VR, big endian, deflated, a
file meta dcmwrite would change) goes to dcmwrite unchanged. Both give the same bytes (tests/test_writer.py).
"""

from __future__ import annotations

import io
import struct
import warnings
from typing import Final, TypeAlias

from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset, validate_file_meta
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import dcmwrite, write_data_element
from pydicom.multival import MultiValue
from pydicom.uid import UID
from pydicom.valuerep import AMBIGUOUS_VR, EXPLICIT_VR_LENGTH_32

__all__ = ["Part", "write", "write_parts"]

# A part of a written file: bytes, or a view of the input (a large Pixel Data kept as read, reader.py).
Part: TypeAlias = bytes | memoryview

_EXPLICIT_LE: Final = "1.2.840.10008.1.2.1"
_DEFLATED: Final = "1.2.840.10008.1.2.1.99"
_PIXEL_DATA: Final = 0x7FE00010
_GROUP_LENGTH: Final = 0x00020000
_LONG_VRS: Final = frozenset(str(vr) for vr in EXPLICIT_VR_LENGTH_32)
_SEQ_DELIMITER: Final = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
_ITEM: Final = b"\xfe\xff\x00\xe0"
_ITEM_UNDEFINED: Final = _ITEM + b"\xff\xff\xff\xff"
_ITEM_DELIMITER: Final = b"\xfe\xff\x0d\xe0\x00\x00\x00\x00"
_DEFAULT_ENCODING: Final = "iso8859"
# Text VRs pydicom writes as the joined string's bytes, padded to even length (PS3.5 6.2); not PN (its
# components), DS and IS (number objects).
_ASCII_TEXT_VRS: Final = frozenset(
    ["AE", "AS", "CS", "DA", "DT", "LO", "LT", "SH", "ST", "TM", "UC", "UI", "UR", "UT"]
)


def write(ds: FileDataset) -> bytes:
    """The file's bytes (PS3.10: preamble, 'DICM', file meta, data set)."""
    return b"".join(write_parts(ds))


def write_parts(ds: FileDataset) -> list[Part]:
    """The file's bytes in parts, in order: a kept value (a large Pixel Data) is its own part, the very
    bytes object the data set holds, so a caller that writes or hashes the parts copies nothing."""
    with warnings.catch_warnings():
        # In explicit VR a value over 64 KB of a 2-byte-length VR (a long Contour Data) is written UN, as
        # PS3.5 6.2.2 says; the reader gives it its dictionary VR back. Nothing to tell the user.
        warnings.filterwarnings("ignore", message=r".*exceeds the size of 64 kByte", category=UserWarning)
        ts = _fast_transfer_syntax(ds)
        if ts is None:
            return [_pydicom_write(ds)]
        return _fast_write(ds, ts)


def _pydicom_write(ds: FileDataset) -> bytes:
    buf = io.BytesIO()
    dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()


def _fast_transfer_syntax(ds: FileDataset) -> UID | None:
    """The transfer syntax if this writer gives dcmwrite's bytes for `ds`, else None."""
    meta = getattr(ds, "file_meta", None)
    if not isinstance(meta, FileMetaDataset) or len(getattr(ds, "preamble", b"") or b"") != 128:
        return None
    ts = meta.get("TransferSyntaxUID")
    if ts is None or str(ts) == _DEFLATED or ts.is_private or not ts.is_transfer_syntax:
        return None
    if not (str(ts) == _EXPLICIT_LE or (ts.is_compressed and ts.is_little_endian and not ts.is_implicit_VR)):
        return None
    # dcmwrite re-encodes every element read in another encoding or character set: leave those to it.
    if ds.original_encoding != (False, True) or ds.original_character_set != ds._character_set:
        return None
    # dcmwrite puts the data set's SOP Class and Instance UIDs into a copy of the file meta.
    for meta_kw, ds_kw in (
        ("MediaStorageSOPClassUID", "SOPClassUID"),
        ("MediaStorageSOPInstanceUID", "SOPInstanceUID"),
    ):
        have, want = meta.get(meta_kw), ds.get(ds_kw)
        if have is None or (want and want != have):
            return None
    return UID(str(ts))


def _fast_write(ds: FileDataset, ts: UID) -> list[Part]:
    parts: list[Part] = [bytes(ds.preamble or b"") + b"DICM", _file_meta(FileMetaDataset(ds.file_meta))]
    _pixel_data_length(ds, ts.is_compressed)
    parts += _dataset_parts(ds, ds.get("SpecificCharacterSet", _DEFAULT_ENCODING))
    return parts


def _file_meta(meta: FileMetaDataset) -> bytes:
    """The file meta group as write_file_meta_info(enforce_standard=True) writes a copy of it: checked and
    completed by pydicom (validate_file_meta), every element encoded from its value (a copy has no
    original encoding, so dcmwrite re-encodes), the group length (0002,0000) computed (PS3.10 7.1)."""
    validate_file_meta(meta, enforce_standard=True)
    body = b"".join(
        _encoded(meta[tag], _DEFAULT_ENCODING) for tag in sorted(meta.keys()) if tag != _GROUP_LENGTH
    )
    return struct.pack("<HH2sHL", 2, 0, b"UL", 4, len(body)) + body


def _dataset_parts(ds: Dataset, encodings: object) -> list[Part]:
    """The elements of a data set or item in tag order, as dcmwrite's write_dataset writes them."""
    parts: list[Part] = []
    stored = ds._dict
    # Sorted and tested as ints: BaseTag's comparisons and group/element properties are Python code, which
    # costs more than the rest of this loop under Pyodide.
    for tag in sorted(stored, key=int):
        number = int(tag)
        if not number & 0xFFFF and number > 0x6FFFF:
            continue  # retired group lengths are not written (PS3.5 7.2), as dcmwrite does
        elem = stored[tag]
        if isinstance(elem, RawDataElement) and elem.value is None:
            elem = ds.get_item(tag)  # converted (or read, if deferred) as Dataset.get_item does
        if isinstance(elem, RawDataElement):
            # one whose header differs from its VR's (a long value of a 2-byte-length VR, written UN) is
            # written as dcmwrite writes it
            parts += _raw_parts(elem) if _raw_fits(elem) else [_encoded(elem, encodings)]
        elif elem.VR == "SQ" and _items_as_read(elem):
            parts += _sequence_parts(elem, encodings)
        else:
            parts.append(_encoded(elem, encodings))
    return parts


def _items_as_read(elem: DataElement) -> bool:
    """Whether every item of a sequence is written as it is: in the encoding and character set it was read
    in, or made here (no original encoding) of elements with a value and an unambiguous VR, which dcmwrite
    encodes as they are too. dcmwrite re-encodes each element of any other item: left to it."""
    for item in elem.value or ():
        if item.original_encoding == (False, True):
            if item.original_character_set != item._character_set:
                return False
        elif item.original_encoding != (None, None) or not all(
            isinstance(e, DataElement) and e.VR not in AMBIGUOUS_VR for e in item._dict.values()
        ):
            return False
    return True


def _sequence_parts(elem: DataElement, encodings: object) -> list[Part]:
    """A sequence as dcmwrite writes it (PS3.5 7.5): each item's elements, then its defined length or an
    item delimiter as it was read; the sequence's own length, or undefined with a delimiter."""
    body: list[Part] = []
    for item in elem.value or ():
        inner = _dataset_parts(item, item.get("SpecificCharacterSet", encodings))
        if getattr(item, "is_undefined_length_sequence_item", False):
            body += [_ITEM_UNDEFINED, *inner, _ITEM_DELIMITER]
        else:
            body += [_ITEM + struct.pack("<L", sum(len(p) for p in inner)), *inner]
    tag = int(elem.tag)
    head = struct.pack("<HH", tag >> 16, tag & 0xFFFF) + b"SQ\0\0"
    if elem.is_undefined_length:
        return [head + b"\xff\xff\xff\xff", *body, _SEQ_DELIMITER]
    return [head + struct.pack("<L", sum(len(p) for p in body)), *body]


def _pixel_data_length(ds: Dataset, compressed: bool) -> None:
    """PS3.5 A.4: encapsulated Pixel Data has undefined length, native a defined one (dcmwrite sets it)."""
    raw = ds.get_item(_PIXEL_DATA) if _PIXEL_DATA in ds else None
    if raw is None or (isinstance(raw, RawDataElement) and _undefined(raw) == compressed):
        return
    ds[_PIXEL_DATA].is_undefined_length = compressed


def _undefined(raw: RawDataElement) -> bool:
    return bool(raw.length == 0xFFFFFFFF)


def _raw_fits(raw: RawDataElement) -> bool:
    """A raw element whose header this writer makes as dcmwrite would: explicit VR, a value that fits
    its length field (longer 2-byte-length values become UN in dcmwrite), even length."""
    vr, value = raw.VR, raw.value
    if vr is None or len(vr) != 2 or raw.is_implicit_VR or not raw.is_little_endian or value is None:
        return False
    if _undefined(raw):
        return raw.tag == _PIXEL_DATA and bytes(value[:4]) == b"\xfe\xff\x00\xe0"
    return vr in _LONG_VRS or len(value) <= 0xFFFF


def _raw_parts(raw: RawDataElement) -> list[Part]:
    tag, vr, value = int(raw.tag), str(raw.VR), raw.value or b""
    head = struct.pack("<HH", tag >> 16, tag & 0xFFFF) + vr.encode("ascii")
    length = 0xFFFFFFFF if _undefined(raw) else len(value)
    head += struct.pack("<HL", 0, length) if vr in _LONG_VRS else struct.pack("<H", length)
    if _undefined(raw):
        return [head, value, _SEQ_DELIMITER]
    return [head, value]


def _text_encoded(elem: DataElement) -> bytes | None:
    """A text element as pydicom's write_string / write_text / write_DA... encode it, when its values are
    ASCII strings (the changed values: UIDs, shifted dates, dummies, emptied ones); None otherwise.
    ASCII is the same bytes in every character set a DICOM file may declare (PS3.5 6.1.2.5: the default
    repertoire is G0 in each), so the character set does not matter for these."""
    vr, value = elem.VR, elem.value
    if vr not in _ASCII_TEXT_VRS:
        return None
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value
    elif isinstance(value, MultiValue) and all(isinstance(v, str) for v in value):
        text = "\\".join(value)
    else:
        return None  # a date object, bytes: pydicom's
    if not text.isascii() or len(text) > 0xFFFE:
        return None
    data = text.encode("ascii")
    if len(data) % 2:
        data += b"\0" if vr == "UI" else b" "
    tag = int(elem.tag)
    head = struct.pack("<HH", tag >> 16, tag & 0xFFFF) + vr.encode("ascii")
    if vr in _LONG_VRS:
        return head + struct.pack("<HL", 0, len(data)) + data
    return head + struct.pack("<H", len(data)) + data


def _encoded(elem: DataElement | RawDataElement, encodings: object) -> bytes:
    if isinstance(elem, DataElement):
        fast = _text_encoded(elem)
        if fast is not None:
            return fast
    buf = DicomBytesIO()
    buf.is_implicit_VR, buf.is_little_endian = False, True
    write_data_element(buf, elem, encodings)  # type: ignore[arg-type]
    return buf.getvalue()
