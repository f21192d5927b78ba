"""anonymizer.reading.reader on the file as a whole: DICOM or not, DICOMDIR, preamble and file meta, the
transfer
syntax (unknown, malformed, missing, implicit VR under an explicit one, deflated).
"""

from __future__ import annotations

import io
import random
import zipfile

import pytest
from reader_helpers import _file, _reject, base_body, deflate_bomb, el, part10, sq_undefined

from anonymizer.errors import DicomDirError, MalformedDicomError, NotDicomError, UnsupportedError
from anonymizer.reading.reader import read_dataset

# --- transfer syntaxes -----------------------------------------------------------------------------


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


# --- not DICOM, DICOMDIR ---------------------------------------------------------------------------


def test_cut_inside_preamble_is_not_dicom() -> None:
    data = _file("CT_small.dcm")
    for cut in (1, 64, 128, 131):
        _reject(data[:cut], NotDicomError, "not a DICOM file")


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


def test_a_deflate_bomb_is_refused_at_the_inflation_bound() -> None:
    """A few hundred kB that inflate to hundreds of MB (issue 13: 65 KB became 142 MB in the server's
    re-check): the caller's `max_inflated` bound refuses it with a reason, before the memory is spent."""
    bomb = deflate_bomb(64 << 20)
    assert len(bomb) < 100_000
    with pytest.raises(UnsupportedError) as info:
        read_dataset(bomb, path="x.dcm", max_inflated=1 << 20)
    assert "inflates to more than 1048576 bytes" in info.value.reason and info.value.path == "x.dcm"
    small = deflate_bomb(1000)
    assert len(read_dataset(small, max_inflated=1 << 20).EncapsulatedDocument) == 1000
