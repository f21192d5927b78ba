"""Bits outside the stored range of uncompressed Pixel Data are cleared: an embedded overlay cannot survive.

A pixel value holds Bits Stored bits, its most significant at High Bit; the other bits of its Bits Allocated
are not part of the image (PS3.5 8.1.1). Retired embedded overlays (PS3.3 C.9.2, Overlay Bits Allocated /
Bit Position pointing into Pixel Data) were drawn there, e.g. text in bit 15 of a 12-bit CT. The engine
removes the 60xx elements that describe them, but a viewer that ignores High Bit still shows the bits, so
every uncompressed frame written has them cleared, whether or not an overlay is declared:
- unsigned (Pixel Representation 0): every bit outside [High Bit - Bits Stored + 1 .. High Bit] is zeroed;
- signed (1): bits above High Bit become the sign extension of bit High Bit (so a reader that masks to
  Bits Stored and one that reads the whole Bits Allocated see the same value), bits below are zeroed.
A value is counted when any of its bits changed (for signed values, a correct sign extension is not a bit
"set": it is the value).

Pure Python (Pyodide has no numpy here): every sample has the same layout whatever Samples per Pixel,
Planar Configuration or the number of frames, so the data is cut into byte columns (`data[o::n]`, one per
byte of a sample) that `bytes.translate` rewrites at C speed; no Python loop runs per pixel. Float and
Double Float Pixel Data (7FE0,0008/0009) have no High Bit and are never touched; encapsulated (compressed)
Pixel Data is not handled here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydicom.uid import UID, ExplicitVRBigEndian

from .errors import UnsupportedPixelsError
from .layout import pixel_attribute

# Bytes rewritten per pass (a multiple of 4): bounds the copies held at once (the page's memory) while
# keeping each pass long enough that the C-speed slicing dominates.
_CHUNK = 1 << 22
_IDENTITY = bytes(range(256))


@dataclass(frozen=True)
class BitLayout:
    """Where a pixel value's bits are (Image Pixel module, PS3.3 C.7.6.3.1; PS3.5 8.1.1)."""

    bits_allocated: int
    bits_stored: int
    high_bit: int
    signed: bool
    little_endian: bool = True

    @property
    def low_bit(self) -> int:
        return self.high_bit - self.bits_stored + 1

    @property
    def full(self) -> bool:
        """Every allocated bit is a stored bit: nothing can hide."""
        return self.bits_stored == self.bits_allocated

    def check(self) -> None:
        if self.bits_allocated not in (1, 8, 16, 32):
            raise UnsupportedPixelsError(
                f"Bits Allocated {self.bits_allocated} is not a layout of uncompressed pixel data "
                "this engine can read (1, 8, 16 and 32 are)"
            )
        if not 0 < self.bits_stored <= self.bits_allocated or not (
            self.bits_stored - 1 <= self.high_bit < self.bits_allocated
        ):
            raise UnsupportedPixelsError(
                f"Bits Stored {self.bits_stored} and High Bit {self.high_bit} do not fit in Bits Allocated "
                f"{self.bits_allocated} (PS3.5 8.1.1)"
            )


@dataclass(frozen=True)
class Cleaned:
    """The cleaned bytes and how many pixel values had bits set outside the stored range."""

    data: bytes
    values: int
    layout: BitLayout

    @property
    def rule(self) -> str:
        below = f", bits below bit {self.layout.low_bit} zeroed" if self.layout.low_bit else ""
        if self.layout.signed:
            return (
                f"bits above High Bit set to the sign of High Bit{below}: {self.values} pixel values had "
                "other bits there (an embedded overlay, or a writer that does not sign-extend) (PS3.5 8.1.1)"
            )
        return (
            f"bits above High Bit zeroed{below}: {self.values} pixel values had bits set "
            "(an embedded overlay?) (PS3.5 8.1.1)"
        )

    @property
    def flag(self) -> str:
        """For the reviewer: what it means first (something may be hidden there), then what was done."""
        if self.layout.signed:
            return (
                f"pixel data: {self.values} pixel values had bits outside Bits Stored that were not the "
                "sign (an embedded overlay, hidden marks, or a writer that does not sign-extend); they "
                "are rewritten in the output, the image's values unchanged"
            )
        return (
            f"pixel data: {self.values} pixel values had bits set outside Bits Stored (an embedded overlay "
            "or hidden marks?); they are cleared in the output, the image's values unchanged"
        )


def _mask(layout: BitLayout, j: int) -> int:
    """The stored bits within byte `j` of a value (0: least significant)."""
    low, high = max(layout.low_bit, 8 * j), min(layout.high_bit, 8 * j + 7)
    return sum(1 << (b - 8 * j) for b in range(low, high + 1))


