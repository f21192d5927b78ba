"""anonymizer.reading.structure, the structural walk, through read_dataset: values and headers cut short,
missing
or stray delimiters, invalid VRs, trailing bytes, nesting depth and private sequences are refused with a
reason.
"""

from __future__ import annotations

import struct
import time

import pytest
from pydicom.dataset import Dataset
from reader_helpers import (
    BASIC_TEXT_SR,
    CONTENT_SEQ,
    IMPLICIT_LE,
    ITEM_DELIM,
    SEQ_DELIM,
    _file,
    _pad,
    _reject,
    base_body,
    el,
    nested_defined,
    nested_undefined,
    part10,
    sq_undefined,
)

from anonymizer.errors import INCOMPLETE, MalformedDicomError
from anonymizer.reading.reader import read_dataset
from anonymizer.reading.structure import MAX_DEPTH


def test_hand_built_file_reads() -> None:
    item = el(0x0040, 0xA160, b"UT", b"some text ")
    ds = read_dataset(part10(base_body() + sq_undefined(CONTENT_SEQ, [item, item])))
    assert ds.PatientName == "Doe^John" and len(ds.ContentSequence) == 2


# --- truncation ------------------------------------------------------------------------------------

# explicit LE; encapsulated with undefined-length sequences; implicit; deflated; big endian; RLE;
# an SEG with many undefined-length sequences; implicit VR with private undefined-length sequences
TRUNCATED = [
    "CT_small.dcm",
    "JPEG2000.dcm",
    "MR_small_implicit.dcm",
    "image_dfl.dcm",
    "MR_small_bigendian.dcm",
    "SC_rgb_rle.dcm",
    "liver_1frame.dcm",
    "nested_priv_SQ.dcm",
]


