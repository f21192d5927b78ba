"""How uncompressed pixel data is laid out in bytes, and what "black" is in it (PS3.3 C.7.6.3, PS3.5 8.2).

Pure Python: this runs in the browser (Pyodide has no numpy here) as well as natively.

Fill values ("black as the image represents it"):
- MONOCHROME2: the lowest stored value: 0 when unsigned; when signed, the most negative value Bits Stored
  can hold (0 would show as mid-grey on a signed CT, which is not black).
- MONOCHROME1 (white is low): the highest stored value.
- RGB: (0, 0, 0).  YBR_FULL / YBR_FULL_422: Y = 0 and Cb = Cr = half range, (0, 128, 128) at 8 bits.
- PALETTE COLOR: the stored value whose palette entry is darkest (lowest luminance, ITU-R BT.601 weights;
  segmented tables expanded, palette.py).
Values are written in Bits Allocated bits, sign-extended when signed (as pydicom and most writers store them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import UnsupportedPixelsError
from .palette import palette_of

SUPPORTED_PHOTOMETRIC = frozenset(
    {"MONOCHROME1", "MONOCHROME2", "RGB", "YBR_FULL", "YBR_FULL_422", "PALETTE COLOR"}
)


@dataclass(frozen=True)
class Layout:
    rows: int
    columns: int
    frames: int
    samples: int
    bits_allocated: int
    bits_stored: int
    signed: bool
    planar: int  # 0: samples interleaved per pixel; 1: one plane per sample (PS3.3 C.7.6.3.1.3)
    photometric: str
    little_endian: bool = True

    @property
    def sample_bytes(self) -> int:
        return self.bits_allocated // 8

    @property
    def subsampled(self) -> bool:
        """YBR_FULL_422 uncompressed: two horizontal pixels share Cb and Cr, stored Y1 Y2 Cb Cr."""
        return self.photometric == "YBR_FULL_422"

    @property
    def row_bytes(self) -> int:
        if self.subsampled:
            return self.columns * 2 * self.sample_bytes
        return self.columns * self.sample_bytes * (1 if self.planar else self.samples)

    @property
    def frame_bytes(self) -> int:
        if self.subsampled:
            return self.rows * self.row_bytes
        return self.rows * self.columns * self.samples * self.sample_bytes

    def check(self, data_length: int) -> None:
        """Refuse what cannot be redacted exactly; the data must hold every frame (fail closed)."""
        where = f"{self.rows}x{self.columns}, {self.frames} frame(s)"
        if self.photometric not in SUPPORTED_PHOTOMETRIC:
            raise UnsupportedPixelsError(
                f"Photometric Interpretation {self.photometric!r} cannot be redacted"
            )
        if self.bits_allocated not in (8, 16, 32):
            raise UnsupportedPixelsError(
                f"Bits Allocated {self.bits_allocated} cannot be redacted (8, 16, 32 can)"
            )
        if self.samples not in (1, 3) or (self.samples == 3) != (self.photometric[:3] in ("RGB", "YBR")):
            raise UnsupportedPixelsError(
                f"{self.samples} samples per pixel with {self.photometric} cannot be redacted"
            )
        if self.subsampled and (self.planar or self.columns % 2):
            raise UnsupportedPixelsError(
                "YBR_FULL_422 needs planar configuration 0 and an even number of columns"
            )
        if min(self.rows, self.columns, self.frames) < 1 or not 0 < self.bits_stored <= self.bits_allocated:
            raise UnsupportedPixelsError(
                f"image geometry {where}, Bits Stored {self.bits_stored} is not valid"
            )
        if data_length < self.frames * self.frame_bytes:
            raise UnsupportedPixelsError(
                f"pixel data holds {data_length} bytes; {where} need {self.frames * self.frame_bytes}"
            )


def pixel_attribute(ds: Any, keyword: str, default: int | None = None) -> int:
    """An integer attribute of the pixel description; missing or not a number: the layout is unknown."""
    value = ds.get(keyword)
    if value is None or value == "":
        if default is None:
            raise UnsupportedPixelsError(f"{keyword} is missing: the pixel layout is unknown")
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise UnsupportedPixelsError(f"{keyword} {value!r} is not a number") from None


def layout_of(ds: Any, *, little_endian: bool = True) -> Layout:
    """The layout the dataset's Image Pixel module describes (its pixel data uncompressed)."""
    return Layout(
        rows=pixel_attribute(ds, "Rows"),
        columns=pixel_attribute(ds, "Columns"),
        frames=max(1, pixel_attribute(ds, "NumberOfFrames", 1)),
        samples=pixel_attribute(ds, "SamplesPerPixel", 1),
        bits_allocated=pixel_attribute(ds, "BitsAllocated"),
        bits_stored=pixel_attribute(ds, "BitsStored", pixel_attribute(ds, "BitsAllocated")),
        signed=pixel_attribute(ds, "PixelRepresentation", 0) == 1,
        planar=pixel_attribute(ds, "PlanarConfiguration", 0),
        photometric=str(ds.get("PhotometricInterpretation", "")).strip().upper(),
        little_endian=little_endian,
    )


def _encode(value: int, layout: Layout) -> bytes:
    size = layout.sample_bytes
    mask = (1 << (8 * size)) - 1
    return (value & mask).to_bytes(size, "little" if layout.little_endian else "big")


def fill_samples(layout: Layout, ds: Any = None) -> list[bytes]:
    """The encoded fill value of each sample (one for monochrome/palette, three for colour)."""
    high = (1 << (layout.bits_stored - 1)) - 1 if layout.signed else (1 << layout.bits_stored) - 1
    low = -(1 << (layout.bits_stored - 1)) if layout.signed else 0
    p = layout.photometric
    if p == "MONOCHROME2":
        values = [low]
    elif p == "MONOCHROME1":
        values = [high]
    elif p == "RGB":
        values = [0, 0, 0]
    elif p in ("YBR_FULL", "YBR_FULL_422"):
        half = 1 << (layout.bits_stored - 1)
        values = [0, half, half]
    elif p == "PALETTE COLOR":
        if ds is None:
            raise UnsupportedPixelsError("PALETTE COLOR needs the palette to find its darkest entry")
        values = [palette_of(ds).darkest()]
    else:
        raise UnsupportedPixelsError(f"Photometric Interpretation {p!r} cannot be redacted")
    return [_encode(v, layout) for v in values]
