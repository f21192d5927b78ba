"""Palette colour lookup tables (PS3.3 C.7.6.3.1.5-6, C.7.9): ordinary or segmented, as plain lists.

The viewer colours PALETTE COLOR pixels through them, and redaction fills with the stored value whose
entry is darkest (layout.fill_samples). Pure Python: this runs in the browser, where Pyodide has no numpy.

Segmented tables (C.7.9.2) are expanded here rather than by pydicom's `_expand_segmented_lut`: that
helper needs numpy for linear segments (np.linspace) and reads an indirect segment's offset as an index
into the words, where the standard and GDCM read a byte offset. Linear segments are computed with the
same float arithmetic as pydicom (np.linspace, then np.around: round half to even) so the page shows
exactly what a native rendering through pydicom's apply_color_lut shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from pydicom.uid import ExplicitVRBigEndian

from .errors import UnsupportedPixelsError

COLOURS = ("Red", "Green", "Blue")
_DISCRETE, _LINEAR, _INDIRECT = 0, 1, 2
# An indirect segment copies segments that may themselves be indirect: bound the nesting (a crafted
# table could otherwise recurse past the interpreter's stack) and the work (copies of empty segments
# add no entries, so the entry count alone would not stop an exponential expansion).
_MAX_NESTING = 16
_MAX_STEPS = 1 << 20


@dataclass(frozen=True)
class Palette:
    """The Red, Green and Blue Palette Color Lookup Tables, expanded (PS3.3 C.7.6.3.1.5, C.7.9)."""

    first: int  # the stored value mapped to the first entry
    bits: int  # bits per entry
    red: list[int]
    green: list[int]
    blue: list[int]

    def darkest(self) -> int:
        """The stored value whose entry is darkest (ITU-R BT.601 luminance; the first of equals)."""
        r, g, b = self.red, self.green, self.blue
        index = min(range(len(r)), key=lambda i: 299 * r[i] + 587 * g[i] + 114 * b[i])
        return self.first + index


def _little_endian(ds: Any) -> bool:
    """OW values are kept as the file's bytes: a big endian file holds its words big endian."""
    meta = getattr(ds, "file_meta", None)
    syntax = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
    return syntax != ExplicitVRBigEndian


def _words(data: bytes, little: bool) -> list[int]:
    order: Literal["little", "big"] = "little" if little else "big"
    return [int.from_bytes(data[i : i + 2], order) for i in range(0, len(data) - 1, 2)]


def palette_of(ds: Any) -> Palette:
    """The dataset's three tables, segmented ones expanded; UnsupportedPixelsError says what is wrong."""
    little = _little_endian(ds)
    segmented = any(f"Segmented{c}PaletteColorLookupTableData" in ds for c in COLOURS)
    tables = []
    first = bits = 0
    for colour in COLOURS:
        name = colour.lower()
        descriptor = ds.get(f"{colour}PaletteColorLookupTableDescriptor")
        key = (
            f"Segmented{colour}PaletteColorLookupTableData"
            if segmented
            else f"{colour}PaletteColorLookupTableData"
        )
        data = ds.get(key)
        if descriptor is None or data is None or len(descriptor) != 3:
            raise UnsupportedPixelsError(f"the {name} palette colour table or its descriptor is missing")
        entries, first, bits = (int(v) for v in descriptor)
        entries = entries or 65536  # PS3.3 C.7.6.3.1.5: 0 means 2^16
        if segmented:
            tables.append(list(_segmented(bytes(data), little, entries, bits, name)))
        else:
            tables.append(_ordinary(bytes(data), little, entries, bits, name))
    red, green, blue = tables
    return Palette(first, bits, red, green, blue)


def _ordinary(data: bytes, little: bool, entries: int, bits: int, name: str) -> list[int]:
    if bits == 8 and len(data) in (entries, entries + 1):
        # 8-bit entries packed two to a 16-bit word, the first in the low byte (swapped back when the
        # file is big endian).
        words = _words(data + b"\0", little)
        values = [v for w in words for v in (w & 0xFF, w >> 8)][:entries]
    else:
        values = _words(data, little)[:entries]
    if len(values) < entries:
        raise UnsupportedPixelsError(f"the {name} palette colour table is shorter than its descriptor")
    return values