def _cuts(size: int) -> list[int]:
    """Every 1/50th of the file after the preamble, a few cuts inside the file meta, and the last byte."""
    return sorted({132 + (size - 132) * k // 50 for k in range(1, 50)} | {133, 140, 150, 200, size - 1})


def _leading_whole_elements(part: Dataset, full: Dataset) -> bool:
    """Whether `part` holds the first elements of `full`, each complete and equal, and fewer of them."""
    keys, all_keys = list(part.keys()), list(full.keys())
    return (
        part.file_meta == full.file_meta
        and 0 < len(keys) < len(all_keys)
        and keys == all_keys[: len(keys)]
        and all(part[k] == full[k] for k in keys)
    )


@pytest.mark.parametrize("name", TRUNCATED)
def test_truncated_anywhere_is_malformed(name: str) -> None:
    data = _file(name)
    full = read_dataset(data)
    cuts = _cuts(len(data))
    between = 0
    for cut in cuts:
        try:
            part = read_dataset(data[:cut], path=name)
        except MalformedDicomError as exc:
            assert exc.reason.startswith("the file is incomplete"), f"cut at {cut}: {exc.reason}"
            continue
        # A cut exactly between two top-level elements leaves a shorter file that is well-formed in
        # every byte; no structural check can see it. Then what was read must be whole elements only.
        assert _leading_whole_elements(part, full), f"cut at {cut} accepted"
        between += 1
    assert between * 8 < len(cuts)
    last = _reject(data[:-1], MalformedDicomError)
    assert last.reason.startswith("the file is incomplete"), last.reason


def test_cut_between_elements_is_not_detectable() -> None:
    """The known limit: without its last element the file is still well-formed, so it reads."""
    data = _file("CT_small.dcm")
    pixels = data.find(b"\xe0\x7f\x10\x00OW")
    ds = read_dataset(data[:pixels])
    assert "PixelData" not in ds and _leading_whole_elements(ds, read_dataset(data))


def test_length_running_past_the_end() -> None:
    data = bytearray(_file("CT_small.dcm"))
    pixels = data.find(b"\xe0\x7f\x10\x00OW")
    data[pixels + 8 : pixels + 12] = struct.pack("<L", 2 * len(data))
    _reject(
        bytes(data),
        MalformedDicomError,
        f"{INCOMPLETE}: element (7FE0,0010) declares {2 * len(data)} bytes",
    )

    data = bytearray(_file("CT_small.dcm"))
    name = data.find(b"\x10\x00\x10\x00PN")
    data[name + 6 : name + 8] = struct.pack("<H", 0xFFF0)
    _reject(
        bytes(data),
        MalformedDicomError,
        f"{INCOMPLETE}: element (0010,0010) declares 65520 bytes at offset",
    )


def test_element_running_past_its_item() -> None:
    inner = el(0x0040, 0xA160, b"UT", b"text")
    item = struct.pack("<HHL", 0xFFFE, 0xE000, len(inner)) + inner
    seq = struct.pack("<HH2sHL", *CONTENT_SEQ, b"SQ", 0, len(item)) + item
    bad = bytearray(seq)
    bad[-8:-4] = struct.pack("<L", 40)  # the UT value now claims more than its item holds
    data = part10(base_body() + bytes(bad) + el(0x0040, 0xA040, b"CS", b"TEXT"))
    _reject(
        data,
        MalformedDicomError,
        f"{INCOMPLETE}: element (0040,A160) declares 40 bytes",
        "of the sequence (0040,A730)",
    )


def test_missing_sequence_delimiter_at_eof() -> None:
    item = el(0x0040, 0xA160, b"UT", b"text")
    data = part10(base_body() + sq_undefined(CONTENT_SEQ, [item], delimit=False))
    _reject(
        data, MalformedDicomError, "sequence (0040,A730) at offset", "has no sequence delimiter (FFFE,E0DD)"
    )


def test_missing_item_delimiter_at_eof() -> None:
    item = el(0x0040, 0xA160, b"UT", b"text")
    data = part10(base_body() + sq_undefined(CONTENT_SEQ, [item], delimit_last_item=False, delimit=False))
    _reject(
        data, MalformedDicomError, "sequence (0040,A730) item at offset", "has no item delimiter (FFFE,E00D)"
    )


def test_encapsulated_pixel_data_without_delimiter() -> None:
    data = _file("JPEG2000.dcm")
    assert data[-8:] == SEQ_DELIM
    _reject(
        data[:-8], MalformedDicomError, "encapsulated value (7FE0,0010) at offset", "no sequence delimiter"
    )


def test_encapsulated_fragment_of_undefined_length() -> None:
    data = bytearray(_file("JPEG2000.dcm"))
    pixels = data.find(b"\xe0\x7f\x10\x00OB\x00\x00\xff\xff\xff\xff")
    data[pixels + 16 : pixels + 20] = b"\xff\xff\xff\xff"  # the Basic Offset Table item
    _reject(bytes(data), MalformedDicomError, "fragment at offset", "declares undefined length")


def test_stray_delimiter_in_data_set() -> None:
    data = _file("CT_small.dcm")
    pixels = data.find(b"\xe0\x7f\x10\x00OW")
    _reject(data[:pixels] + ITEM_DELIM + data[pixels:], MalformedDicomError, "unexpected (FFFE,E00D)")


def test_trailing_bytes() -> None:
    data = _file("CT_small.dcm")
    assert read_dataset(data + b"\0\0\0") is not None  # padding shorter than an element header
    _reject(data + b"\x01", MalformedDicomError, "not a whole element header")
    _reject(data + b"JUNKJUNKJUNK", MalformedDicomError)
    assert "PixelData" in read_dataset(_file("MR_small_padded.dcm"))  # (FFFC,FFFC) padding element


# --- VRs -------------------------------------------------------------------------------------------


def test_invalid_vr() -> None:
    data = bytearray(_file("CT_small.dcm"))
    name = data.find(b"\x10\x00\x10\x00PN")
    data[name + 4 : name + 6] = b"ZZ"
    _reject(bytes(data), MalformedDicomError, f"element (0010,0010) at offset {name} has invalid VR 'ZZ'")
    data[name + 4 : name + 6] = b"\x00\x01"
    _reject(bytes(data), MalformedDicomError, "has invalid VR '0x00 0x01'")


def test_invalid_vr_in_file_meta() -> None:
    data = bytearray(_file("CT_small.dcm"))
    ts = data.find(b"\x02\x00\x10\x00UI")
    data[ts + 4 : ts + 6] = b"ZZ"
    _reject(bytes(data), MalformedDicomError, "element (0002,0010)", "invalid VR 'ZZ'")


# --- nesting ---------------------------------------------------------------------------------------


def test_nesting_at_the_limit_reads() -> None:
    ds = read_dataset(part10(base_body() + nested_undefined(MAX_DEPTH)))
    depth, current = 0, ds
    while "ContentSequence" in current:
        current, depth = current.ContentSequence[0], depth + 1
    assert depth == MAX_DEPTH


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 100, 10_000])
@pytest.mark.parametrize("kind", ["undefined", "defined", "implicit"])
def test_deep_nesting(levels: int, kind: str) -> None:
    if kind == "defined":
        data = part10(base_body() + nested_defined(levels))
    elif kind == "implicit":
        body = struct.pack("<HHL", 8, 0x16, 30) + _pad(BASIC_TEXT_SR.encode(), b"\0")
        data = part10(body + nested_undefined(levels, implicit=True), ts=IMPLICIT_LE)
    else:
        data = part10(base_body() + nested_undefined(levels))
    _reject(
        data, MalformedDicomError, "nesting deeper than 64 sequence levels: sequence (0040,A730) at offset"
    )


def test_deep_nesting_is_rejected_fast() -> None:
    data = part10(base_body() + nested_undefined(1000))
    start = time.perf_counter()
    _reject(data, MalformedDicomError, "nesting deeper than 64")
    assert time.perf_counter() - start < 0.5


# --- private sequences -----------------------------------------------------------------------------


def _implicit(group: int, elem: int, value: bytes) -> bytes:
    return struct.pack("<HHL", group, elem, len(value)) + value


def _private_sequence_file(item_length: int) -> bytes:
    """Implicit VR: a defined-length private element that pydicom's private dictionary calls a sequence."""
    inner = _implicit(0x0008, 0x0100, b"CODE01")
    value = struct.pack("<HHL", 0xFFFE, 0xE000, item_length) + inner
    body = (
        _implicit(0x0008, 0x0016, _pad(BASIC_TEXT_SR.encode(), b"\0"))
        + _implicit(0x3101, 0x0010, b"AMI Annotations_01")
        + _implicit(0x3101, 0x1010, value)
    )
    return part10(body, ts=IMPLICIT_LE)


def test_private_sequence_from_private_dictionary() -> None:
    ds = read_dataset(_private_sequence_file(14))
    assert ds[0x31011010].VR == "SQ" and ds[0x31011010].value[0].CodeValue == "CODE01"
    # pydicom alone would read the cut-short item silently; the walker looks the private VR up too
    _reject(
        _private_sequence_file(100),
        MalformedDicomError,
        "sequence (3101,1010) item at offset",
        "declares 100",
    )
