"""Redacted compressed images stay compressed, losslessly (issue 16; redaction/reencode.py).

Every public compressed test file whose source is re-encoded (all but JPEG baseline), with a region in the
top-left and one in the bottom-right corner: the output is RLE Lossless (RLE sources), JPEG 2000 lossless
(JPEG 2000 sources the encoders take) or JPEG-LS lossless,
labelled as encoded; its pixels equal, sample for sample, what the uncompressed path wrote before (outside
the regions the source's decode, inside the fill); pydicom, DCMTK and GDCM (where installed) decode it;
the size against the source is bounded.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from corpus import data_file, public_headers
from pydicom.uid import UID

import redaction.apply as apply
import redaction.reencode as reencode_module
from redaction.apply import redact_dataset
from redaction.decoded import native_decode
from redaction.j2k_encode import J2K_SOURCES, JPEG_2000_LOSSLESS, fits_j2k, native_j2k
from redaction.rectangles import Rect
from redaction.reencode import (
    JPEG_LS_LOSSLESS,
    REENCODED,
    RLE_LOSSLESS,
    Encoders,
    native_jpeg_ls,
    reencode,
)
from redaction.regions import Region

# Files no decoder here reads (a bad 12-bit scan; a J2K codestream cut by a sequence delimiter; a file cut).
UNDECODABLE = {
    "JPEG-lossy.dcm",
    "JPEG2000-embedded-sequence-delimiter.dcm",
    "emri_small_jpeg_2k_lossless_too_short.dcm",  # cut short: no Pixel Data is read
}


def _read(path: Path) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path)


def _sources() -> list[Path]:
    return [
        path for path, ds in public_headers(REENCODED) if path.name not in UNDECODABLE and "Rows" in ds
    ]


SOURCES = _sources()


def _regions(ds: pydicom.Dataset) -> list[Region]:
    rows, columns = int(ds.Rows), int(ds.Columns)
    w, h = min(9, columns), min(5, rows)
    sop = str(ds.SOPInstanceUID)
    return [Region(Rect(0, 0, w, h), None, sop), Region(Rect(columns - w, rows - h, w, h), None, sop)]


def _write(ds: pydicom.Dataset) -> bytes:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _pixels(data: bytes) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(io.BytesIO(data))
        return ds.pixel_array.reshape(int(ds.get("NumberOfFrames") or 1), ds.Rows, ds.Columns, -1)


def _uncompressed(path: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """The file as the engine wrote it before issue 16: decoded, redacted, uncompressed."""
    ds = _read(path)
    with monkeypatch.context() as m:
        m.setattr(apply, "reencode", lambda *_: None)
        redact_dataset(ds, _regions(ds))
    return _write(ds)


def test_the_public_files_cover_every_lossless_source() -> None:
    kinds = {str(_read(p).file_meta.TransferSyntaxUID) for p in SOURCES}
    assert {RLE_LOSSLESS, JPEG_LS_LOSSLESS, "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.90"} <= kinds
    assert native_jpeg_ls() is not None, "pyjpegls is a dev dependency: JPEG-LS output is tested here"
    assert native_j2k() is not None, "pylibjpeg-openjpeg is a dev dependency: J2K output is tested here"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_redacted_pixels_are_written_compressed_and_lossless(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = _read(path)
    source = str(ds.file_meta.TransferSyntaxUID)
    lossy_before = ds.get("LossyImageCompression")
    decoded = native_decode(ds)
    assert redact_dataset(ds, _regions(ds)) == 2 * decoded.frames
    out = _write(ds)
    written = _read_bytes(out)
    j2k = source in J2K_SOURCES and fits_j2k(written, decoded.photometric)
    expected_ts = RLE_LOSSLESS if source == RLE_LOSSLESS else JPEG_2000_LOSSLESS if j2k else JPEG_LS_LOSSLESS
    assert written.file_meta.TransferSyntaxUID == expected_ts
    colour_j2k = j2k and decoded.samples == 3
    assert written.PhotometricInterpretation == ("YBR_RCT" if colour_j2k else decoded.photometric)
    if decoded.samples > 1:
        assert written.PlanarConfiguration == (1 if expected_ts == RLE_LOSSLESS else 0)
    lossy = source in {"1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.81"} or lossy_before == "01"
    assert written.get("LossyImageCompression") == ("01" if lossy else lossy_before)
    # Sample for sample what the uncompressed path wrote: the source's decode outside, the fill inside.
    before = _pixels(_uncompressed(path, monkeypatch))
    after = _pixels(out)
    assert after.dtype == before.dtype and (after == before).all()
    source_pixels = _pixels(path.read_bytes())
    inside = np.zeros(after.shape, dtype=bool)
    for region in _regions(ds):
        r = region.rect
        inside[:, r.y : r.y + r.height, r.x : r.x + r.width, :] = True
    assert (after[~inside] == source_pixels[~inside]).all()
    for sample in range(after.shape[-1]):
        assert len(np.unique(after[..., sample][inside[..., sample]])) == 1
    ratio = len(out) / path.stat().st_size
    if source != RLE_LOSSLESS and not lossy:
        assert ratio <= 1.3, f"{path.name}: {ratio:.2f}x the source"
    elif source == RLE_LOSSLESS:
        assert ratio <= 1.1, f"{path.name}: {ratio:.2f}x the source"


def _read_bytes(data: bytes) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(io.BytesIO(data))


def test_without_a_jpeg_ls_encoder_lossless_sources_become_rle(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page without CharLS's and OpenJPEG's encoders (or pydicom without them): RLE, still lossless."""
    monkeypatch.setattr(reencode_module, "native_jpeg_ls", lambda: None)
    monkeypatch.setattr(reencode_module, "native_j2k", lambda: None)
    ds = _read(data_file("693_J2KR.dcm"))
    before = _pixels(_uncompressed(data_file("693_J2KR.dcm"), monkeypatch))
    redact_dataset(ds, _regions(ds))
    out = _write(ds)
    assert _read_bytes(out).file_meta.TransferSyntaxUID == RLE_LOSSLESS
    assert (_pixels(out) == before).all()