@lru_cache(maxsize=6)  # the viewer asks for every frame of a file; expanding 3 x 65536 entries costs
def _segmented(data: bytes, little: bool, entries: int, bits: int, name: str) -> tuple[int, ...]:
    if bits != 16:
        # The standard's segment tables are 16-bit words; for 8-bit entries implementations disagree
        # (pydicom reads bytes, GDCM refuses), so there is nothing to check a rendering against.
        raise UnsupportedPixelsError(
            f"the {name} palette colour table is segmented with {bits}-bit entries: only 16-bit "
            "segmented tables can be shown"
        )
    return tuple(expand_segmented(_words(data, little), entries, name))


def _ramp(y0: int, y1: int, length: int) -> list[int]:
    """A linear segment (C.7.9.2.2): `length` entries from after y0 up to y1, as pydicom computes them
    (np.around(np.linspace(y0 + step, y1, length)) with step = (y1 - y0) / length)."""
    if length == 0:
        return []
    start = y0 + (y1 - y0) / length
    if length == 1:
        return [round(start)]
    step = (y1 - start) / (length - 1)
    return [round(i * step + start) for i in range(length - 1)] + [y1]


def _parse(words: Sequence[int], name: str) -> list[tuple[int, int]]:
    """(word position, opcode) of each segment, in order; one trailing padding word is allowed."""
    segments = []
    at = 0
    while at + 1 < len(words):
        opcode, length = words[at], words[at + 1]
        if opcode == _DISCRETE:
            size = 2 + length
        elif opcode == _LINEAR:
            size = 3
        elif opcode == _INDIRECT:
            size = 4
        else:
            raise UnsupportedPixelsError(
                f"the segmented {name} palette colour table has an unknown segment type {opcode} "
                f"at byte {2 * at}"
            )
        if at + size > len(words):
            raise UnsupportedPixelsError(
                f"the segmented {name} palette colour table ends inside its segment at byte {2 * at}"
            )
        segments.append((at, opcode))
        at += size
    return segments


def expand_segmented(words: Sequence[int], entries: int, name: str = "") -> list[int]:
    """The table a Segmented Palette Color Lookup Table Data (C.7.9.2) describes, as 16-bit words.

    Discrete segments give their values; linear ones ramp from the last value so far to their end
    value; indirect ones repeat earlier segments, found by their byte offset from the start of the data
    (least significant word first). The result must have the descriptor's number of entries."""
    what = f"the segmented {name} palette colour table" if name else "the segmented palette colour table"
    segments = _parse(words, name)
    index_at = {2 * at: k for k, (at, _) in enumerate(segments)}  # byte offset -> segment number
    out: list[int] = []
    steps = 0

    def apply(k: int, depth: int) -> None:
        nonlocal steps
        steps += 1
        if steps > _MAX_STEPS or depth > _MAX_NESTING:
            raise UnsupportedPixelsError(f"{what} nests its indirect segments too deeply to expand")
        at, opcode = segments[k]
        length = words[at + 1]
        if opcode == _DISCRETE:
            out.extend(words[at + 2 : at + 2 + length])
        elif opcode == _LINEAR:
            if not out:
                raise UnsupportedPixelsError(f"{what} starts with a linear segment: it has no start value")
            out.extend(_ramp(out[-1], words[at + 2], length))
        else:
            offset = words[at + 2] | words[at + 3] << 16
            first = index_at.get(offset)
            if first is None or first + length > k:
                raise UnsupportedPixelsError(
                    f"{what} has an indirect segment at byte {2 * at} that does not copy segments "
                    f"before it (byte offset {offset}, {length} segment(s))"
                )
            for copied in range(first, first + length):
                apply(copied, depth + 1)
        if len(out) > entries:
            raise UnsupportedPixelsError(f"{what} expands to more than the descriptor's {entries} entries")

    for k in range(len(segments)):
        apply(k, 0)
    if len(out) != entries:
        raise UnsupportedPixelsError(f"{what} expands to {len(out)} entries; its descriptor says {entries}")
    return out
