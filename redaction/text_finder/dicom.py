"""The frames of a pydicom data set as the finder takes them (native: pydicom's decoders and numpy).

Frames are decoded one at a time (pydicom.pixels.iter_pixels): a long cine is never held whole. YBR
(compressed or not, 4:2:2 or full) is converted to RGB by pydicom, as the page's codecs do; PALETTE COLOR
is looked up into RGB (PS3.3 C.7.9). Coordinates are those of the stored image, so a box found here is the
rectangle that redaction blacks out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import UnsupportedPixelsError


@dataclass(frozen=True)
class Frames:
    """An image's frames, decoded lazily, and the photometric interpretation they come out in."""

    dataset: Any
    photometric: str  # MONOCHROME1, MONOCHROME2 or RGB
    count: int

    def __iter__(self) -> Iterator[np.ndarray[Any, Any]]:
        from pydicom.pixels.processing import apply_color_lut
        from pydicom.pixels.utils import iter_pixels

        palette = str(self.dataset.get("PhotometricInterpretation", "")).strip() == "PALETTE COLOR"
        try:
            for frame in iter_pixels(self.dataset):
                yield apply_color_lut(frame, self.dataset) if palette else frame
        except Exception as exc:
            raise UnsupportedPixelsError(
                f"cannot decode the pixels to look for text: {type(exc).__name__}: {exc}"
            ) from None


def frames_of(ds: Any) -> Frames:
    """The frames of `ds`; raises UnsupportedPixelsError for what cannot be looked at."""
    if "PixelData" not in ds:
        raise UnsupportedPixelsError("no Pixel Data (7FE0,0010): no image to look for text in")
    photometric = str(ds.get("PhotometricInterpretation", "")).strip().upper()
    if int(ds.get("BitsAllocated") or 0) == 1:
        raise UnsupportedPixelsError("1-bit images (segmentations) hold no burned-in text to look for")
    samples = int(ds.get("SamplesPerPixel") or 1)
    if photometric in ("MONOCHROME1", "MONOCHROME2") and samples == 1:
        shown = photometric
    elif samples == 3 or photometric == "PALETTE COLOR":
        shown = "RGB"  # RGB as stored; YBR converted by pydicom; palette looked up
    else:
        raise UnsupportedPixelsError(
            f"Photometric Interpretation {photometric or '(none)'} with {samples} sample(s) per pixel "
            "cannot be looked at for text"
        )
    return Frames(ds, shown, max(1, int(ds.get("NumberOfFrames") or 1)))
