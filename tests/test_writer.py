"""The writer: kept elements go out as the bytes they came in; everything else as pydicom encodes it."""

from __future__ import annotations

import io

import pydicom
import pytest
from conftest import TEST_KEY
from corpus import file, public_files
from reader_helpers import base_body, el, part10
from synthetic.embedded_overlay import embedded_overlay_ct
from synthetic.jpeg import jpeg_file

from anonymizer.config import Config
from anonymizer.engine import apply_plan, deidentify
from anonymizer.errors import DeidentificationError
from anonymizer.planning.planner import make_plan
from anonymizer.reading.originals import charset_unchanged, restore_kept
from anonymizer.reading.reader import read_dataset
from anonymizer.writer import _fast_transfer_syntax, _pydicom_write, write, write_parts

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
