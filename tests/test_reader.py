"""anonymizer.reader: every public test file reads or is refused with a reason; damage never gets through."""

from __future__ import annotations

import importlib.metadata
import io
import random
import struct
import time
import warnings
import zipfile
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset

from anonymizer.errors import (
    DeidentificationError,
    DicomDirError,
    MalformedDicomError,
    NotDicomError,
    UnsupportedError,
)
from anonymizer.reader import read_dataset
from anonymizer.structure import MAX_DEPTH

PYDICOM_DIR = Path(pydicom.__file__).parent / "data" / "test_files"


def _pydicom_data_dir() -> Path | None:
    """pydicom-data's files, found on disk (never get_testdata_files(): it tries to download and hangs)."""
    try:
        dist = importlib.metadata.distribution("pydicom-data")
    except importlib.metadata.PackageNotFoundError:
        return None
    root = Path(str(dist.locate_file("data_store/data")))
    return root if root.is_dir() else None


def _corpus() -> list[tuple[str, Path]]:
    out = [
        (f"pydicom/{p.relative_to(PYDICOM_DIR).as_posix()}", p) for p in PYDICOM_DIR.rglob("*") if p.is_file()
    ]
    data_dir = _pydicom_data_dir()
    if data_dir is not None:
        out += [
            (f"pydicom-data/{p.relative_to(data_dir).as_posix()}", p)
            for p in data_dir.rglob("*")
            if p.is_file()
        ]
    return sorted(out)


CORPUS = _corpus()
_DICOMDIR = (DicomDirError, "DICOMDIR: holds patient names in its records; never copied")
_NOT_DICOM = (NotDicomError, "not a DICOM file: no 'DICM' marker and no data set found")

# Files that must be refused, with the error type and a part of the reason.
REJECTED: dict[str, tuple[type[DeidentificationError], str]] = {
    # cut short: pixel data / a sequence value runs past the end of the file
    "pydicom/MR_truncated.dcm": (MalformedDicomError, "truncated: element (7FE0,0010) declares 8192 bytes"),
    "pydicom/rtplan_truncated.dcm": (
        MalformedDicomError,
        "truncated: element (300A,00B0) declares 976 bytes",
    ),
    "pydicom-data/emri_small_jpeg_2k_lossless_too_short.dcm": (
        MalformedDicomError,
        "encapsulated value (7FE0,0010) at offset 2340 has no sequence delimiter",
    ),
    # a stray 0x20 byte before (0008,0005): no recognisable data set at the start
    "pydicom/no_meta.dcm": _NOT_DICOM,
    # not DICOM at all
    "pydicom/README.txt": _NOT_DICOM,
    "pydicom/crayons.icc": _NOT_DICOM,
    "pydicom/rtplan.dump": _NOT_DICOM,
    "pydicom/rtstruct.dump": _NOT_DICOM,
    "pydicom/test1.json": _NOT_DICOM,
    "pydicom/test_PN.json": _NOT_DICOM,
    "pydicom/zipMR.gz": _NOT_DICOM,
    "pydicom/dicomdirtests/README.txt": _NOT_DICOM,
    "pydicom/dicomdirtests/TINY_ALPHA/README": _NOT_DICOM,
    # DICOMDIRs
    "pydicom/dicomdirtests/DICOMDIR": _DICOMDIR,
    "pydicom/dicomdirtests/DICOMDIR-bigEnd": _DICOMDIR,
    "pydicom/dicomdirtests/DICOMDIR-empty.dcm": _DICOMDIR,
    "pydicom/dicomdirtests/DICOMDIR-implicit": _DICOMDIR,
    "pydicom/dicomdirtests/DICOMDIR-nooffset": _DICOMDIR,
    "pydicom/dicomdirtests/DICOMDIR-nopatient": _DICOMDIR,
    "pydicom/dicomdirtests/DICOMDIR-reordered": _DICOMDIR,
    "pydicom/dicomdirtests/TINY_ALPHA/DICOMDIR": _DICOMDIR,
}


@pytest.mark.parametrize(("key", "path"), CORPUS, ids=[k for k, _ in CORPUS])
def test_public_file(key: str, path: Path) -> None:
    expected = REJECTED.get(key)
    if expected is None:
        ds = read_dataset(path.read_bytes(), path=key)
        assert len(ds) > 0
        return
    kind, reason = expected
    with pytest.raises(kind) as info:
        read_dataset(path.read_bytes(), path=key)
    assert type(info.value) is kind
    assert reason in info.value.reason
    assert info.value.path == key and key in str(info.value)


def test_rejection_list_is_current() -> None:
    keys = {k for k, _ in CORPUS}
    assert [k for k in REJECTED if k.startswith("pydicom/") and k not in keys] == []
    assert {"pydicom/CT_small.dcm", "pydicom/MR_small_padded.dcm", "pydicom/meta_missing_tsyntax.dcm"} <= keys


def _file(name: str) -> bytes:
    return (PYDICOM_DIR / name).read_bytes()


# --- building files by hand ------------------------------------------------------------------------

