"""Filling rectangles of uncompressed pixel data: pixel-exact for every layout (numpy and pydicom agree).

Oracle: the raw bytes are viewed with numpy as (frames, rows, columns, samples) (or planes), the rectangle
is set to the fill value there, and the result must equal the library's bytes exactly; everything outside
the rectangle is then bit-identical by construction.
"""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, generate_uid

from redaction.apply import redact_dataset
from redaction.errors import RegionsError, UnsupportedPixelsError
from redaction.layout import layout_of
from redaction.rectangles import Rect, fill_rectangles
from redaction.regions import Region

ROWS, COLS = 7, 10


def make(
    photometric: str,
    bits: int,
    *,
    signed: bool = False,
    planar: int = 0,
    frames: int = 1,
    columns: int = COLS,
    stored: int | None = None,
    big_endian: bool = False,
) -> Dataset:
    samples = 3 if photometric in ("RGB", "YBR_FULL", "YBR_FULL_422") else 1
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRBigEndian if big_endian else ExplicitVRLittleEndian
    ds.SOPInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"  # Secondary Capture
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.Rows, ds.Columns, ds.SamplesPerPixel = ROWS, columns, samples
    ds.BitsAllocated, ds.BitsStored = bits, stored or bits
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = int(signed)
    ds.PhotometricInterpretation = photometric
    if samples == 3:
        ds.PlanarConfiguration = planar
    if frames > 1:
        ds.NumberOfFrames = frames
    if photometric == "YBR_FULL_422":
        size = frames * ROWS * columns * 2 * bits // 8
    else:
        size = frames * ROWS * columns * samples * bits // 8
    rng = np.random.default_rng(bits * 7 + frames)
    data = rng.integers(1, 250, size, dtype=np.uint8).tobytes()
    ds.PixelData = data + (b"\0" if len(data) % 2 else b"")
    ds["PixelData"].VR = "OB" if bits == 8 else "OW"
    return ds


