"""Huffman tables of a JPEG codestream: canonical codes (ISO 10918-1 C.2), lookup tables to walk the data,
and the DC table extended (or replaced) when a fill needs a difference category the file never coded.

Walking needs no coefficient values, only where each code ends: a 16-bit window of the data indexes a
table of (bits to advance, coefficients covered). Built once per distinct table and cached. For AC codes a
second table covers every whole code the window holds (`ac_skip`): 2-4 codes a lookup on typical data.
"""

from __future__ import annotations

from functools import lru_cache

from ..errors import UnsupportedPixelsError
from .markers import HuffmanTable

EOB = 0x00  # end of block (F.1.2.2.1)
ZRL = 0xF0  # sixteen zeros
# ISO 10918-1 Annex K, Table K.3 (luminance DC): every category 0..11, the replacement when a file's own
# DC table cannot be extended without changing its codes.
STANDARD_DC = HuffmanTable(counts=(0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0), values=tuple(range(12)))


class CorruptDataError(UnsupportedPixelsError):
    """The entropy-coded data holds a code its Huffman table does not define."""


def codes(table: HuffmanTable) -> dict[int, tuple[int, int]]:
    """symbol -> (code, length), generated as C.2 does (Figures C.1-C.3)."""
    out: dict[int, tuple[int, int]] = {}
    code, k = 0, 0
    for length in range(1, 17):
        for _ in range(table.counts[length - 1]):
            out.setdefault(table.values[k], (code, length))
            code += 1
            k += 1
        code <<= 1
    return out


@lru_cache(maxsize=64)
def dc_walk(table: HuffmanTable) -> tuple[tuple[int, int] | None, ...]:
    """16-bit window -> (code length, category); None where no code starts."""
    return _lookup(table, lambda symbol, length: (length, symbol))


@lru_cache(maxsize=64)
def ac_walk(table: HuffmanTable) -> tuple[tuple[int, int] | None, ...]:
    """16-bit window -> (code length + magnitude bits, coefficients covered; 128 ends the block)."""

    def entry(symbol: int, length: int) -> tuple[int, int]:
        run, size = symbol >> 4, symbol & 15
        if size == 0:  # EOB; libjpeg reads any other run with size 0 but ZRL as EOB too
            return (length, 16) if symbol == ZRL else (length, 128)
        return length + size, run + 1

    return _lookup(table, entry)


# ac_skip entries: bits advanced << 8 | 128 if the codes end with EOB | positions they need (coefficients
# covered, and one more for an EOB: an EOB only ends a block before its 64th position).
SKIP_EOB = 128
_SKIP_MAX = 63  # coefficients covered by one entry (a block has 63 AC): longer runs are left to ac_walk


@lru_cache(maxsize=64)
def ac_skip(table: HuffmanTable) -> tuple[int, ...]:
    """16-bit window -> the whole AC codes (each with its magnitude bits) it holds, up to an EOB, packed as
    above; 0 where not one whole code fits or the code is invalid (the caller steps with ac_walk then)."""
    return tuple(_skip_levels(table)[16])


# block_start entries: (bits of the DC code and its magnitude, the DC difference, bits advanced in all,
# the block's position after them: 1 + the ac_skip entry of the AC codes that follow within the window).
BlockStart = tuple[int, int, int, int]


@lru_cache(maxsize=64)
def block_start(dc: HuffmanTable, ac: HuffmanTable) -> tuple[BlockStart | None, ...]:
    """16-bit window at a block's start -> its DC difference and the whole AC codes after it, in one lookup
    (a black block, DC difference 0 and EOB, is 4-6 bits); None where the DC code and its bits do not fit
    in 16 bits or no DC code starts (the caller reads the DC with dc_walk then)."""
    levels = _skip_levels(ac)
    out: list[BlockStart | None] = [None] * 65536
    for symbol, (code, length) in codes(dc).items():
        size, t = symbol, length + symbol
        if t > 16 or size > 11:
            continue
        r = 16 - t
        rest = levels[r]
        for bits in range(1 << size):
            diff = bits if size == 0 or bits >> (size - 1) else bits - (1 << size) + 1
            first = ((code << size) | bits) << r
            out[first : first + (1 << r)] = [(t, diff, t + (x >> 8), 1 + (x & 255)) for x in rest]
    return tuple(out)


@lru_cache(maxsize=64)
def _skip_levels(table: HuffmanTable) -> list[list[int]]:
    """ac_skip for windows of 0..16 bits. Built from the right: after a window's first code (and its
    magnitude bits, whatever they are) comes the entry of the shorter window left over; slices per code."""
    shorter: list[list[int]] = [[0]]  # shorter[n][w]: the same for an n-bit window w
    symbols = codes(table).items()
    for n in range(1, 17):
        level = [0] * (1 << n)
        for symbol, (code, length) in symbols:
            run, size = symbol >> 4, symbol & 15
            bits = length + size
            if bits > n:
                continue
            left = n - bits
            if size == 0 and symbol != ZRL:  # EOB (any other size-0 symbol read as one: ac_walk)
                level[code << left : (code + 1) << left] = [bits << 8 | SKIP_EOB | 1] * (1 << left)
                continue
            covered = 16 if symbol == ZRL else run + 1
            alone = bits << 8 | covered
            block = [
                (bits + (x >> 8)) << 8 | (x & 255) + covered
                if x and covered + (x & 127) <= _SKIP_MAX
                else alone
                for x in shorter[left]
            ]
            for magnitude in range(1 << size):
                first = ((code << size) | magnitude) << left
                level[first : first + (1 << left)] = block
        shorter.append(level)
    return shorter


def _lookup(table: HuffmanTable, entry: object) -> tuple[tuple[int, int] | None, ...]:
    out: list[tuple[int, int] | None] = [None] * 65536
    for symbol, (code, length) in codes(table).items():
        shift = 16 - length
        out[code << shift : (code + 1) << shift] = [entry(symbol, length)] * (1 << shift)  # type: ignore[operator]
    return tuple(out)


def category(value: int) -> int:
    """SSSS of a DC difference (F.1.2.1.1)."""
    return abs(value).bit_length()


def magnitude_bits(value: int, size: int) -> int:
    """The extra bits of a coefficient or difference: the value, or value - 1 in `size` bits if negative."""
    return value if value >= 0 else value + (1 << size) - 1


def extended(table: HuffmanTable, missing: set[int]) -> HuffmanTable | None:
    """The table with `missing` symbols added after its longest codes, every existing code unchanged;
    None if the code space is full (the all-ones code of each length stays unused, C.2)."""
    if not missing:
        return table
    longest = max((n for n in range(16) if table.counts[n]), default=-1) + 1
    if longest == 0:
        return None
    next_code = 0
    for length in range(1, longest + 1):
        next_code = (next_code + table.counts[length - 1]) << (1 if length < longest else 0)
    new = sorted(missing)
    for length in range(longest, 17):
        first = next_code << (length - longest)
        if first + len(new) - 1 < (1 << length) - 1:
            counts = list(table.counts)
            counts[length - 1] += len(new)
            return HuffmanTable(tuple(counts), table.values + tuple(new))
    return None
