"""JPEG baseline pixel data redacted without decoding: each frame's codestream blanked block by block.

The transfer syntax, Lossy Image Compression, its ratio and method stay as they were: no sample outside
the blanked blocks changes, and nothing is compressed again (PS3.3 C.7.6.1.1.5 describes the compression
history, which this adds nothing to). Frames no region touches keep their codestream byte for byte; the
frames are encapsulated again one fragment each (PS3.5 A.4), with a Basic Offset Table if the source had
one, and the Extended Offset Table (which would no longer match) removed. Text segments (COM, APPn) are
left to the planner, which strips them from every frame afterwards (anonymizer/codestream).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydicom.encaps import encapsulate, generate_frames

from .errors import RegionsError, UnsupportedPixelsError
from .jpeg_baseline import blank_frame
from .jpeg_baseline import grid as codestream_grid
from .layout import layout_of
from .rectangles import Rect
from .regions import Region


def _frames(ds: Any, count: int) -> list[bytes]:
    try:
        frames = [bytes(f) for f in generate_frames(ds.PixelData, number_of_frames=count)]
    except Exception as exc:
        raise UnsupportedPixelsError(f"cannot find the frames in the encapsulated data: {exc}") from None
    if len(frames) != count:
        raise UnsupportedPixelsError(f"the encapsulated data holds {len(frames)} frame(s), not {count}")
    return frames


def grid(ds: Any) -> tuple[int, int]:
    """The block grid regions are widened to (the first frame's MCU size)."""
    return codestream_grid(_frames(ds, max(1, int(ds.get("NumberOfFrames") or 1)))[0])


def redact_in_place(ds: Any, regions: Sequence[Region]) -> int:
    """Blank the regions in every frame they name; returns the (rectangle, frame) fills, as fill_rectangles.
    Raises NotInPlaceError for a codestream this cannot blank (the caller may decode it instead)."""
    layout = layout_of(ds)
    if layout.photometric not in ("MONOCHROME1", "MONOCHROME2", "RGB", "YBR_FULL", "YBR_FULL_422"):
        raise UnsupportedPixelsError(f"Photometric Interpretation {layout.photometric!r} cannot be redacted")
    per_frame: dict[int, list[Rect]] = {}
    count = 0
    for region in regions:
        numbers = range(1, layout.frames + 1) if region.frames is None else region.frames
        for number in numbers:
            if not 1 <= number <= layout.frames:
                raise RegionsError(f"frame {number} does not exist: the image has {layout.frames} frame(s)")
            per_frame.setdefault(number - 1, []).append(region.rect)
            count += 1
    frames = _frames(ds, layout.frames)
    monochrome1, rgb = layout.photometric == "MONOCHROME1", layout.photometric == "RGB"
    for index, rects in per_frame.items():
        frames[index] = blank_frame(frames[index], rects, monochrome1=monochrome1, rgb=rgb).data
    had_bot = _has_offset_table(ds.PixelData)
    for keyword in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"):
        if keyword in ds:
            del ds[keyword]
    ds.PixelData = encapsulate(frames, has_bot=had_bot)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    return count


def _has_offset_table(value: bytes) -> bool:
    """Whether the first item (the Basic Offset Table, PS3.5 A.4) has a value."""
    return len(value) >= 8 and int.from_bytes(value[4:8], "little") > 0