def test_an_overlay_in_the_high_bits_does_not_survive_re_encoding() -> None:
    """RLE carries every allocated bit: bits outside Bits Stored are cleared before encoding (PS3.5 8.1.1)."""
    ds = _read(data_file("emri_small_RLE.dcm"))  # 16 allocated, 12 stored, unsigned
    ds.PixelData = bytes(native_decode(ds).data)
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ds.PixelData = bytes(b | 0x80 if i % 2 else b for i, b in enumerate(ds.PixelData))  # bit 15 set
    written = reencode(ds, RLE_LOSSLESS, Encoders())
    assert written is not None and written.transfer_syntax == RLE_LOSSLESS
    assert (_pixels(_write(ds)) < 4096).all()


def _tool(*names: str) -> list[str] | None:
    return [shutil.which(n) or "" for n in names] if all(shutil.which(n) for n in names) else None


def _run(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(args, capture_output=True)


# DCMTK's free toolkit has no JPEG 2000 codec: GDCM checks J2K output.
DCMTK = {RLE_LOSSLESS: _tool("dcmdrle"), JPEG_LS_LOSSLESS: _tool("dcmdjpls"), JPEG_2000_LOSSLESS: None}
GDCM = _tool("gdcmconv")


@pytest.mark.parametrize(
    "name",
    [
        "MR_small_RLE.dcm",
        "SC_rgb_rle_16bit_2frame.dcm",
        "OBXXXX1A_rle.dcm",
        "693_J2KR.dcm",
        "SC_rgb_jpeg_gdcm.dcm",
        "emri_small_jpeg_ls_lossless.dcm",
        "J2K_pixelrep_mismatch.dcm",
        "US1_J2KR.dcm",
    ],
)
def test_dcmtk_and_gdcm_decode_the_output_to_the_same_pixels(name: str, tmp_path: Path) -> None:
    ds = _read(data_file(name))
    redact_dataset(ds, _regions(ds))
    out = _write(ds)
    ts = str(_read_bytes(out).file_meta.TransferSyntaxUID)
    (tmp_path / "in.dcm").write_bytes(out)
    tools = [t for t in (DCMTK[ts], GDCM) if t]
    if not tools:
        pytest.skip("neither DCMTK nor GDCM is installed")
    for tool in tools:
        args = [*tool, "--raw"] if tool == GDCM else tool
        if tool == GDCM and _run([*args, str(data_file(name)), str(tmp_path / "source.dcm")]).returncode:
            continue  # GDCM refuses the source itself (a multi-frame Secondary Capture)
        proc = _run([*args, str(tmp_path / "in.dcm"), str(tmp_path / "raw.dcm")])
        assert proc.returncode == 0, proc.stderr
        raw = (tmp_path / "raw.dcm").read_bytes()
        assert not UID(str(_read_bytes(raw).file_meta.TransferSyntaxUID)).is_encapsulated
        assert (_pixels(raw) == _pixels(out)).all(), f"{Path(tool[0]).name} decodes {name} differently"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("693_J2KR.dcm", b"Kakadu-v7.3.3"),  # J2K COM
        ("J2K_pixelrep_mismatch.dcm", b"Creator: JasPer"),  # J2K COM
        ("emri_small_jpeg_2k_lossless.dcm", b"Created by GDCM/OpenJPEG"),
        ("JPGLosslessP14SV1_1s_1f_8b.dcm", b"MITRA_DICOM_STANDARD"),  # JPEG lossless APPn/COM
    ],
)
def test_no_codestream_text_survives(name: str, text: bytes) -> None:
    """The codestreams written are new, made from samples: the source's COM/APP text is not carried over."""
    assert text in data_file(name).read_bytes()
    ds = _read(data_file(name))
    redact_dataset(ds, _regions(ds))
    assert text not in _write(ds)


