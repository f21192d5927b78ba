"""Text hidden in compressed pixel data (JPEG COM/APPn, JPEG-LS, JPEG 2000 COM, JP2 boxes) is removed."""

from __future__ import annotations

import importlib.util
import io
import re
import struct
import warnings
from pathlib import Path

import numpy as np
import openjpeg
import pydicom
import pytest
from PIL import Image
from pydicom.encaps import encapsulate, generate_fragments, generate_frames, parse_basic_offsets

from anonymizer.codestream_text import strip_j2k_text, strip_jpeg_text
from anonymizer.encapsulated_text import strip_encapsulated_text
from anonymizer.errors import UnsupportedError

PLANTED = b"PATIENT Smith^John 19700101"
TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
JPEG_TS = {f"1.2.840.10008.1.2.4.{i}" for i in (50, 51, 57, 70, 80, 81)}
J2K_TS = {f"1.2.840.10008.1.2.4.{i}" for i in (90, 91, 201, 202, 203)}


def _data_dirs() -> list[Path]:
    dirs = [TEST_FILES]
    spec = importlib.util.find_spec("data_store")  # pydicom-data; never get_testdata_files (downloads)
    if spec is not None and spec.origin is not None:
        dirs.append(Path(spec.origin).parent / "data")
    return dirs


def _corpus() -> list[Path]:
    found = []
    for folder in _data_dirs():
        for path in sorted(folder.glob("*.dcm")):
            try:
                ds = _read(path)
            except Exception:
                continue
            if ds.file_meta.get("TransferSyntaxUID", "") in JPEG_TS | J2K_TS and "PixelData" in ds:
                found.append(path)
    return found


def _read(path: Path) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path)


CORPUS = _corpus()


def _nframes(ds: pydicom.Dataset) -> int:
    return int(ds.get("NumberOfFrames", 1) or 1)


def _frames(ds: pydicom.Dataset) -> list[bytes]:
    return list(generate_frames(ds.PixelData, number_of_frames=_nframes(ds)))


def _pixels(path: Path, pixel_data: bytes | None = None) -> np.ndarray | None:
    """Decoded pixels (pydicom + pylibjpeg) of the file, with its Pixel Data replaced if given."""
    ds = _read(path)
    if pixel_data is not None:
        ds.PixelData = pixel_data
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ds.pixel_array.copy()
    except Exception:
        return None


def _com(text: bytes = PLANTED, marker: bytes = b"\xff\xfe") -> bytes:
    return marker + struct.pack(">H", len(text) + 2) + text


def _plant_jpeg(frame: bytes) -> bytes:
    """COM after SOI and just before EOI (after the last scan: the walker must skip entropy data)."""
    eoi = frame.rindex(b"\xff\xd9")
    return frame[:2] + _com() + frame[2:eoi] + _com(b"2nd " + PLANTED) + frame[eoi:]


def _plant_j2k(frame: bytes) -> bytes:
    """COM after SIZ (main header) and after the first SOT (tile-part header, Psot fixed)."""
    siz_end = 4 + struct.unpack(">H", frame[4:6])[0]
    com = _com(marker=b"\xff\x64\x00\x01")[:2] + struct.pack(">H", len(PLANTED) + 4) + b"\x00\x01" + PLANTED
    frame = frame[:siz_end] + com + frame[siz_end:]
    sot = frame.index(b"\xff\x90\x00\x0a")
    psot = struct.unpack(">L", frame[sot + 6 : sot + 10])[0]
    new_psot = struct.pack(">L", psot + len(com) if psot else 0)
    return frame[: sot + 6] + new_psot + frame[sot + 10 : sot + 12] + com + frame[sot + 12 :]


def _j2k_com(text: bytes = PLANTED) -> bytes:
    return b"\xff\x64" + struct.pack(">H", len(text) + 4) + b"\x00\x01" + text


