"""Text hidden in compressed pixel data (JPEG COM/APPn, JPEG-LS, JPEG 2000 COM, JP2 boxes) is removed."""

from __future__ import annotations

import io
import re
import struct

import numpy as np
import openjpeg
import pytest
from codestream_helpers import GOOD_JPEG, PLANTED, TEST_FILES, _com, _frames, _jpeg, _plant_jpeg, _read
from PIL import Image

from anonymizer.codestream.codestream_text import strip_j2k_text, strip_jpeg_text
from anonymizer.errors import UnsupportedError


# ---------------------------------------------------------------------------------------- DICOM corpus
def test_jpegls_entropy_stuffing_rule() -> None:
    """JPEG-LS data holds 0xFF followed by bytes < 0x80 (JPEG 10918 would read markers there)."""
    ds = _read(TEST_FILES / "SC_rgb_jls_lossy_sample.dcm")
    frame = _frames(ds)[0]
    assert re.search(rb"\xff[\x01-\x7f]", frame)
    new, removed = strip_jpeg_text(_plant_jpeg(frame))
    assert PLANTED not in new and new == strip_jpeg_text(frame)[0]


# ---------------------------------------------------------------------------------------- Pillow JPEGs
def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x013B] = "Dr Jones"  # Artist
    exif[0x010E] = "DOE^JANE 12345678"  # ImageDescription
    exif[0x0132] = "2024:01:02 03:04:05"  # DateTime
    return exif


def _decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


PILLOW_CASES = {
    "baseline-rgb": ("RGB", {}),
    "baseline-gray": ("L", {}),
    "progressive": ("RGB", {"progressive": True}),
    "progressive-444": ("RGB", {"progressive": True, "subsampling": 0}),
    "optimized-restarts": ("RGB", {"optimize": True, "restart_marker_blocks": 3}),
    "cmyk-adobe": ("CMYK", {}),
}


@pytest.mark.parametrize("case", list(PILLOW_CASES))
def test_pillow_comment_and_exif(case: str) -> None:
    mode, options = PILLOW_CASES[case]
    plain = _jpeg(mode, **options)
    tagged = _jpeg(mode, comment=b"PATIENT Smith", exif=_exif(), **options)
    assert b"PATIENT Smith" in tagged and b"Dr Jones" in tagged
    new, removed = strip_jpeg_text(tagged)
    assert new == plain  # exactly the COM and APP1 segments went, every other byte is the same
    assert any(r.startswith("COM (") for r in removed) and any(r.startswith("APP1 Exif (") for r in removed)
    assert np.array_equal(_decode(new), _decode(tagged))
    if mode == "CMYK":
        assert b"Adobe" in new  # colour transform kept
    assert strip_jpeg_text(plain) == (plain, []) and strip_jpeg_text(plain)[0] is plain


@pytest.mark.parametrize("case", ["progressive", "progressive-444", "optimized-restarts"])
def test_com_between_scans(case: str) -> None:
    mode, options = PILLOW_CASES[case]
    plain = _jpeg(mode, **options)
    sos2 = plain.index(b"\xff\xda", plain.index(b"\xff\xda") + 2) if options.get("progressive") else -2
    planted = plain[:sos2] + _com() + plain[sos2:]
    new, removed = strip_jpeg_text(planted)
    assert new == plain and removed == [f"COM ({len(_com())} bytes)"]


def test_icc_profile_kept_xmp_dropped() -> None:
    icc = (TEST_FILES / "crayons.icc").read_bytes()
    plain = _jpeg("RGB", icc_profile=icc)
    xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>" + PLANTED + b"</x:xmpmeta>"
    tagged = plain[:2] + _com(xmp, b"\xff\xe1") + _com(b"Photoshop 3.0\0" + PLANTED, b"\xff\xed") + plain[2:]
    new, removed = strip_jpeg_text(tagged)
    assert new == plain and Image.open(io.BytesIO(new)).info["icc_profile"] == icc
    assert [r.split(" (")[0] for r in removed] == ["APP1 XMP", "APP13 Photoshop/IPTC"]


def test_jfif_thumbnail_removed() -> None:
    plain = _jpeg("RGB")
    assert plain[6:11] == b"JFIF\0" and plain[18:20] == b"\0\0"
    app0_end = 4 + struct.unpack(">H", plain[4:6])[0]
    thumb = plain[6:18] + b"\x02\x01" + b"\xff\x00\x00" + PLANTED[:3]
    jfxx = _com(b"JFXX\0\x13" + PLANTED, b"\xff\xe0")
    tagged = plain[:4] + struct.pack(">H", len(thumb) + 2) + thumb + jfxx + plain[app0_end:]
    new, removed = strip_jpeg_text(tagged)
    assert new == plain
    assert removed == ["APP0 JFIF thumbnail (6 bytes)", f"APP0 JFXX thumbnail ({len(jfxx)} bytes)"]


