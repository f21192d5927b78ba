"""An embedded overlay in the unused high bits of a real CT (retired, PS3.3 C.9.2; still in old files).

    data, ds = embedded_overlay_ct()   # Part 10 bytes, and the data set they were written from

pydicom's CT_small as a 12-bit unsigned CT (its values 128..2191 fit), "DOE JOHN" over "DOE" written into
bit 15 of 550 pixel values, declared in group 6000 with Overlay Bits Allocated 16 and Bit Position 15: the
60xx elements are removed by the profile, the bits are not unless the engine clears them. A helper for
tests, not a test module.
"""

from __future__ import annotations

import io

import pydicom
from corpus import file
from pydicom.dataset import Dataset

# A 5x7 font, enough to write a name into an embedded overlay.
_GLYPHS = {
    "D": ["####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."],
    "O": [".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."],
    "E": ["#####", "#....", "#....", "####.", "#....", "#....", "#####"],
    "J": ["..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."],
    "H": ["#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
    "N": ["#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#", "#...#"],
    " ": ["....."] * 7,
}


def _text_pixels(lines: list[str], scale: int, count: int) -> list[tuple[int, int]]:
    """(row, column) of the first `count` pixels of the lines drawn at `scale`, from (10, 4)."""
    pixels = [
        (10 + (n * 9 + r) * scale + dr, 4 + (i * 6 + c) * scale + dc)
        for n, text in enumerate(lines)
        for r in range(7)
        for i, ch in enumerate(text)
        for c in range(5)
        if _GLYPHS[ch][r][c] == "#"
        for dr in range(scale)
        for dc in range(scale)
    ]
    assert len(pixels) >= count
    return sorted(pixels)[:count]


def embedded_overlay_ct(count: int = 550) -> tuple[bytes, Dataset]:
    """The module's file, with the text in bit 15 of its first `count` pixels (at most 660)."""
    ds = pydicom.dcmread(file("CT_small.dcm"))
    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 12, 11, 0
    values = bytearray(ds.PixelData)
    for row, column in _text_pixels(["DOE JOHN", "DOE"], 2, count):
        values[(row * ds.Columns + column) * 2 + 1] |= 0x80
    ds.PixelData = bytes(values)
    ds.add_new(0x60000010, "US", ds.Rows)
    ds.add_new(0x60000011, "US", ds.Columns)
    ds.add_new(0x60000040, "CS", "G")
    ds.add_new(0x60000050, "SS", [1, 1])
    ds.add_new(0x60000100, "US", 16)  # Overlay Bits Allocated: the overlay lives in Pixel Data
    ds.add_new(0x60000102, "US", 15)  # Overlay Bit Position
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue(), ds