EXPLICIT_LE, IMPLICIT_LE = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2"
BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"
_LONG = {b"OB", b"OW", b"OF", b"SQ", b"UN", b"UT", b"UC", b"UR"}
CONTENT_SEQ = (0x0040, 0xA730)
ITEM_DELIM = struct.pack("<HHL", 0xFFFE, 0xE00D, 0)
SEQ_DELIM = struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)


def _pad(value: bytes, fill: bytes = b" ") -> bytes:
    return value + fill if len(value) % 2 else value


def el(group: int, elem: int, vr: bytes, value: bytes) -> bytes:
    """An explicit VR little endian element."""
    if vr in _LONG:
        return struct.pack("<HH2sHL", group, elem, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", group, elem, vr, len(value)) + value


def uid(group: int, elem: int, value: str) -> bytes:
    return el(group, elem, b"UI", _pad(value.encode(), b"\0"))


def part10(body: bytes, ts: str = EXPLICIT_LE, sop: str = BASIC_TEXT_SR) -> bytes:
    meta = el(2, 1, b"OB", b"\0\1") + uid(2, 2, sop) + uid(2, 3, "1.2.3.4") + uid(2, 0x10, ts)
    return b"\0" * 128 + b"DICM" + el(2, 0, b"UL", struct.pack("<L", len(meta))) + meta + body


def base_body(sop: str = BASIC_TEXT_SR) -> bytes:
    return uid(8, 0x16, sop) + uid(8, 0x18, "1.2.3.4") + el(0x10, 0x10, b"PN", b"Doe^John")


def sq_undefined(
    tag: tuple[int, int], items: list[bytes], delimit_last_item: bool = True, delimit: bool = True
) -> bytes:
    out = struct.pack("<HH2sHL", *tag, b"SQ", 0, 0xFFFFFFFF)
    for i, item in enumerate(items):
        closed = delimit_last_item or i < len(items) - 1
        out += struct.pack("<HHL", 0xFFFE, 0xE000, 0xFFFFFFFF) + item + (ITEM_DELIM if closed else b"")
    return out + (SEQ_DELIM if delimit else b"")


def nested_undefined(levels: int, implicit: bool = False) -> bytes:
    """`levels` sequences, each the only element of the one item of the sequence around it."""
    if implicit:
        head = struct.pack("<HHL", *CONTENT_SEQ, 0xFFFFFFFF)
    else:
        head = struct.pack("<HH2sHL", *CONTENT_SEQ, b"SQ", 0, 0xFFFFFFFF)
    item = struct.pack("<HHL", 0xFFFE, 0xE000, 0xFFFFFFFF)
    return (head + item) * levels + (ITEM_DELIM + SEQ_DELIM) * levels


def nested_defined(levels: int) -> bytes:
    content = b""
    for _ in range(levels):
        item = struct.pack("<HHL", 0xFFFE, 0xE000, len(content)) + content
        content = struct.pack("<HH2sHL", *CONTENT_SEQ, b"SQ", 0, len(item)) + item
    return content


def _reject(data: bytes, kind: type[DeidentificationError], *parts: str) -> DeidentificationError:
    with pytest.raises(kind) as info:
        read_dataset(data, path="x.dcm")
    assert type(info.value) is kind
    for part in parts:
        assert part in info.value.reason, info.value.reason
    assert info.value.path == "x.dcm"
    return info.value


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
            assert "truncated" in exc.reason or "delimiter" in exc.reason, f"cut at {cut}: {exc.reason}"
            continue
        # A cut exactly between two top-level elements leaves a shorter file that is well-formed in
        # every byte; no structural check can see it. Then what was read must be whole elements only.
        assert _leading_whole_elements(part, full), f"cut at {cut} accepted"
        between += 1
    assert between * 8 < len(cuts)
    last = _reject(data[:-1], MalformedDicomError)
    assert "truncated" in last.reason or "delimiter" in last.reason


def test_cut_inside_preamble_is_not_dicom() -> None:
    data = _file("CT_small.dcm")
    for cut in (1, 64, 128, 131):
        _reject(data[:cut], NotDicomError, "not a DICOM file")


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
        bytes(data), MalformedDicomError, f"truncated: element (7FE0,0010) declares {2 * len(data)} bytes"
    )

    data = bytearray(_file("CT_small.dcm"))
    name = data.find(b"\x10\x00\x10\x00PN")
    data[name + 6 : name + 8] = struct.pack("<H", 0xFFF0)
    _reject(bytes(data), MalformedDicomError, "truncated: element (0010,0010) declares 65520 bytes at offset")


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
        "truncated: element (0040,A160) declares 40 bytes",
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


# --- VRs, transfer syntaxes ------------------------------------------------------------------------


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


def _with_transfer_syntax(value: bytes) -> bytes:
    data = _file("CT_small.dcm")
    old = b"1.2.840.10008.1.2.1\x00"
    assert len(value) == len(old) and data.count(old) == 1
    return data.replace(old, value)


def test_unknown_transfer_syntax() -> None:
    _reject(
        _with_transfer_syntax(b"1.2.3".ljust(20, b"\0")), UnsupportedError, "unknown transfer syntax 1.2.3"
    )
    _reject(_with_transfer_syntax(b"1.2.840.10008.1.2.77"), UnsupportedError, "unknown transfer syntax")