def test_trailing_data_after_eoi() -> None:
    plain = _jpeg("L")
    assert strip_jpeg_text(plain + b"\0")[0] == plain + b"\0"  # padding kept
    assert strip_jpeg_text(plain + b"\xff")[0] == plain + b"\xff"
    new, removed = strip_jpeg_text(plain + PLANTED)
    assert new == plain and removed == [f"data after EOI ({len(PLANTED)} bytes)"]


# ---------------------------------------------------------------------------------------- JPEG 2000
def _j2k_com(text: bytes = PLANTED) -> bytes:
    return b"\xff\x64" + struct.pack(">H", len(text) + 4) + b"\x00\x01" + text


def _j2k(**options: object) -> tuple[np.ndarray, bytes]:
    arr = (np.arange(64 * 48).reshape(48, 64) % 251).astype(np.uint8)
    return arr, openjpeg.encode(arr, **options)


def _tile_parts(codestream: bytes) -> tuple[bytes, list[bytes], bytes]:
    """Main header, [tile-part, ...], EOC of a single-tile stream."""
    sot = codestream.index(b"\xff\x90\x00\x0a")
    parts, pos = [], sot
    while codestream[pos : pos + 2] == b"\xff\x90":
        psot = struct.unpack(">L", codestream[pos + 6 : pos + 10])[0]
        parts.append(codestream[pos : pos + psot])
        pos += psot
    return codestream[:sot], parts, codestream[pos:]


def _two_tile_parts() -> tuple[np.ndarray, bytes]:
    """Split openjpeg's single tile-part at a packet boundary (lengths from its PLT), with a TLM."""
    arr, cs = _j2k(add_plt=True)
    main, (part,), eoc = _tile_parts(cs)
    plt_len = struct.unpack(">H", part[14:16])[0]
    lengths, value = [], 0
    for byte in part[17 : 14 + plt_len]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            lengths.append(value)
            value = 0
    data = part[14 + plt_len + 2 :]
    assert part[14 + plt_len : 14 + plt_len + 2] == b"\xff\x93" and sum(lengths) == len(data)
    cut = sum(lengths[:3])
    parts = [
        b"\xff\x90\x00\x0a" + struct.pack(">HLBB", 0, 14 + len(chunk), tp, 2) + b"\xff\x93" + chunk
        for tp, chunk in enumerate([data[:cut], data[cut:]])
    ]
    tlm = b"\xff\x55" + struct.pack(">HBB", 4 + 5 * 2, 0, 0x50)
    tlm += b"".join(struct.pack(">BL", 0, len(p)) for p in parts)
    codestream = main + tlm + b"".join(parts) + eoc
    assert np.array_equal(openjpeg.decode(codestream), arr)
    return arr, codestream


def _add_tile_com(codestream: bytes, index: int, fix_tlm: bool = True) -> bytes:
    main, parts, eoc = _tile_parts(codestream)
    com = _j2k_com()
    part = parts[index]
    psot = struct.unpack(">L", part[6:10])[0] + len(com)
    parts[index] = part[:6] + struct.pack(">L", psot) + part[10:12] + com + part[12:]
    tlm = main.find(b"\xff\x55")
    if tlm >= 0 and fix_tlm:
        field = tlm + 6 + 5 * index + 1
        main = main[:field] + struct.pack(">L", psot) + main[field + 4 :]
    return main + b"".join(parts) + eoc


def test_j2k_tile_part_com_fixes_psot() -> None:
    arr, cs = _j2k()
    planted = _add_tile_com(cs, 0)
    new, removed = strip_j2k_text(planted)
    assert PLANTED not in new and new == strip_j2k_text(cs)[0]
    assert "COM in the tile-part header" in removed[-1]
    _, (part,), eoc = _tile_parts(new)
    assert eoc == b"\xff\xd9" and struct.unpack(">L", part[6:10])[0] == len(part)
    assert np.array_equal(openjpeg.decode(new), arr)


@pytest.mark.parametrize("index", [0, 1])
def test_j2k_tlm_updated(index: int) -> None:
    arr, cs = _two_tile_parts()
    clean = strip_j2k_text(cs)[0]  # without openjpeg's own main-header COM
    planted = _add_tile_com(clean, index)
    assert np.array_equal(openjpeg.decode(planted), arr)
    new, removed = strip_j2k_text(planted)
    assert new == clean and removed == [f"COM in the tile-part header ({len(_j2k_com())} bytes)"]
    assert np.array_equal(openjpeg.decode(new), arr)


def test_j2k_tlm_inconsistent_raises() -> None:
    _, cs = _two_tile_parts()
    with pytest.raises(UnsupportedError, match="TLM"):
        strip_j2k_text(_add_tile_com(cs, 1, fix_tlm=False))


