"""JPEG baseline blanked in the compressed domain (issue 16): every public JPEG baseline file and Pillow-made
cines (greyscale, MONOCHROME1, 4:4:4, 4:2:2, 4:2:0, restart intervals, optimised tables, multi-frame), with
regions at the edges and inside. Checked on the DCT coefficients (outside the widened region bit-identical
to the source's; inside AC zero and DC black), on the pixels pydicom decodes (pylibjpeg and Pillow) and with
dcmtk's dcmdjpeg when installed."""

from __future__ import annotations

import io
import shutil
import subprocess
import warnings
from copy import deepcopy
from pathlib import Path

import numpy as np
import pydicom
import pytest
from conftest import TEST_KEY
from corpus import public_headers
from jpeg_baseline_files import Cine, dataset
from pydicom.encaps import generate_frames

from anonymizer.config import Config
from anonymizer.engine import deidentify
from redaction import jpeg_baseline
from redaction.apply import redact_dataset
from redaction.jpeg_baseline import blank, huffman, scan
from redaction.jpeg_baseline.coefficients import decode_coefficients
from redaction.jpeg_baseline.markers import parse
from redaction.rectangles import Rect
from redaction.regions import Region

BASELINE = "1.2.840.10008.1.2.4.50"


def _baseline_files() -> list[Path]:
    return [path for path, _ in public_headers({BASELINE})]


