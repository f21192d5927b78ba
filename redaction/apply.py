"""Black out regions of a dataset's pixels (Clean Pixel Data, PS3.15 E.3.1): the library's one entry point.

    count = redact_dataset(ds, regions)                 # natively: compressed data is decoded by pydicom
    count = redact_dataset(ds, regions, decoded=pixels) # in the browser: the page's codecs decoded it

Regions are matched on the dataset's ORIGINAL UIDs, so call this before the header is de-identified.
Fail closed: anything that cannot be redacted exactly raises a RedactionError and nothing is half done
to the caller's output (the caller writes nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pydicom.uid import UID, ExplicitVRBigEndian

from .decoded import DecodedPixels, native_decode, transfer_syntax, write_decoded
from .errors import UnsupportedPixelsError
from .layout import layout_of
from .rectangles import fill_rectangles
from .regions import Region, regions_for


def redact_dataset(
    ds: Any,
    regions: Iterable[Region],
    *,
    decoded: DecodedPixels | None = None,
    decode: Callable[[Any], DecodedPixels] = native_decode,
) -> int:
    """Fill the regions that apply to `ds`; returns the (rectangle, frame) fills made, 0 if none apply."""
    matching = regions_for(regions, ds)
    if not matching:
        return 0
    if "PixelData" not in ds:
        raise UnsupportedPixelsError(
            "regions to redact were given, but the file has no Pixel Data (7FE0,0010)"
        )
    ts = transfer_syntax(ds)
    if ts and UID(ts).is_encapsulated:
        write_decoded(ds, decoded if decoded is not None else decode(ds))
    elif decoded is not None:
        raise UnsupportedPixelsError("decoded pixels were given for pixel data that is not compressed")
    data = bytearray(ds.PixelData)
    layout = layout_of(ds, little_endian=ts != ExplicitVRBigEndian)
    count = fill_rectangles(data, layout, [(r.rect, r.frames) for r in matching], ds)
    ds.PixelData = bytes(data)
    return count