def test_malformed_transfer_syntax() -> None:
    _reject(
        _with_transfer_syntax(b"1.2.840.10008.1.2.x\0"), MalformedDicomError, "malformed transfer syntax UID"
    )
    _reject(
        _with_transfer_syntax(b"1.2.840.10008.01.2\0\0"), MalformedDicomError, "malformed transfer syntax UID"
    )


def test_missing_transfer_syntax_is_inferred() -> None:
    ds = read_dataset(_file("meta_missing_tsyntax.dcm"))
    assert "TransferSyntaxUID" not in ds.file_meta and "PixelData" in ds


def test_files_without_preamble() -> None:
    for name in ("ExplVR_LitEndNoMeta.dcm", "ExplVR_BigEndNoMeta.dcm"):
        assert len(read_dataset(_file(name))) > 5
    no_preamble = _file("CT_small.dcm")[132:]  # starts with the file meta group
    assert read_dataset(no_preamble).PatientName == read_dataset(_file("CT_small.dcm")).PatientName


def test_implicit_vr_data_set_under_explicit_transfer_syntax_reads_like_pydicom() -> None:
    ds = read_dataset(_file("SC_rgb_jpeg.dcm"))  # declares JPEG Baseline, data set is implicit VR
    assert ds.Rows > 0


def test_deflated() -> None:
    data = _file("image_dfl.dcm")
    assert read_dataset(data).Rows > 0
    bad_trailer = data[:-1] + bytes([data[-1] ^ 0xFF])
    _reject(bad_trailer, MalformedDicomError, "deflated data set does not match the CRC-32")
    middle = len(data) // 2
    corrupt = data[:middle] + bytes([data[middle] ^ 0x55]) + data[middle + 1 :]
    _reject(corrupt, MalformedDicomError, "deflated data set")


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


# --- not DICOM, DICOMDIR ---------------------------------------------------------------------------


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("CT_small.dcm", _file("CT_small.dcm"))
    return buf.getvalue()


_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.mark.parametrize(
    "data",
    [b"", b"x", b"Patient: Doe^John\n" * 20, _PNG, _PNG + bytes(200), b"%PDF-1.4\n" + bytes(300)],
    ids=["empty", "one-byte", "text", "png", "png-padded", "pdf"],
)
def test_not_dicom(data: bytes) -> None:
    _reject(data, NotDicomError, "not a DICOM file")


def test_zip_and_random_bytes_are_not_dicom() -> None:
    _reject(_zip_bytes(), NotDicomError, "not a DICOM file")
    rnd = random.Random(7)
    for _ in range(20):
        _reject(bytes(rnd.randrange(256) for _ in range(600)), NotDicomError, "not a DICOM file")


def test_empty_file_says_so() -> None:
    _reject(b"", NotDicomError, "not a DICOM file: empty file")


def test_dicomdir_by_sop_class_or_records() -> None:
    _reject(part10(base_body(), sop="1.2.840.10008.1.3.10"), DicomDirError, "DICOMDIR")
    records = sq_undefined((0x0004, 0x1220), [el(0x0004, 0x1430, b"CS", b"PATIENT ")])
    _reject(part10(base_body() + records), DicomDirError, "DICOMDIR: holds patient names")


def test_no_data_set_after_meta() -> None:
    _reject(part10(b""), MalformedDicomError, "no data set after the file meta information")


# --- warnings and paths ----------------------------------------------------------------------------


def test_content_warnings_do_not_reject_and_do_not_escape() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = read_dataset(_file("badVR.dcm"))  # invalid IS and UI values: content, not structure
    assert len(ds) > 0


def test_errors_carry_the_path() -> None:
    with pytest.raises(MalformedDicomError) as info:
        read_dataset(_file("MR_truncated.dcm"), path="dir/MR_truncated.dcm")
    assert info.value.path == "dir/MR_truncated.dcm"
    assert str(info.value).startswith("dir/MR_truncated.dcm: truncated")
    with pytest.raises(NotDicomError) as not_dicom:
        read_dataset(b"")
    assert not_dicom.value.path is None


def test_random_damage_gives_typed_errors_only() -> None:
    """Byte flips in the headers: the result is a data set or a typed error, never anything else."""
    rnd = random.Random(1234)
    names = [
        "CT_small.dcm",
        "MR_small_implicit.dcm",
        "JPEG2000.dcm",
        "test-SR.dcm",
        "rtplan.dcm",
        "image_dfl.dcm",
    ]
    originals = {name: _file(name) for name in names}
    for _ in range(300):
        data = bytearray(originals[rnd.choice(names)])
        for _ in range(rnd.randint(1, 3)):
            data[rnd.randrange(min(len(data), 2500))] = rnd.choice(
                [0x00, 0xFF, 0xFE, 0xE0, 0xDD, rnd.randrange(256)]
            )
        try:
            read_dataset(bytes(data))
        except DeidentificationError as exc:
            assert exc.reason


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