def _rects(rows: int, columns: int) -> list[Rect]:
    """Regions at the top-left corner (partly outside), the bottom-right corner, and a 40x16 one inside."""
    return [
        Rect(-5, -5, 20, 12),
        Rect(columns - 10, rows - 9, 30, 30),
        Rect(columns // 3 + 3, rows // 3 + 5, min(40, columns), min(16, rows)),
    ]


def _frames(ds: pydicom.Dataset) -> list[bytes]:
    n = int(ds.get("NumberOfFrames") or 1)
    return [bytes(f) for f in generate_frames(ds.PixelData, number_of_frames=n)]


def _widened(rects: list[Rect], grid: tuple[int, int], rows: int, columns: int) -> set[tuple[int, int]]:
    """Grid cells (MCUs) any rectangle touches, computed here independently of the library."""
    gw, gh = grid
    cells = set()
    for r in rects:
        x0, y0 = max(0, r.x), max(0, r.y)
        x1, y1 = min(columns, r.x + r.width), min(rows, r.y + r.height)
        if x0 < x1 and y0 < y1:
            cells |= {
                (mx, my)
                for mx in range(x0 // gw, (x1 - 1) // gw + 1)
                for my in range(y0 // gh, (y1 - 1) // gh + 1)
            }
    return cells


def _block_cells(codestream: bytes) -> dict[int, list[tuple[int, int]]]:
    """The grid cell of each block, per component, in coding order (one interleaved scan, A.2.3)."""
    cs = parse(codestream)
    frame = cs.frame
    assert frame is not None and len(cs.scans) == 1
    comps = frame.components
    if len(comps) == 1:
        across, down = -(-frame.columns // 8), -(-frame.lines // 8)
        return {0: [(mx, my) for my in range(down) for mx in range(across)]}
    mw, mh = 8 * max(c.h for c in comps), 8 * max(c.v for c in comps)
    across, down = -(-frame.columns // mw), -(-frame.lines // mh)
    out: dict[int, list[tuple[int, int]]] = {i: [] for i in range(len(comps))}
    for my in range(down):
        for mx in range(across):
            for i, c in enumerate(comps):
                out[i] += [(mx, my)] * (c.h * c.v)
    return out


def _quant_dc(codestream: bytes) -> dict[int, int]:
    return parse(codestream).quant_dc


def _check_coefficients(src: bytes, out: bytes, cells: set[tuple[int, int]], black: list[str]) -> int:
    """Outside the cells: identical blocks; inside: AC zero, DC the fill. Returns blocks blanked."""
    before, after = decode_coefficients(src), decode_coefficients(out)
    where = _block_cells(src)
    q = _quant_dc(src)
    blanked = 0
    for comp, blocks in before.items():
        assert len(after[comp]) == len(blocks)
        for i, (a, b) in enumerate(zip(blocks, after[comp], strict=True)):
            if where[comp][i] not in cells:
                assert a == b, f"component {comp} block {i} changed outside the region"
                continue
            blanked += 1
            assert not any(b[1:]), f"component {comp} block {i}: AC not zero"
            d, qc = b[0], q[comp]
            # Black: past sample 0 (d*q/8 <= -128), within 2048 (at most twice as far; IJG decoders clamp
            # to 0 down to -640); the least such value unless it was chosen to keep the rest byte-aligned.
            if black[comp] == "low":
                assert -2048 <= d * qc <= -1024
            elif black[comp] == "high":
                assert 2047 >= d * qc >= 1016
            else:
                assert d == 0
    return blanked


def _black(ds: pydicom.Dataset, codestream: bytes) -> list[str]:
    photometric = str(ds.PhotometricInterpretation)
    if photometric == "MONOCHROME1":
        return ["high"]
    if int(ds.SamplesPerPixel) == 1:
        return ["low"]
    cs = parse(codestream)
    return ["low", "mid", "mid"] if cs.colour_transformed(photometric == "RGB") else ["low"] * 3


def _decode(ds: pydicom.Dataset, plugin: str) -> np.ndarray:
    copy = deepcopy(ds)
    copy.pixel_array_options(decoding_plugin=plugin)
    arr = copy.pixel_array
    return arr if int(ds.get("NumberOfFrames") or 1) > 1 else arr[None]


def _bytes(ds: pydicom.Dataset) -> bytes:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _check_pixels(
    source: pydicom.Dataset,
    out: pydicom.Dataset,
    cells: dict[int, set[tuple[int, int]]],
    grid: tuple[int, int],
) -> None:
    """Decoded with both of pydicom's JPEG plugins: outside the widened region the source's samples (colour
    with subsampled chroma: not within 2 pixels of it, where upsampling blends neighbouring chroma); inside
    black."""
    rows, columns = int(source.Rows), int(source.Columns)
    subsampled = grid != (8, 8)
    margin = 2 if subsampled else 0
    for plugin in ("pylibjpeg", "pillow"):
        a, b = _decode(source, plugin), _decode(out, plugin)
        for frame, frame_cells in cells.items():
            mask = np.zeros((rows, columns), bool)
            for mx, my in frame_cells:
                mask[my * grid[1] : (my + 1) * grid[1], mx * grid[0] : (mx + 1) * grid[0]] = True
            near = mask.copy()
            inner = mask.copy()
            for dy in range(-margin, margin + 1):
                for dx in range(-margin, margin + 1):
                    near |= np.roll(np.roll(mask, dy, 0), dx, 1)
                    inner &= np.roll(np.roll(mask, dy, 0), dx, 1)
            assert np.array_equal(a[frame][~near], b[frame][~near]), (
                f"{plugin}: frame {frame} changed outside"
            )
            shown = b[frame][inner]
            black = 255 if str(source.PhotometricInterpretation) == "MONOCHROME1" else 0
            assert shown.size == 0 or (shown == black).all(), f"{plugin}: frame {frame} not black inside"


def _dcmdjpeg(ds: pydicom.Dataset, tmp_path: Path) -> None:
    if shutil.which("dcmdjpeg") is None:
        return
    src, dst = tmp_path / "in.dcm", tmp_path / "out.dcm"
    try:
        src.write_bytes(_bytes(ds))
    except TypeError:  # SC_rgb_jpeg.dcm: elements pydicom reads but cannot write back (not ours)
        return
    done = subprocess.run(["dcmdjpeg", str(src), str(dst)], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "W:" not in done.stderr + done.stdout, done.stderr


def _redact_and_check(source: pydicom.Dataset, regions: list[Region], tmp_path: Path) -> pydicom.Dataset:
    frames_before = _frames(source)
    out = deepcopy(source)
    count = redact_dataset(out, regions)
    assert count == sum(len(r.frames) if r.frames else len(frames_before) for r in regions)
    assert str(out.file_meta.TransferSyntaxUID) == BASELINE
    for keyword in ("LossyImageCompression", "LossyImageCompressionRatio", "LossyImageCompressionMethod"):
        assert out.get(keyword) == source.get(keyword)
    frames_after = _frames(out)
    grid = blank.grid(frames_before[0])
    rows, columns = int(source.Rows), int(source.Columns)
    cells: dict[int, set[tuple[int, int]]] = {}
    for index, (a, b) in enumerate(zip(frames_before, frames_after, strict=True)):
        rects = [r.rect for r in regions if r.frames is None or index + 1 in r.frames]
        if not rects:
            assert a == b, f"frame {index + 1} has no region and changed"
            continue
        cells[index] = _widened(rects, grid, rows, columns)
        assert _check_coefficients(a, b, cells[index], _black(source, a)) > 0
    _check_pixels(source, out, cells, grid)
    _dcmdjpeg(out, tmp_path)
    ratio = len(b"".join(frames_after)) / len(b"".join(frames_before))
    assert ratio < 1.05, ratio  # blanked blocks code shorter; a table extension adds bytes
    return out


@pytest.mark.parametrize("path", _baseline_files(), ids=lambda p: p.name)
def test_public_files(path: Path, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        source = pydicom.dcmread(path)
    n = int(source.get("NumberOfFrames") or 1)
    frames = None if n <= 3 else (1, 2, n)  # a 120-frame file: its first, second and last frame
    rows, columns = int(source.Rows), int(source.Columns)
    regions = [Region(rect, frames=frames) for rect in _rects(rows, columns)]
    _redact_and_check(source, regions, tmp_path)


SPECS = {
    "grey": Cine(rows=96, columns=136),
    "monochrome1": Cine(rows=64, columns=72, colour=None, monochrome1=True),
    "grey-restart": Cine(rows=96, columns=136, colour=None, restart_blocks=5),
    "444": Cine(rows=80, columns=120, colour="444"),
    "422": Cine(rows=80, columns=120, colour="422"),
    "420": Cine(rows=96, columns=136),
    "420-odd-size": Cine(rows=93, columns=131),
    "420-restart": Cine(rows=96, columns=136, restart_blocks=3),
    "422-restart-optimized": Cine(rows=80, columns=120, colour="422", restart_blocks=7, optimize=True),
    "420-optimized": Cine(rows=96, columns=136, optimize=True),
    "grey-optimized": Cine(rows=96, columns=136, colour=None, optimize=True),
    "grey-q100": Cine(rows=48, columns=64, colour=None, quality=100),  # blocks ending at 64 without EOB
    "420-q100": Cine(rows=48, columns=64, quality=100),
}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_made_files(name: str, tmp_path: Path) -> None:
    spec = SPECS[name]
    source = dataset(spec)
    regions = [Region(rect) for rect in _rects(spec.rows, spec.columns)]
    _redact_and_check(source, regions, tmp_path)


def test_multiframe_regions_per_frame(tmp_path: Path) -> None:
    """A region on frame 2 only, one on every frame: frame 1 and 3 get one, frame 2 both."""
    source = dataset(Cine(frames=3, rows=96, columns=136, restart_blocks=4))
    regions = [Region(Rect(0, 0, 40, 16), frames=(2,)), Region(Rect(100, 80, 40, 16))]
    _redact_and_check(source, regions, tmp_path)


def _flat(colour: bool) -> bytes:
    """A smooth image coded with optimised tables: its DC table codes only small differences."""
    from PIL import Image

    grey = Image.linear_gradient("L").resize((136, 96)).point(lambda v: 100 + v // 16)
    img = Image.merge("RGB", (grey, grey, grey)) if colour else grey
    buf = io.BytesIO()
    img.save(buf, format="JPEG", optimize=True, quality=90, restart_marker_blocks=6)
    return buf.getvalue()


@pytest.mark.parametrize("colour", [False, True])
def test_optimized_tables_are_extended_not_changed(colour: bool) -> None:
    """Optimised DC tables lack the large categories: the fill's are added after the longest codes."""
    frame = _flat(colour)
    result = jpeg_baseline.blank_frame(frame, [Rect(10, 10, 40, 16)])
    assert any("extended" in note for note in result.tables), result.tables
    old, new = parse(frame), parse(result.data)
    cells = _widened([Rect(10, 10, 40, 16)], blank.grid(frame), 96, 136)
    _check_coefficients(frame, result.data, cells, ["low", "mid", "mid"] if colour else ["low"])
    for scan_old, scan_new in zip(old.scans, new.scans, strict=True):
        for k in range(len(scan_old.components)):
            before = huffman.codes(old.table(scan_old.dc_tables[k], 0, scan_old.dc_slots[k]))
            after = huffman.codes(new.table(scan_new.dc_tables[k], 0, scan_new.dc_slots[k]))
            assert all(after[s] == code for s, code in before.items())


def test_full_dc_table_is_replaced(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """When the DC table has no room (forced here), Table K.3 replaces it and every DC is re-coded."""
    monkeypatch.setattr(blank, "extended", lambda table, missing: None if missing else table)
    frame = _flat(True)
    result = jpeg_baseline.blank_frame(frame, [Rect(30, 20, 40, 16)])
    assert any("Table K.3" in note for note in result.tables), result.tables
    cells = _widened([Rect(30, 20, 40, 16)], blank.grid(frame), 96, 136)
    _check_coefficients(frame, result.data, cells, ["low", "mid", "mid"])


@pytest.mark.parametrize(
    "spec",
    [
        Cine(rows=64, columns=96, colour=None),
        Cine(rows=96, columns=136),
        Cine(rows=64, columns=96, colour="422"),
    ],
    ids=["grey", "420", "422"],
)
def test_copied_tail_is_realigned_not_walked_to_the_end(spec: Cine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rest of a scan after the last blanked block is copied. Where shifted it could end in a whole byte
    of 1-bits (not to be told from padding, F.1.2.3), a blanked block's DC is chosen among the values that
    all show black so that the rest stays byte-aligned, its padding the source's: no walk to the end."""
    ends, aligned = [], []
    real_walk, real_align = scan.walk, blank.realigned

    def spy_walk(*args: object, **kwargs: object) -> scan.Walk:
        ends.append(bool(kwargs.get("to_end")))
        return real_walk(*args, **kwargs)  # type: ignore[arg-type]

    def spy_align(*args: object) -> object:
        aligned.append(real_align(*args) is not None)  # type: ignore[arg-type]
        return real_align(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(blank, "walk", spy_walk)
    monkeypatch.setattr(blank, "realigned", spy_align)
    source = dataset(spec)
    frame = _frames(source)[0]
    black = ["low"] if spec.colour is None else ["low", "mid", "mid"]
    for x in range(0, 88, 3):
        rect = Rect(x, x % 40, 9, 5)
        seen = len(aligned)
        result = jpeg_baseline.blank_frame(frame, [rect])
        _check_coefficients(
            frame, result.data, _widened([rect], blank.grid(frame), spec.rows, spec.columns), black
        )
        if any(aligned[seen:]):
            assert result.data[-40:] == frame[-40:]  # the tail copied byte for byte, padding and all
    assert not any(ends) and len(ends) > 20
    assert any(aligned)


def test_engine_keeps_the_compression_and_drops_codestream_text() -> None:
    """Through deidentify: still JPEG baseline, compression history as it was, no COM/APP text left."""
    from synthetic.jpeg import jpeg_file

    planted = jpeg_file()
    ds = pydicom.dcmread(io.BytesIO(planted.data))
    regions = (Region(Rect(0, 0, 8, 8), sop_instance_uid=str(ds.SOPInstanceUID)),)
    from redaction.apply import PixelEdit

    result = deidentify(planted.data, Config(key=TEST_KEY), pixels=PixelEdit(regions=regions))
    out = pydicom.dcmread(io.BytesIO(result.data))
    assert str(out.file_meta.TransferSyntaxUID) == BASELINE
    assert out.get("LossyImageCompression") == ds.get("LossyImageCompression")
    assert result.plan.redacted == 1
    frame = _frames(out)[0]
    assert b"\xff\xfe" not in frame.split(b"\xff\xda")[0] and b"Exif" not in frame
    blocks = decode_coefficients(frame)[0]
    assert not any(blocks[0][1:]) and blocks[1] == decode_coefficients(_frames(ds)[0])[0][1]


def test_progressive_labelled_baseline_is_decoded_instead() -> None:
    """A codestream that is not Huffman sequential is decoded natively and written uncompressed."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (32, 32), 200).save(buf, format="JPEG", progressive=True)
    ds = dataset(Cine(rows=32, columns=32, colour=None))
    ds.PixelData = pydicom.encaps.encapsulate([buf.getvalue()])
    with pytest.raises(jpeg_baseline.NotInPlaceError):
        jpeg_baseline.blank_frame(buf.getvalue(), [Rect(0, 0, 8, 8)])
    assert redact_dataset(ds, [Region(Rect(0, 0, 8, 8))]) == 1
    assert str(ds.file_meta.TransferSyntaxUID) == "1.2.840.10008.1.2.1"


@pytest.mark.parametrize(
    ("colour", "grid"), [(None, [8, 8]), ("444", [8, 8]), ("422", [16, 8]), ("420", [16, 16])]
)
def test_the_viewer_is_told_the_grid_and_the_page_does_not_decode(
    colour: str | None, grid: list[int]
) -> None:
    """image_info's redaction_grid is what viewer.mjs widens regions to; the index tells the page not to
    decode JPEG baseline to redact it (worker.mjs decodeAll runs for `compressed` files only)."""
    from anonymizer.reading.study_summary import summarize
    from redaction.frames import image_info

    ds = dataset(Cine(rows=48, columns=64, colour=colour))
    info = image_info(ds)
    assert info["redaction_grid"] == grid and info["codec"] == "jpeg"
    assert summarize(_bytes(ds), True)["compressed"] is False


def test_blocks_ending_without_eob_occur_in_the_q100_files() -> None:
    """The q100 files above exercise the walk's re-check: blocks whose 63rd coefficient is coded."""
    frame = _frames(dataset(SPECS["grey-q100"]))[0]
    assert any(block[63] for block in decode_coefficients(frame)[0])