def _rle_with_overlay() -> tuple[bytes, pydicom.Dataset]:
    """emri_small_RLE (16 allocated, 12 stored, unsigned, 10 frames) with bit 15 set in every pixel of
    frame 1's top 8 rows (text drawn in an embedded overlay), encoded as RLE again without clearing it."""
    from redaction.rle import RleFormat, encode_frame

    ds = _read(data_file("emri_small_RLE.dcm"))
    decoded = native_decode(ds)
    data = bytearray(decoded.data)
    for i in range(8 * ds.Columns):
        data[2 * i + 1] |= 0x80
    fmt = RleFormat(ds.Rows, ds.Columns, 1, 2)
    size = ds.Rows * ds.Columns * 2
    frames = [encode_frame(bytes(data[k * size : (k + 1) * size]), fmt) for k in range(decoded.frames)]
    ds.PixelData = pydicom.encaps.encapsulate(frames, has_bot=True)
    return _write(ds), ds


def test_high_bits_cleared_while_re_encoding_are_said_in_the_plan() -> None:
    """The uncompressed path flagged bits outside Bits Stored (an embedded overlay, PS3.5 8.1.1); the
    re-encoding path clears them too, and the plan says so: the reviewer learns something was hidden."""
    from conftest import TEST_KEY

    from anonymizer.config import Config
    from anonymizer.engine import deidentify
    from redaction.apply import PixelEdit

    data, ds = _rle_with_overlay()
    # A region at the bottom right: the overlay at the top is not under it.
    region = Region(Rect(ds.Columns - 9, ds.Rows - 5, 9, 5), None, str(ds.SOPInstanceUID))
    result = deidentify(data, Config(key=TEST_KEY), pixels=PixelEdit(regions=(region,)))
    written = _read_bytes(result.data)
    assert written.file_meta.TransferSyntaxUID == RLE_LOSSLESS
    assert (_pixels(result.data) < 4096).all()
    pixels = int(ds.Columns) * 8
    assert any(f"{pixels} pixel values had bits set outside Bits Stored" in f for f in result.plan.flags)
    step = next(s for s in result.plan.dataset if s.tag == 0x7FE00010)
    assert step.action == "C" and f"{pixels} pixel values had bits set" in step.rule


def test_sign_extension_is_not_counted_as_hidden_bits() -> None:
    """JPEG-LS codes signed samples as their low Bits Stored bits (the sign extension is dropped before
    encoding): that is not an overlay and raises no flag (MR_small_RLE: signed 16 of 16, then 693_J2KR)."""
    from conftest import TEST_KEY

    from anonymizer.config import Config
    from anonymizer.engine import deidentify
    from redaction.apply import PixelEdit

    for name in ("J2K_pixelrep_mismatch.dcm", "MR_small_RLE.dcm"):
        data = data_file(name).read_bytes()
        ds = _read(data_file(name))
        result = deidentify(data, Config(key=TEST_KEY), pixels=PixelEdit(regions=tuple(_regions(ds))))
        assert not any("outside Bits Stored" in f for f in result.plan.flags), name
