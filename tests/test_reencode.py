"""Redacted compressed images stay compressed, losslessly (issue 16; redaction/reencode.py).

Every public compressed test file whose source is re-encoded (all but JPEG baseline), with a region in the
top-left and one in the bottom-right corner: the output is RLE Lossless (RLE sources) or JPEG-LS lossless,
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
from corpus import data_file, public_files
from pydicom.uid import UID

import redaction.apply as apply
from redaction.apply import redact_dataset
from redaction.decoded import native_decode
from redaction.rectangles import Rect
from redaction.reencode import JPEG_LS_LOSSLESS, REENCODED, RLE_LOSSLESS, native_jpeg_ls, reencode
from redaction.regions import Region

# Files no decoder here reads (a bad 12-bit scan; a J2K codestream cut by a sequence delimiter; a file cut).
UNDECODABLE = {
    "JPEG-lossy.dcm",
    "JPEG2000-embedded-sequence-delimiter.dcm",
    "emri_small_jpeg_2k_lossless_too_short.dcm",  # cut short: no Pixel Data is read
}
# Lossless colour JPEG 2000 (YBR_RCT): J2K decorrelates the colours, JPEG-LS in DICOM may not (PS3.5 A.4.3
# allows no colour transform): 1.71x. Not yet within the goal (a J2K encoder would be).
OVER_GOAL = {"examples_jpeg2k.dcm": 1.75, "US1_J2KR.dcm": 1.75}


def _read(path: Path) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path)


def _sources() -> list[Path]:
    found = []
    for path in public_files():
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:
            continue
        meta = getattr(ds, "file_meta", None)
        ts = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
        if ts in REENCODED and path.name not in UNDECODABLE and "Rows" in ds:
            found.append(path)
    return found


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
    expected_ts = RLE_LOSSLESS if source == RLE_LOSSLESS else JPEG_LS_LOSSLESS
    assert written.file_meta.TransferSyntaxUID == expected_ts
    assert written.PhotometricInterpretation == decoded.photometric
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
        assert ratio <= OVER_GOAL.get(path.name, 1.3), f"{path.name}: {ratio:.2f}x the source"
    elif source == RLE_LOSSLESS:
        assert ratio <= 1.1, f"{path.name}: {ratio:.2f}x the source"


def _read_bytes(data: bytes) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(io.BytesIO(data))


def test_without_a_jpeg_ls_encoder_lossless_sources_become_rle(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page without CharLS's encoder (or pydicom without pyjpegls): RLE, still lossless."""
    monkeypatch.setattr(apply, "native_jpeg_ls", lambda: None)
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
    assert reencode(ds, RLE_LOSSLESS, None) == RLE_LOSSLESS
    assert (_pixels(_write(ds)) < 4096).all()


def _tool(*names: str) -> list[str] | None:
    return [shutil.which(n) or "" for n in names] if all(shutil.which(n) for n in names) else None


def _run(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(args, capture_output=True)


DCMTK = {RLE_LOSSLESS: _tool("dcmdrle"), JPEG_LS_LOSSLESS: _tool("dcmdjpls")}
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
