"""One frame's bytes and what a viewer needs to show it (the page's canvas renders; nothing is decided here).

Uncompressed data: the frame's bytes as stored. Encapsulated data: the frame's codestream (pydicom's
frame splitting, PS3.5 A.4), which the page's codecs decode. Pure Python: runs in the browser.
"""

from __future__ import annotations

from typing import Any

from pydicom.encaps import get_frame
from pydicom.uid import UID, ExplicitVRBigEndian

from .errors import UnsupportedPixelsError
from .jpeg_baseline import IN_PLACE, grid
from .layout import Layout, layout_of
from .palette import palette_of

# How the page decodes each encapsulated transfer syntax (PS3.5 A.4, PS3.5 Table A-1).
CODECS = {
    "1.2.840.10008.1.2.4.50": "jpeg",  # baseline 8-bit
    "1.2.840.10008.1.2.4.51": "jpeg12",  # extended 12-bit: no exact browser decoder (flagged)
    "1.2.840.10008.1.2.4.57": "jpeg-lossless",
    "1.2.840.10008.1.2.4.70": "jpeg-lossless",
    "1.2.840.10008.1.2.4.80": "jls",
    "1.2.840.10008.1.2.4.81": "jls",
    "1.2.840.10008.1.2.4.90": "j2k",
    "1.2.840.10008.1.2.4.91": "j2k",
    "1.2.840.10008.1.2.5": "rle",
}


def _first(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        value = value[0] if len(value) else None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _functional(ds: Any, sequence: str, keyword: str) -> Any:
    """A value from the shared functional groups (enhanced multi-frame IODs), or None."""
    for group in ds.get("SharedFunctionalGroupsSequence") or []:
        for item in group.get(sequence) or []:
            if keyword in item:
                return item.get(keyword)
    return None


def _display(ds: Any) -> dict[str, Any]:
    transform = "PixelValueTransformationSequence"
    slope = _first(ds.get("RescaleSlope")) or _first(_functional(ds, transform, "RescaleSlope"))
    intercept = _first(ds.get("RescaleIntercept"))
    if intercept is None:
        intercept = _first(_functional(ds, transform, "RescaleIntercept"))
    center = _first(ds.get("WindowCenter")) or _first(_functional(ds, "FrameVOILUTSequence", "WindowCenter"))
    width = _first(ds.get("WindowWidth")) or _first(_functional(ds, "FrameVOILUTSequence", "WindowWidth"))
    return {
        "slope": slope or 1.0,
        "intercept": intercept or 0.0,
        "window": [center, width] if center is not None and width else None,
    }


def _palette(ds: Any) -> dict[str, Any] | None:
    if str(ds.get("PhotometricInterpretation", "")).strip() != "PALETTE COLOR":
        return None
    p = palette_of(ds)
    return {"red": p.red, "green": p.green, "blue": p.blue, "first": p.first, "bits": p.bits}


def _check_shown(layout: Layout) -> None:
    """Refuse what the viewer has no path for, in words a reviewer understands: the page would otherwise
    fail later with a message about redaction, or hand a packed bit stream to a codec."""
    if layout.bits_allocated == 1:
        # Binary segmentations (PS3.3 C.8.20.2) pack eight pixels to a byte; they are masks drawn over
        # another series, not pictures a person checks for burned-in text.
        raise UnsupportedPixelsError("1-bit images (segmentations) are not shown by this viewer")
    if layout.bits_allocated not in (8, 16, 32):
        raise UnsupportedPixelsError(
            f"Bits Allocated {layout.bits_allocated} is not shown by this viewer (8, 16 and 32 are)"
        )


def image_info(ds: Any) -> dict[str, Any]:
    """The layout, display values and codec of the dataset's pixel data."""
    if "PixelData" not in ds:
        raise UnsupportedPixelsError("no Pixel Data (7FE0,0010): nothing to show")
    meta = getattr(ds, "file_meta", None)
    ts = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
    encapsulated = bool(ts) and UID(ts).is_encapsulated
    layout = layout_of(ds, little_endian=ts != ExplicitVRBigEndian)
    _check_shown(layout)
    return {
        "rows": layout.rows,
        "columns": layout.columns,
        "frames": layout.frames,
        "samples": layout.samples,
        "bits_allocated": layout.bits_allocated,
        "bits_stored": layout.bits_stored,
        "signed": layout.signed,
        "planar": layout.planar,
        "photometric": layout.photometric,
        "little_endian": layout.little_endian,
        "transfer_syntax": ts,
        "codec": CODECS.get(ts, "unsupported") if encapsulated else "none",
        # Regions are widened to pixel pairs when written (rectangles.effective): stored YBR_FULL_422 only;
        # compressed pixels are decoded and written whole. The viewer shows them as they will be written.
        "pairs": layout.subsampled and not encapsulated,
        # JPEG baseline is blanked block by block in its codestream (in_place.py): regions are widened to
        # this grid of blocks (MCUs), [width, height] in pixels; None where regions are filled exactly.
        "redaction_grid": _grid(ds, ts),
        "palette": _palette(ds),
        **_display(ds),
    }


def _grid(ds: Any, ts: str) -> list[int] | None:
    if ts not in IN_PLACE:
        return None
    try:
        return list(grid(frame_bytes(ds, 0)))
    except UnsupportedPixelsError:
        return None  # not blanked in place (e.g. progressive): decoded and filled exactly instead


def frame_bytes(ds: Any, index: int) -> bytes:
    """Frame `index` (0-based): stored bytes, or the codestream when encapsulated."""
    info_frames = max(1, int(ds.get("NumberOfFrames") or 1))
    if not 0 <= index < info_frames:
        raise UnsupportedPixelsError(
            f"frame {index + 1} does not exist: the image has {info_frames} frame(s)"
        )
    meta = getattr(ds, "file_meta", None)
    ts = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
    if ts and UID(ts).is_encapsulated:
        try:
            return bytes(get_frame(ds.PixelData, index, number_of_frames=info_frames))
        except Exception as exc:
            raise UnsupportedPixelsError(
                f"cannot find frame {index + 1} in the encapsulated data: {exc}"
            ) from None
    layout = layout_of(ds, little_endian=ts != ExplicitVRBigEndian)
    data = ds.PixelData
    layout.check(len(data))
    start = index * layout.frame_bytes
    return bytes(data[start : start + layout.frame_bytes])
