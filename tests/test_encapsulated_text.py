"""anonymizer.codestream.encapsulated_text: text planted in the frames of encapsulated pixel data is removed
(DICOM
corpus, fragment layouts with and without a Basic Offset Table); syntaxes without a text container come
back unchanged; unknown syntaxes and malformed encapsulation raise.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import struct
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from codestream_helpers import (
    GOOD_JPEG,
    PLANTED,
    TEST_FILES,
    _com,
    _frames,
    _jpeg,
    _nframes,
    _plant_jpeg,
    _read,
)
from conftest import TEST_KEY
from corpus import data_file
from pydicom.encaps import encapsulate, generate_fragments, generate_frames, parse_basic_offsets

from anonymizer.codestream.codestream_text import strip_j2k_text, strip_jpeg_text
from anonymizer.codestream.encapsulated_text import BOT_REBUILT, strip_encapsulated_text
from anonymizer.config import Config
from anonymizer.engine import deidentify
from anonymizer.errors import UnsupportedError
from anonymizer.verification.verify import Policy, check_deidentified
from redaction.apply import PixelEdit

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


CORPUS = _corpus()


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


def _plant_j2k(frame: bytes) -> bytes:
    """COM after SIZ (main header) and after the first SOT (tile-part header, Psot fixed)."""
    siz_end = 4 + struct.unpack(">H", frame[4:6])[0]
    com = _com(marker=b"\xff\x64\x00\x01")[:2] + struct.pack(">H", len(PLANTED) + 4) + b"\x00\x01" + PLANTED
    frame = frame[:siz_end] + com + frame[siz_end:]
    sot = frame.index(b"\xff\x90\x00\x0a")
    psot = struct.unpack(">L", frame[sot + 6 : sot + 10])[0]
    new_psot = struct.pack(">L", psot + len(com) if psot else 0)
    return frame[: sot + 6] + new_psot + frame[sot + 10 : sot + 12] + com + frame[sot + 12 :]


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


# ------------------------------------------------------------------------- a Basic Offset Table gone wrong
# It holds no identity, only positions: one that does not point at the fragments (GDCM's 00191113.dcm) is
# ignored when the frames are found and rebuilt in the output, never a reason to refuse the file.
WRONG_BOTS = {
    "past-the-first-fragment": lambda sizes: [6],
    "not-starting-at-zero": lambda sizes: [4, 4 + sizes[0] + 8],
    "between-fragments": lambda sizes: [0, sizes[0] + 2],
    "descending": lambda sizes: [sizes[0] + 8, 0],
    "past-the-end": lambda sizes: [0, 1 << 30],
}


@pytest.mark.parametrize("case", list(WRONG_BOTS))
@pytest.mark.parametrize("planted", [True, False], ids=["text", "clean"])
def test_a_basic_offset_table_that_misses_the_fragments_is_rebuilt(case: str, planted: bool) -> None:
    frames = [_jpeg("L", quality=q) for q in (50, 90)]
    stored = [_plant_jpeg(f) if planted else f for f in frames][
        : 1 if case == "past-the-first-fragment" else 2
    ]
    stored = [f + b"\0" * (len(f) % 2) for f in stored]
    offsets = WRONG_BOTS[case]([len(f) for f in stored])
    pixel_data = _itemize(stored, struct.pack(f"<{len(offsets)}L", *offsets))
    new, removed = strip_encapsulated_text(pixel_data, "1.2.840.10008.1.2.4.50", len(stored))
    assert PLANTED not in new
    assert "Basic Offset Table rebuilt" in removed[0] and len(removed) == 1 + (
        2 * len(stored) if planted else 0
    )
    expected = frames[: len(stored)]
    assert [f.rstrip(b"\0") for f in generate_frames(new, number_of_frames=len(stored))] == expected
    offsets_now = parse_basic_offsets(io.BytesIO(new))
    assert offsets_now == [0, len(_fragments(new)[0]) + 8][: len(stored)]


# ---------------------------------------------------------------------------------------- malformed
BAD_ENCAPS = {
    "not-items": (b"\x00" * 16, 1, "cannot be parsed"),
    "no-fragments": (_itemize([]), 1, "no fragments"),
    "bot-misaligned-and-no-frames": (  # the offsets are ignored; without them, frame 2 is no JPEG
        _itemize([GOOD_JPEG[:-2] + b"\xff\xd9", b"\0\0"], struct.pack("<2L", 0, 10)),
        2,
        "frame 2: JPEG",
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


# ---------------------------------------------------------------------------------------- through the engine
def _with_wrong_bot(data: bytes) -> bytes:
    """The file with each Basic Offset Table entry moved 2 bytes on (so none points at a fragment)."""
    at = data.rindex(b"\xe0\x7f\x10\x00OB\x00\x00\xff\xff\xff\xff\xfe\xff\x00\xe0") + 16
    (length,) = struct.unpack_from("<L", data, at)
    offsets = struct.unpack_from(f"<{length // 4}L", data, at + 4)
    assert offsets, "this file has no Basic Offset Table to break"
    wrong = struct.pack(f"<{len(offsets)}L", *(o + 2 for o in offsets))
    return data[: at + 4] + wrong + data[at + 4 + length :]


def _engine_cases() -> list[tuple[str, bytes]]:
    cases = []
    for name in ("SC_rgb_jpeg_dcmtk.dcm", "examples_ybr_color.dcm"):
        with contextlib.suppress(FileNotFoundError):  # pydicom-data may be missing
            cases.append((name, _with_wrong_bot(data_file(name).read_bytes())))
    return cases


@pytest.mark.parametrize(("name", "data"), _engine_cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_engine_rebuilds_a_wrong_basic_offset_table(name: str, data: bytes) -> None:
    original = pydicom.dcmread(io.BytesIO(data))
    nframes = _nframes(original)
    # Reviewed, as the page sends images at risk of burned-in text (the re-check refuses them otherwise).
    result = deidentify(data, Config(key=TEST_KEY), path=name, pixels=PixelEdit(reviewed=True))
    [step] = [s for s in result.plan.steps() if s.tag == 0x7FE00010]
    assert step.rule == BOT_REBUILT
    out = pydicom.dcmread(io.BytesIO(result.data))
    frames = [f.rstrip(b"\0") for f in generate_frames(out.PixelData, number_of_frames=nframes)]
    assert frames == [f.rstrip(b"\0") for f in _fragments(original.PixelData)]
    assert check_deidentified(result.data, Policy()).ok


def test_gdcm_00191113_is_de_identified() -> None:
    """The real file from GDCM's test data whose Basic Offset Table does not point at its fragments."""
    try:
        path = data_file("00191113.dcm")
    except FileNotFoundError:
        pytest.skip("00191113.dcm is not in this pydicom-data")
    result = deidentify(path.read_bytes(), Config(key=TEST_KEY), path=path.name)
    assert any(s.tag == 0x7FE00010 and BOT_REBUILT in s.rule for s in result.plan.steps())