def test_j2k_main_header_com_with_openjpeg_tlm() -> None:
    arr, cs = _j2k(add_tlm=True)
    new, removed = strip_j2k_text(cs)
    assert b"OpenJPEG" in cs and b"OpenJPEG" not in new
    assert removed == ["COM in the main header (39 bytes)"]
    assert np.array_equal(openjpeg.decode(new), arr)


def test_jp2_boxes() -> None:
    arr, jp2 = _j2k(codec_format=1)
    jp2c = jp2.index(b"jp2c") - 4
    xml = b"<patient>" + PLANTED + b"</patient>"
    uuid = b"\x11" * 16 + PLANTED
    boxes = (
        struct.pack(">L4s", 8 + len(xml), b"xml ") + xml + struct.pack(">L4s", 8 + len(uuid), b"uuid") + uuid
    )
    planted = jp2[:jp2c] + boxes + jp2[jp2c:]
    new, removed = strip_j2k_text(planted)
    assert PLANTED not in new and b"OpenJPEG" not in new
    assert removed[:2] == [
        f"JP2 'xml ' box ({8 + len(xml)} bytes)",
        f"JP2 'uuid' box ({8 + len(uuid)} bytes)",
    ]
    assert np.array_equal(openjpeg.decode(new), arr)
    lbox = struct.unpack(">L", new[jp2c : jp2c + 4])[0]
    assert lbox in (0, len(new) - jp2c)


# ---------------------------------------------------------------------------------------- malformed
EOI_AT = GOOD_JPEG.rindex(b"\xff\xd9")

BAD_JPEG = {
    "empty": (b"", "no SOI"),
    "not-jpeg": (b"\x89PNG\r\n", "no SOI"),
    "length-past-end": (b"\xff\xd8\xff\xfe\x00\x50abc", "segment at byte 2 has a bad length"),
    "truncated-length": (b"\xff\xd8\xff\xfe\x00", "bad length"),
    "zero-length": (b"\xff\xd8\xff\xfe\x00\x00\xff\xd9", "bad length"),
    "no-eoi": (GOOD_JPEG[:EOI_AT], "no EOI"),
    "no-eoi-after-header": (GOOD_JPEG[:20], "no EOI|bad length"),
    "garbage-between-segments": (b"\xff\xd8\x00\x01\xff\xd9", "expected a marker at byte 2"),
    "unknown-marker": (b"\xff\xd8\xff\xc8\x00\x04ab\xff\xd9", "unknown or misplaced marker 0xFFC8"),
    "second-soi": (b"\xff\xd8\xff\xd8\xff\xd9", "0xFFD8"),
    "sos-before-sof": (b"\xff\xd8\xff\xda\x00\x02\x00\xff\xd9", "SOS before any SOF"),
    "two-codestreams": (GOOD_JPEG + GOOD_JPEG, "another codestream follows the EOI"),
}


@pytest.mark.parametrize("case", list(BAD_JPEG))
def test_malformed_jpeg_raises(case: str) -> None:
    data, reason = BAD_JPEG[case]
    with pytest.raises(UnsupportedError, match=reason):
        strip_jpeg_text(data)


_, GOOD_J2K = _j2k()
SOT_AT = GOOD_J2K.index(b"\xff\x90\x00\x0a")
BAD_J2K = {
    "empty": (b"", "no SOC"),
    "jpeg": (GOOD_JPEG, "no SOC"),
    "no-eoc": (GOOD_J2K[:-2], "no EOC"),
    "truncated-main-header": (GOOD_J2K[:60], "runs past the end|overruns|no EOC"),
    "psot-past-end": (
        GOOD_J2K[: SOT_AT + 6] + struct.pack(">L", len(GOOD_J2K)) + GOOD_J2K[SOT_AT + 10 :],
        "bad length \\(Psot\\)",
    ),
    "unknown-marker": (GOOD_J2K[:SOT_AT] + b"\xff\x65\x00\x04ab" + GOOD_J2K[SOT_AT:], "0xFF65"),
    "trailing-codestream": (GOOD_J2K + GOOD_J2K, "another codestream follows the EOC"),
    "jp2-without-codestream": (
        b"\x00\x00\x00\x0cjP  \r\n\x87\n" + b"\x00\x00\x00\x0cxml abcd",
        "no contiguous",
    ),
    "jp2-box-past-end": (b"\x00\x00\x00\x0cjP  \r\n\x87\n" + b"\x00\x00\x01\x00xml abcd", "box at byte 12"),
}


@pytest.mark.parametrize("case", list(BAD_J2K))
def test_malformed_j2k_raises(case: str) -> None:
    data, reason = BAD_J2K[case]
    with pytest.raises(UnsupportedError, match=reason):
        strip_j2k_text(data)