# ---------------------------------------------------------------------------------------- DICOM corpus
@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_corpus_file_as_is(path: Path) -> None:
    """Files without text come back as the same object; files with text (encoder COMs...) decode the same."""
    ds = _read(path)
    ts = ds.file_meta.TransferSyntaxUID
    new, removed = strip_encapsulated_text(ds.PixelData, ts, _nframes(ds))
    if not removed:
        assert new is ds.PixelData
        return
    assert new != ds.PixelData and len(new) % 2 == 0
    before = _pixels(path)
    if before is not None:
        after = _pixels(path, new)
        assert after is not None and np.array_equal(before, after)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_corpus_planted_text_removed(path: Path) -> None:
    ds = _read(path)
    ts = ds.file_meta.TransferSyntaxUID
    frames = _frames(ds)
    jpeg = ts in JPEG_TS
    strip = strip_jpeg_text if jpeg else strip_j2k_text
    if not jpeg and frames[0].startswith(b"\x00\x00\x00\x0cjP  "):
        pytest.skip("JP2 file format: covered by test_jp2_boxes")
    planted = [(_plant_jpeg if jpeg else _plant_j2k)(f) for f in frames]
    pixel_data = encapsulate(planted, has_bot=True)
    new, removed = strip_encapsulated_text(pixel_data, ts, _nframes(ds))
    assert PLANTED not in new
    assert sum("COM" in r for r in removed) >= 2 * len(frames)
    assert len(parse_basic_offsets(new)) == len(frames)  # BOT kept
    expected = [strip(f)[0].rstrip(b"\0") for f in frames]  # the planted text removed, nothing else
    assert [f.rstrip(b"\0") for f in generate_frames(new, number_of_frames=len(frames))] == expected
    before = _pixels(path)
    if before is not None:
        after = _pixels(path, new)
        assert after is not None and np.array_equal(before, after)


def test_jpegls_entropy_stuffing_rule() -> None:
    """JPEG-LS data holds 0xFF followed by bytes < 0x80 (JPEG 10918 would read markers there)."""
    ds = _read(TEST_FILES / "SC_rgb_jls_lossy_sample.dcm")
    frame = _frames(ds)[0]
    assert re.search(rb"\xff[\x01-\x7f]", frame)
    new, removed = strip_jpeg_text(_plant_jpeg(frame))
    assert PLANTED not in new and new == strip_jpeg_text(frame)[0]


# ---------------------------------------------------------------------------------------- Pillow JPEGs
def _image(mode: str) -> Image.Image:
    y, x = np.mgrid[0:48, 0:64]
    rgb = np.stack([(x * 4) % 256, (y * 5) % 256, ((x ^ y) * 3) % 256], axis=-1).astype(np.uint8)
    img = Image.fromarray(rgb)
    return img.convert(mode)


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x013B] = "Dr Jones"  # Artist
    exif[0x010E] = "DOE^JANE 12345678"  # ImageDescription
    exif[0x0132] = "2024:01:02 03:04:05"  # DateTime
    return exif


def _jpeg(mode: str, **options: object) -> bytes:
    out = io.BytesIO()
    _image(mode).save(out, "JPEG", **{"quality": 85, **options})
    return out.getvalue()


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


# ---------------------------------------------------------------------------------------- encapsulation
def _fragments(pixel_data: bytes) -> list[bytes]:
    buffer = io.BytesIO(pixel_data)
    parse_basic_offsets(buffer)
    return list(generate_fragments(buffer))


def _itemize(fragments: list[bytes], bot: bytes = b"") -> bytes:
    out = b"\xfe\xff\x00\xe0" + struct.pack("<L", len(bot)) + bot
    return out + b"".join(b"\xfe\xff\x00\xe0" + struct.pack("<L", len(f)) + f for f in fragments)


