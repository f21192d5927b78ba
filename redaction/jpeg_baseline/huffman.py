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
    above; 0 where not one whole code fits or the code is invalid (the caller steps with ac_walk then).
    Built from the right: the codes after the first one are the entry of the shorter window left over."""
    single = ac_walk(table)
    shorter: list[list[int]] = [[0]]  # shorter[n][w]: the same for an n-bit window w
    for n in range(1, 17):
        rest_of = shorter
        level = [0] * (1 << n)
        shift = 16 - n
        for w in range(1 << n):
            entry = single[w << shift]
            if entry is None or entry[0] > n:
                continue
            bits, covered = entry
            if covered == 128:  # EOB: the block ends here
                level[w] = bits << 8 | SKIP_EOB | 1
                continue
            left = n - bits
            rest = rest_of[left][w & ((1 << left) - 1)]
            if rest and covered + (rest & 127) <= _SKIP_MAX:
                level[w] = (bits + (rest >> 8)) << 8 | (rest & 255) + covered
            else:
                level[w] = bits << 8 | covered
        shorter.append(level)
    return tuple(shorter[16])


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