def _tables(layout: BitLayout) -> list[bytes | None]:
    """Per byte of a value, least significant first: its translation table, or None for "the sign byte"
    (0x00 or 0xFF from bit High Bit; signed only, bytes wholly above High Bit)."""
    k, s = divmod(layout.high_bit, 8)
    out: list[bytes | None] = []
    for j in range(layout.bits_allocated // 8):
        mask = _mask(layout, j)
        if layout.signed and j > k:
            out.append(None)
        elif layout.signed and j == k:
            extension = (0xFF << (s + 1)) & 0xFF
            out.append(bytes((b & mask) | (extension if b >> s & 1 else 0) for b in range(256)))
        else:
            out.append(bytes(b & mask for b in range(256)))
    return out


def _clean_chunk(chunk: bytes, layout: BitLayout, tables: list[bytes | None]) -> tuple[bytes, int]:
    n = len(tables)
    offsets = [j if layout.little_endian else n - 1 - j for j in range(n)]
    k, s = divmod(layout.high_bit, 8)
    sign = bytes(0xFF if b >> s & 1 else 0 for b in range(256))
    changed: list[tuple[int, bytes, bytes, bytes | None]] = []  # (offset, old column, new column, table)
    for j, table in enumerate(tables):
        if table == _IDENTITY:
            continue
        old = chunk[offsets[j] :: n]
        col = chunk[offsets[k] :: n].translate(sign) if table is None else old.translate(table)
        if col != old:
            changed.append((offsets[j], old, col, table))
    if not changed:
        return chunk, 0
    new = bytearray(chunk)
    for offset, _, col, _ in changed:
        new[offset::n] = col
    if len(changed) == 1 and changed[0][3] is not None:
        # One byte of each value changed (the high byte of 12-bit data): count where the table changes it.
        table = changed[0][3]
        flags = bytes(int(table[b] != b) for b in range(256))
        return bytes(new), changed[0][1].translate(flags).count(1)
    differ = 0  # per value, a non-zero byte where any of its bytes changed
    for _, old, col, _ in changed:
        differ |= int.from_bytes(old, "little") ^ int.from_bytes(col, "little")
    count = len(chunk) // n
    return bytes(new), count - differ.to_bytes(count, "little").count(0)


def clean_high_bits(data: bytes, layout: BitLayout) -> Cleaned:
    """Clear the bits outside the stored range of every value (see the module's docstring).

    A trailing partial value (the padding byte of odd-length 8-bit data, PS3.5 7.1.1) is left as it is.
    1-bit data (packed, every bit a pixel) and data whose every allocated bit is stored come back as given.
    """
    layout.check()
    if layout.bits_allocated == 1 or layout.full:
        return Cleaned(data, 0, layout)
    tables = _tables(layout)
    n = len(tables)
    whole = len(data) - len(data) % n
    view = memoryview(data)
    parts: list[bytes] = []  # from the first chunk that changed: until then the data is its own copy
    values = 0
    for start in range(0, whole, _CHUNK):
        chunk = view[start : min(whole, start + _CHUNK)].tobytes()
        cleaned, count = _clean_chunk(chunk, layout, tables)
        if count and not values:
            parts.append(view[:start].tobytes())
        if count or values:
            parts.append(cleaned)
        values += count
    if not values:
        return Cleaned(data, 0, layout)
    return Cleaned(b"".join(parts) + bytes(data[whole:]), values, layout)


def _transfer_syntax(ds: Any) -> UID | None:
    meta = getattr(ds, "file_meta", None)
    ts = meta.get("TransferSyntaxUID") if meta is not None else None
    return UID(str(ts)) if ts else None


def bit_layout_of(ds: Any) -> BitLayout | None:
    """The bit layout of the dataset's Pixel Data (7FE0,0010), or None when there is none to clean here:
    no Pixel Data, or encapsulated. Byte order: the transfer syntax, or without one how the file was read."""
    if "PixelData" not in ds:
        return None
    ts = _transfer_syntax(ds)
    if ts is not None and ts.is_encapsulated:
        return None
    if ts is not None:
        little = ts != ExplicitVRBigEndian
    else:
        encoding = getattr(ds, "original_encoding", (None, True))
        little = encoding[1] is not False
    allocated = pixel_attribute(ds, "BitsAllocated")
    stored = pixel_attribute(ds, "BitsStored", allocated)
    return BitLayout(
        bits_allocated=allocated,
        bits_stored=stored,
        high_bit=pixel_attribute(ds, "HighBit", stored - 1),
        signed=pixel_attribute(ds, "PixelRepresentation", 0) == 1,
        little_endian=little,
    )


def clean_pixel_data(ds: Any) -> Cleaned | None:
    """The dataset's uncompressed Pixel Data with bits outside the stored range cleared, or None when it
    has none (or it is encapsulated). Does not change `ds`: the caller plans the change."""
    layout = bit_layout_of(ds)
    if layout is None:
        return None
    return clean_high_bits(ds.PixelData, layout)