def oracle(ds: Dataset, rect: Rect, frames: list[int] | None, fill: list[int]) -> bytes:
    """The expected bytes, computed with numpy from first principles."""
    lay = layout_of(ds, little_endian=ds.file_meta.TransferSyntaxUID != ExplicitVRBigEndian)
    dtype = np.dtype(f"{'<' if lay.little_endian else '>'}u{lay.bits_allocated // 8}")
    raw = bytes(ds.PixelData)
    used = lay.frames * lay.frame_bytes
    arr = np.frombuffer(raw[:used], dtype=dtype).copy()
    mask = (1 << lay.bits_allocated) - 1
    fills = [v & mask for v in fill]
    x0, y0 = max(rect.x, 0), max(rect.y, 0)
    x1, y1 = min(rect.x + rect.width, lay.columns), min(rect.y + rect.height, lay.rows)
    chosen = [f - 1 for f in frames] if frames else list(range(lay.frames))
    if lay.subsampled:
        x0, x1 = x0 - x0 % 2, x1 + x1 % 2
        pairs = arr.reshape(lay.frames, lay.rows, lay.columns // 2, 4)
        for f in chosen:
            pairs[f, y0:y1, x0 // 2 : x1 // 2] = [fills[0], fills[0], fills[1], fills[2]]
    elif lay.planar:
        planes = arr.reshape(lay.frames, lay.samples, lay.rows, lay.columns)
        for f in chosen:
            for s in range(lay.samples):
                planes[f, s, y0:y1, x0:x1] = fills[s]
    else:
        pixels = arr.reshape(lay.frames, lay.rows, lay.columns, lay.samples)
        for f in chosen:
            pixels[f, y0:y1, x0:x1] = fills
    return arr.tobytes() + raw[used:]


CASES = [
    ("MONOCHROME2", 8, {}, [0]),
    ("MONOCHROME2", 16, {}, [0]),
    ("MONOCHROME2", 16, {"signed": True, "stored": 12}, [-2048]),
    ("MONOCHROME2", 32, {}, [0]),
    ("MONOCHROME2", 32, {"signed": True}, [-(2**31)]),
    ("MONOCHROME1", 8, {}, [255]),
    ("MONOCHROME1", 16, {"stored": 12}, [4095]),
    ("MONOCHROME1", 16, {"signed": True}, [32767]),
    ("RGB", 8, {}, [0, 0, 0]),
    ("RGB", 8, {"planar": 1}, [0, 0, 0]),
    ("RGB", 16, {"planar": 1, "frames": 3}, [0, 0, 0]),
    ("YBR_FULL", 8, {}, [0, 128, 128]),
    ("YBR_FULL", 8, {"planar": 1}, [0, 128, 128]),
    ("YBR_FULL", 16, {}, [0, 32768, 32768]),
    ("YBR_FULL_422", 8, {}, [0, 128, 128]),
    ("YBR_FULL_422", 8, {"frames": 4}, [0, 128, 128]),
    ("MONOCHROME2", 8, {"frames": 5, "columns": 9}, [0]),  # odd length: a pad byte after the frames
    ("MONOCHROME2", 16, {"big_endian": True}, [0]),
    ("MONOCHROME1", 16, {"big_endian": True, "stored": 10}, [1023]),
]
RECTS = [Rect(2, 1, 3, 4), Rect(3, 0, 4, 7), Rect(-2, -3, 5, 5), Rect(8, 5, 10, 10), Rect(0, 0, 50, 50)]


@pytest.mark.parametrize("rect", RECTS, ids=lambda r: f"{r.x},{r.y},{r.width}x{r.height}")
@pytest.mark.parametrize(("photometric", "bits", "kw", "fill"), CASES, ids=lambda v: str(v))
def test_rectangle_filled_and_everything_else_untouched(
    photometric: str, bits: int, kw: dict[str, object], fill: list[int], rect: Rect
) -> None:
    ds = make(photometric, bits, **kw)  # type: ignore[arg-type]
    frames_total = int(ds.get("NumberOfFrames", 1))
    frames = [frames_total] if frames_total > 1 else None  # the last frame only, or every frame
    expected = oracle(ds, rect, frames, fill)
    count = redact_dataset(ds, [Region(rect, tuple(frames) if frames else None, ds.SOPInstanceUID)])
    assert count == (1 if frames else frames_total)
    assert bytes(ds.PixelData) == expected


@pytest.mark.parametrize(
    ("photometric", "bits", "kw", "fill"),
    [c for c in CASES if c[0] in ("MONOCHROME1", "MONOCHROME2", "RGB") and not c[2].get("big_endian")],
    ids=lambda v: str(v),
)
def test_pydicom_reads_the_fill_inside_and_the_original_outside(
    photometric: str, bits: int, kw: dict[str, object], fill: list[int]
) -> None:
    """The oracle's view of the bytes is pydicom's: written, read back, the pixels say the same."""
    ds = make(photometric, bits, **kw)  # type: ignore[arg-type]
    before = ds.pixel_array.copy()
    redact_dataset(ds, [Region(Rect(2, 1, 3, 4), None, ds.SOPInstanceUID)])
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    after = pydicom.dcmread(io.BytesIO(buf.getvalue())).pixel_array
    inside = np.zeros(after.shape[:-1] if len(fill) == 3 else after.shape, dtype=bool)
    inside[..., 1:5, 2:5] = True
    assert (after[inside] == (fill if len(fill) == 3 else fill[0])).all()
    assert (after[~inside] == before[~inside]).all()


def test_palette_fill_is_the_darkest_entry() -> None:
    ds = make("PALETTE COLOR", 8)
    entries = 256
    lut = np.arange(entries, dtype="<u2") * 256
    lut_red = lut.copy()
    lut_red[37] = 0  # entry 37 is black in every channel; entry 0 is black in green/blue only
    ds.RedPaletteColorLookupTableDescriptor = [entries, 0, 16]
    ds.GreenPaletteColorLookupTableDescriptor = [entries, 0, 16]
    ds.BluePaletteColorLookupTableDescriptor = [entries, 0, 16]
    green = lut.copy()
    green[37] = 0
    green[0] = 65535
    ds.RedPaletteColorLookupTableData = lut_red.tobytes()
    ds.GreenPaletteColorLookupTableData = green.tobytes()
    blue = lut.copy()
    blue[37] = 0
    ds.BluePaletteColorLookupTableData = blue.tobytes()
    expected = oracle(ds, Rect(1, 1, 2, 2), None, [37])
    redact_dataset(ds, [Region(Rect(1, 1, 2, 2), None, ds.SOPInstanceUID)])
    assert bytes(ds.PixelData) == expected


def test_ybr_422_rectangle_is_widened_to_pixel_pairs() -> None:
    ds = make("YBR_FULL_422", 8)
    redact_dataset(ds, [Region(Rect(3, 0, 2, 1), None, ds.SOPInstanceUID)])  # pixels 3-4: pairs 1 and 2
    row = bytes(ds.PixelData)[: COLS * 2]
    assert row[4:12] == bytes([0, 0, 128, 128, 0, 0, 128, 128])
    assert row[:4] != bytes([0, 0, 128, 128]) and row[12:16] != bytes([0, 0, 128, 128])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"BitsAllocated": 12}, "Bits Allocated 12"),
        ({"PhotometricInterpretation": "YBR_ICT"}, "YBR_ICT"),
        ({"Rows": ROWS * 3}, "pixel data holds"),
        ({"SamplesPerPixel": 3}, "samples per pixel"),
    ],
)
def test_what_cannot_be_redacted_exactly_is_refused(change: dict[str, object], message: str) -> None:
    ds = make("MONOCHROME2", 16)
    for k, v in change.items():
        setattr(ds, k, v)
    with pytest.raises(UnsupportedPixelsError, match=message):
        redact_dataset(ds, [Region(Rect(0, 0, 1, 1), None, ds.SOPInstanceUID)])


def test_a_frame_that_does_not_exist_is_an_error() -> None:
    ds = make("MONOCHROME2", 8, frames=2)
    with pytest.raises(RegionsError, match="frame 3 does not exist"):
        fill_rectangles(bytearray(ds.PixelData), layout_of(ds), [(Rect(0, 0, 1, 1), [3])])


def test_regions_of_other_instances_change_nothing() -> None:
    ds = make("MONOCHROME2", 8)
    before = bytes(ds.PixelData)
    assert redact_dataset(ds, [Region(Rect(0, 0, 5, 5), None, "1.2.3")]) == 0
    assert bytes(ds.PixelData) == before
