"""The writer: kept elements go out as the bytes they came in; everything else as pydicom encodes it."""

from __future__ import annotations

import io
import struct
import tracemalloc

import pydicom
import pytest
from conftest import TEST_KEY
from corpus import file, public_files
from pydicom import filewriter
from pydicom.valuerep import VR
from reader_helpers import base_body, el, part10
from synthetic.embedded_overlay import embedded_overlay_ct
from synthetic.jpeg import jpeg_file

from anonymizer.config import Config
from anonymizer.engine import apply_plan, deidentify
from anonymizer.errors import DeidentificationError
from anonymizer.planning.planner import make_plan
from anonymizer.reading import reader
from anonymizer.reading.originals import charset_unchanged, restore_kept
from anonymizer.reading.reader import read_dataset
from anonymizer.writer import _fast_transfer_syntax, _pydicom_write, write, write_parts
from redaction import high_bits
from redaction.apply import PixelEdit
from redaction.rectangles import Rect
from redaction.regions import Region

CONFIG = Config(key=TEST_KEY)
CT = "1.2.840.10008.5.1.4.1.1.2"
IMAGE_TYPE = 0x00080008
# A kept value whose bytes pydicom would not write back as they are: two trailing spaces.
ODD_SPACING = b"ORIGINAL\\PRIMARY\\AXIAL  "


def _planned(data: bytes) -> pydicom.FileDataset:
    ds = read_dataset(data)
    apply_plan(ds, make_plan(ds, CONFIG))
    return ds


def _inputs() -> list[tuple[str, bytes]]:
    files = [(p.name, p.read_bytes()) for p in public_files()[::6]]
    return [*files, ("overlay", embedded_overlay_ct()[0]), ("jpeg", jpeg_file(0).data)]


@pytest.mark.parametrize(("name", "data"), _inputs(), ids=[n for n, _ in _inputs()])
def test_same_bytes_as_dcmwrite(name: str, data: bytes) -> None:
    """Whatever path the writer takes, the file is byte for byte what pydicom's dcmwrite makes of it."""
    try:
        ds = _planned(data)
    except DeidentificationError:
        pytest.skip("refused: nothing is written")
    assert write(ds) == _pydicom_write(ds)


def test_kept_element_written_as_read() -> None:
    body = base_body(CT) + el(8, 8, b"CS", ODD_SPACING) + el(0x28, 0x10, b"US", b"\x02\x00")
    out = deidentify(part10(body, sop=CT), CONFIG).data
    assert el(8, 8, b"CS", ODD_SPACING) in out
    assert el(0x28, 0x10, b"US", b"\x02\x00") in out
    assert list(pydicom.dcmread(io.BytesIO(out)).ImageType) == ["ORIGINAL", "PRIMARY", "AXIAL"]


def test_changed_element_not_restored() -> None:
    """An element given another value after reading (a redaction, a plan step) keeps that value."""
    ds = read_dataset(part10(base_body(CT) + el(8, 8, b"CS", ODD_SPACING), sop=CT))
    ds.ImageType = ["DERIVED", "SECONDARY"]
    assert not restore_kept(ds, IMAGE_TYPE)
    assert list(pydicom.dcmread(io.BytesIO(write(ds))).ImageType) == ["DERIVED", "SECONDARY"]


def test_redacted_pixels_written_redacted() -> None:
    ds = read_dataset(embedded_overlay_ct()[0])
    ds.PixelData = bytes(len(ds.PixelData))  # as redaction does: a new value
    apply_plan(ds, make_plan(ds, CONFIG))
    assert pydicom.dcmread(io.BytesIO(write(ds))).PixelData == bytes(len(ds.PixelData))


def test_charset_change_stops_raw_text() -> None:
    """Kept text goes out as read only in the character set it was read in (PS3.5 6.1.2.5)."""
    body = el(8, 5, b"CS", b"ISO_IR 100") + base_body(CT)
    ds = read_dataset(part10(body, sop=CT))
    assert charset_unchanged(ds)
    ds.SpecificCharacterSet = "ISO_IR 192"
    assert not charset_unchanged(ds)


def test_fast_path_not_for_implicit_or_big_endian() -> None:
    for ts in ("1.2.840.10008.1.2", "1.2.840.10008.1.2.2"):
        ds = pydicom.Dataset()
        ds.file_meta = pydicom.dataset.FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ts
        ds.preamble = b"\0" * 128
        assert _fast_transfer_syntax(ds) is None  # type: ignore[arg-type]


def test_pixel_data_not_copied() -> None:
    """The written parts hold the data set's own Pixel Data bytes: a large file is not copied to be
    written (peak memory), and Result.data is those parts joined."""
    data = file("CT_small.dcm").read_bytes()
    ds = _planned(data)
    pixels = ds.get_item(0x7FE00010).value
    assert any(part is pixels for part in write_parts(ds))
    result = deidentify(data, CONFIG)
    assert result.data == b"".join(result.parts) and result.size == len(result.data)


# -- a large Pixel Data goes from the input to the output uncopied (issue 15: peak memory) ---------------
def _large_image() -> bytes:
    from test_reader import _image

    return _image(1024)  # 2 MiB of pixels: above reader.VIEW_AT_LEAST


