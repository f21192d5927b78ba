"""Compressed input: decoded natively (pydicom), redacted, written uncompressed and correctly labelled.

Inside each rectangle: the fill value; outside: equal to the decoded original (same decoder, same options).
Since issue 16 the uncompressed result is encoded again losslessly (tests/test_reencode.py); here that step
is off, to test what write_decoded labels.
"""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
from corpus import file
from pydicom.uid import ExplicitVRLittleEndian

import redaction.apply as apply
from redaction.apply import redact_dataset
from redaction.decoded import DecodedPixels, native_decode, write_decoded
from redaction.errors import UnsupportedPixelsError
from redaction.rectangles import Rect
from redaction.regions import Region

# name -> (Lossy Image Compression afterwards, or None: the file's own value stands). JPEG baseline is
# blanked in its codestream, not decoded: tests/test_jpeg_baseline.py.
COMPRESSED = {
    "SC_rgb_jpeg_gdcm.dcm": None,  # JPEG lossless (process 14)
    "JPGExtended.dcm": "01",
    "JPEG2000.dcm": None,
    "MR_small_RLE.dcm": None,
    "SC_rgb_rle_2frame.dcm": None,
    "SC_rgb_rle_16bit_2frame.dcm": None,
    "MR_small_jpeg_ls_lossless.dcm": None,
    "JPEGLSNearLossless_16.dcm": "01",
    "examples_jpeg2k.dcm": None,
}
RECT = Rect(3, 2, 20, 9)


@pytest.fixture(autouse=True)
def _uncompressed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(apply, "reencode", lambda *_: None)


def _write_read(ds: pydicom.Dataset) -> pydicom.Dataset:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return pydicom.dcmread(io.BytesIO(buf.getvalue()))


@pytest.mark.parametrize(("name", "lossy"), COMPRESSED.items())
def test_compressed_input_is_decoded_redacted_and_written_uncompressed(name: str, lossy: str | None) -> None:
    ds = pydicom.dcmread(file(name))
    original_lossy = ds.get("LossyImageCompression")
    decoded = native_decode(ds)
    before = np.frombuffer(
        decoded.data, dtype=f"<{'i' if decoded.signed else 'u'}{decoded.bits_allocated // 8}"
    )
    shape = (decoded.frames, decoded.rows, decoded.columns, decoded.samples)
    before = before.reshape(shape)
    count = redact_dataset(ds, [Region(RECT, None, ds.SOPInstanceUID)])
    assert count == decoded.frames
    out = _write_read(ds)
    assert out.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert out.PhotometricInterpretation == decoded.photometric
    assert out.get("LossyImageCompression") == (lossy or original_lossy)
    after = out.pixel_array.reshape(shape)
    inside = np.zeros(shape, dtype=bool)
    inside[:, RECT.y : RECT.y + RECT.height, RECT.x : RECT.x + RECT.width, :] = True
    if decoded.photometric == "MONOCHROME2":
        expected = -(1 << (decoded.bits_stored - 1)) if decoded.signed else 0
        assert (after[inside] == expected).all()
    elif decoded.photometric == "RGB":
        assert (after[inside] == 0).all()
    assert (after[~inside] == before[~inside]).all()


def test_decoded_pixels_of_the_wrong_size_are_refused() -> None:
    ds = pydicom.dcmread(file("SC_rgb_jpeg_gdcm.dcm"))
    bad = DecodedPixels(b"\0" * 10, 100, 100, 1, 3, 8, 8, False, "RGB")
    with pytest.raises(UnsupportedPixelsError, match="decoded pixels hold 10 bytes"):
        write_decoded(ds, bad)


def test_without_a_decoder_compressed_pixels_are_refused_not_passed_through() -> None:
    ds = pydicom.dcmread(file("SC_rgb_jpeg_gdcm.dcm"))

    def no_decoder(_: object) -> DecodedPixels:
        raise UnsupportedPixelsError("cannot decode 1.2.840.10008.1.2.4.50 here: no numpy")

    with pytest.raises(UnsupportedPixelsError, match="cannot decode"):
        redact_dataset(ds, [Region(RECT, None, ds.SOPInstanceUID)], decode=no_decoder)


def test_a_file_no_decoder_can_read_is_refused() -> None:
    """JPEG-lossy.dcm (12-bit JPEG extended with a bad scan) defeats every decoder installed here."""
    ds = pydicom.dcmread(file("JPEG-lossy.dcm"))
    with pytest.raises(UnsupportedPixelsError, match="cannot decode the pixel data"):
        redact_dataset(ds, [Region(RECT, None, ds.SOPInstanceUID)])
