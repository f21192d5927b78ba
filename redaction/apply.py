"""Black out regions of a dataset's pixels (Clean Pixel Data, PS3.15 E.3.1): the library's one entry point.

    count = redact_dataset(ds, regions)                 # natively: compressed data is decoded by pydicom
    count = redact_dataset(ds, regions, decoded=pixels) # in the browser: the page's codecs decoded it

JPEG baseline is blanked in its codestream (in_place.py), natively and in the page alike: no decoding, the
transfer syntax and the compression history kept. A codestream that cannot be blanked there (a process
other than Huffman sequential 8-bit, say) is decoded instead, as every other compressed syntax is.

Regions are matched on the dataset's ORIGINAL UIDs, so call this before the header is de-identified.
Fail closed: anything that cannot be redacted exactly raises a RedactionError and nothing is half done
to the caller's output (the caller writes nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from pydicom.uid import UID, ExplicitVRBigEndian

from .decoded import DecodedPixels, native_decode, transfer_syntax, write_decoded
from .errors import UnsupportedPixelsError
from .in_place import redact_in_place
from .jpeg_baseline import IN_PLACE, NotInPlaceError
from .layout import layout_of
from .rectangles import fill_rectangles
from .reencode import JpegLsEncoder, native_jpeg_ls, reencode
from .regions import Region, regions_for
from .signatures import suggested_regions


@dataclass(frozen=True)
class PixelEdit:
    """What a reviewer decided about one file's pixels (the engine's input for Clean Pixel Data)."""

    regions: tuple[Region, ...] = ()  # rectangles to black out (matched on the file's original UIDs)
    reviewed: bool = False  # a person looked at every frame and confirmed the pixels clean as written
    decoded: DecodedPixels | None = None  # compressed pixels decoded by the page's codecs
    jpeg_ls: JpegLsEncoder | None = None  # the page's JPEG-LS encoder (natively pyjpegls is looked for)
    signatures: bool = False  # also black out what CTP's library proposes for this device (CLI opt-in)

    def for_dataset(self, ds: Any) -> PixelEdit:
        """The edit with the library's proposals for this (original) header resolved into regions."""
        if not self.signatures:
            return self
        sop = str(ds.get("SOPInstanceUID", ""))
        found = tuple(replace(r, sop_instance_uid=sop) for r in suggested_regions(ds))
        return replace(self, regions=self.regions + found, signatures=False)

    def cleans(self, ds: Any) -> bool:
        """Whether the pixels will be clean by a person's decision: redacted, or reviewed and confirmed."""
        return self.reviewed or bool(regions_for(self.regions, ds))


def redact_dataset(
    ds: Any,
    regions: Iterable[Region],
    *,
    decoded: DecodedPixels | None = None,
    decode: Callable[[Any], DecodedPixels] = native_decode,
    jpeg_ls: JpegLsEncoder | None = None,
) -> int:
    """Fill the regions that apply to `ds`; returns the (rectangle, frame) fills made, 0 if none apply.
    Compressed pixels are decoded, filled and encoded again losslessly (reencode.py): JPEG-LS with
    `jpeg_ls` (default: pydicom's pyjpegls, where installed), RLE Lossless otherwise."""
    matching = regions_for(regions, ds)
    if not matching:
        return 0
    if "PixelData" not in ds:
        raise UnsupportedPixelsError(
            "regions to redact were given, but the file has no Pixel Data (7FE0,0010)"
        )
    ts = transfer_syntax(ds)
    if ts in IN_PLACE and decoded is None:
        try:
            return redact_in_place(ds, matching)
        except NotInPlaceError as exc:
            try:
                decoded = decode(ds)
            except UnsupportedPixelsError as fail:
                raise UnsupportedPixelsError(
                    f"the JPEG cannot be blacked out in its compressed data ({exc.reason}) and {fail.reason}"
                ) from None
    encapsulated = bool(ts) and UID(ts).is_encapsulated
    if encapsulated:
        write_decoded(ds, decoded if decoded is not None else decode(ds))
    elif decoded is not None:
        raise UnsupportedPixelsError("decoded pixels were given for pixel data that is not compressed")
    data = bytearray(ds.PixelData)
    layout = layout_of(ds, little_endian=ts != ExplicitVRBigEndian)
    count = fill_rectangles(data, layout, [(r.rect, r.frames) for r in matching], ds)
    ds.PixelData = bytes(data)
    if encapsulated:
        reencode(ds, ts, jpeg_ls if jpeg_ls is not None else native_jpeg_ls())
    return count