def test_large_pixel_data_written_uncopied(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _large_image()
    result = deidentify(data, CONFIG)
    assert any(isinstance(p, memoryview) and p.obj is data for p in result.parts)
    monkeypatch.setattr(reader, "VIEW_AT_LEAST", 1 << 40)  # pydicom's copy, as before
    copied = deidentify(data, CONFIG)
    assert not any(isinstance(p, memoryview) for p in copied.parts)
    assert result.data == copied.data
    assert result.plan.to_json() == copied.plan.to_json()


def test_large_file_held_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Peak memory <= 1.5x the file (issue 15): the input is the only copy of its Pixel Data (the check
    of the bits outside Bits Stored copies one chunk at a time, and the whole only when bits are set)."""
    monkeypatch.setattr(high_bits, "_CHUNK", 1 << 16)
    data = _large_image()
    deidentify(data, CONFIG)  # warm caches (tables, dictionaries)
    tracemalloc.start()
    try:
        result = deidentify(data, CONFIG)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.size > len(data) - 4096
    assert peak < len(data) // 4


def test_viewed_pixels_redacted_input_untouched() -> None:
    data = _large_image()
    before = bytes(data)
    edit = PixelEdit(regions=(Region(Rect(0, 0, 16, 4)),))
    out = pydicom.dcmread(io.BytesIO(deidentify(data, CONFIG, pixels=edit).data))
    assert data == before
    assert not out.pixel_array[:4, :16].any() and out.pixel_array[4:, :].any()


# -- sequences: items and their elements written here, as dcmwrite writes them --------------------------
def _with_sequences() -> bytes:
    from reader_helpers import sq_undefined

    spacing = el(0x28, 0x30, b"DS", b"0.5\\0.5 ") + el(0x18, 0x50, b"DS", b"1.25")
    measures = sq_undefined((0x28, 0x9110), [spacing, spacing])  # undefined lengths, two items
    item = measures + el(0x28, 0x9145, b"CS", b"IDENTITY")  # odd spelling kept as read
    shared = struct.pack("<HHL", 0xFFFE, 0xE000, len(item)) + item  # defined-length item
    code = el(8, 0x100, b"SH", b"T-D3000 ") + el(8, 0x102, b"SH", b"SRT ") + el(8, 0x104, b"LO", b"Chest ")
    anatomy = sq_undefined((8, 0x2218), [code])
    body = base_body(CT) + anatomy + el(0x5200, 0x9229, b"SQ", shared)
    return part10(body, sop=CT)


def test_sequences_same_bytes_as_dcmwrite(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kept sequences (defined and undefined lengths, nested) and the marks' new one are written here, byte
    for byte as dcmwrite writes them."""
    ds = _planned(_with_sequences())
    assert all(isinstance(ds.get_item(t), pydicom.DataElement) for t in (0x00082218, 0x52009229))
    assert isinstance(ds.get_item(0x00120064), pydicom.DataElement)  # the marks: items made here

    def not_pydicom(*_: object, **__: object) -> None:
        raise AssertionError("a kept sequence was encoded by pydicom")

    monkeypatch.setitem(filewriter.writers, VR.SQ, (not_pydicom, None))
    got = write(ds)
    monkeypatch.undo()
    assert got == _pydicom_write(ds)
    assert b"0.5\\0.5 " in got and b"IDENTITY" in got


_TEXT_CASES = [
    ("UI", "1.2.840.10008.5.1.4.1.1.2"),  # odd: padded with \0
    ("UI", ["1.2.3", "1.2.34"]),
    ("DA", "20260102"),
    ("DA", ["20260102", "19991231"]),
    ("TM", "101010.5"),
    ("CS", "YES"),
    ("CS", ["ORIGINAL", "PRIMARY", ""]),
    ("LO", "Pacsbin Uploader"),
    ("LO", ""),
    ("LO", None),
    ("SH", "ANONYMIZED"),
    ("LT", "line one\r\nline two "),
    ("UT", "x" * 70001),  # a 4-byte length
    ("UC", ["a", "bc"]),
    ("AS", "045Y"),
    ("LO", "Müller"),  # not ASCII: pydicom's, in the data set's character set
    ("PN", "Doe^John"),  # PN: pydicom's
]


@pytest.mark.parametrize(("vr", "value"), _TEXT_CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(_TEXT_CASES)])
@pytest.mark.parametrize("charset", [None, "ISO_IR 100", "ISO_IR 192", ["", "ISO 2022 IR 87"]])
def test_changed_text_same_bytes_as_pydicom(vr: str, value: object, charset: object) -> None:
    from anonymizer.writer import _encoded

    ds = pydicom.Dataset()
    ds.add_new(0x00091010 if vr == "UC" else 0x00101010, vr, value)  # any tag: the VR decides
    elem = ds[0x00091010 if vr == "UC" else 0x00101010]
    buf = filewriter.DicomBytesIO()
    buf.is_implicit_VR, buf.is_little_endian = False, True
    filewriter.write_data_element(buf, elem, charset)  # type: ignore[arg-type]
    assert _encoded(elem, charset) == buf.getvalue()