def _split(frame: bytes, n: int) -> list[bytes]:
    frame += b"\0" * (len(frame) % 2)
    size = (len(frame) // n) & ~1
    return [frame[i * size : (i + 1) * size if i < n - 1 else len(frame)] for i in range(n)]


@pytest.mark.parametrize("fragments_per_frame", [1, 3])
@pytest.mark.parametrize("nframes", [1, 3])
def test_fragment_layouts_without_bot(nframes: int, fragments_per_frame: int) -> None:
    frames = [_jpeg("L", quality=q) for q in (50, 70, 90)][:nframes]
    planted = [_plant_jpeg(f) for f in frames]
    pixel_data = _itemize([part for f in planted for part in _split(f, fragments_per_frame)])
    new, removed = strip_encapsulated_text(pixel_data, "1.2.840.10008.1.2.4.50", nframes)
    assert PLANTED not in new and len(removed) == 2 * nframes
    assert parse_basic_offsets(new) == []
    assert _fragments(new) == [f + b"\0" * (len(f) % 2) for f in frames]  # one fragment per frame, even
    clean = _itemize([part for f in frames for part in _split(f, fragments_per_frame)])
    assert strip_encapsulated_text(clean, "1.2.840.10008.1.2.4.50", nframes)[0] is clean


def test_bot_with_fragmented_frames() -> None:
    frames = [_jpeg("RGB", quality=q) for q in (60, 80)]
    parts = [_split(_plant_jpeg(f), 2) for f in frames]
    bot = struct.pack("<2L", 0, sum(8 + len(p) for p in parts[0]))
    new, removed = strip_encapsulated_text(
        _itemize([p for ps in parts for p in ps], bot), "1.2.840.10008.1.2.4.50", 2
    )
    assert PLANTED not in new and len(removed) == 4
    assert [f.rstrip(b"\0") for f in generate_frames(new)] == frames
    assert len(parse_basic_offsets(new)) == 2


def test_multiframe_j2k_without_bot_split_by_codestream() -> None:
    if len(_data_dirs()) < 2:
        pytest.skip("pydicom-data not installed")
    path = _data_dirs()[-1] / "emri_small_jpeg_2k_lossless.dcm"
    ds = _read(path)
    frames = [strip_j2k_text(f)[0] for f in _frames(ds)]
    pixel_data = _itemize([p for f in frames for p in _split(_plant_j2k(f), 2)])
    new, removed = strip_encapsulated_text(pixel_data, ds.file_meta.TransferSyntaxUID, len(frames))
    assert PLANTED not in new and len(removed) == 2 * len(frames)
    before, after = _pixels(path), _pixels(path, new)
    assert before is not None and after is not None and np.array_equal(before, after)


@pytest.mark.parametrize("uid", ["1.2.840.10008.1.2.5", "1.2.840.10008.1.2.8.1", "1.2.840.10008.1.2.1"])
def test_no_text_container_unchanged(uid: str) -> None:
    pixel_data = _itemize([PLANTED + b"\0"])
    assert strip_encapsulated_text(pixel_data, uid, 1) == (pixel_data, [])


@pytest.mark.parametrize(
    "uid", ["1.2.840.10008.1.2.4.100", "1.2.840.10008.1.2.4.107", "1.2.840.10008.1.2.4.110", "1.2.3.4"]
)
def test_unknown_syntax_raises(uid: str) -> None:
    with pytest.raises(UnsupportedError, match="cannot inspect .* for embedded text"):
        strip_encapsulated_text(_itemize([b"\0\0"]), uid, 1)


# ---------------------------------------------------------------------------------------- malformed
GOOD_JPEG = _jpeg("L")
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


BAD_ENCAPS = {
    "not-items": (b"\x00" * 16, 1, "cannot be parsed"),
    "no-fragments": (_itemize([]), 1, "no fragments"),
    "bot-misaligned": (
        _itemize([GOOD_JPEG[:-2] + b"\xff\xd9", b"\0\0"], struct.pack("<2L", 0, 10)),
        2,
        "Basic Off",
    ),
    "fewer-fragments-than-frames": (_itemize([GOOD_JPEG, GOOD_JPEG]), 3, "2 fragments cannot hold 3"),
    "frame-count-mismatch": (_itemize(_split(GOOD_JPEG, 2) + _split(GOOD_JPEG, 2)), 3, "found 2 codestreams"),
    "bad-frame": (_itemize([GOOD_JPEG[:-4] + b"\0\0\0\0"]), 1, "frame 1: JPEG: no EOI"),
}


@pytest.mark.parametrize("case", list(BAD_ENCAPS))
def test_malformed_encapsulation_raises(case: str) -> None:
    data, nframes, reason = BAD_ENCAPS[case]
    with pytest.raises(UnsupportedError, match=reason):
        strip_encapsulated_text(data, "1.2.840.10008.1.2.4.50", nframes)
