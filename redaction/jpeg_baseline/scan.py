"""One restart interval (or a whole scan without restarts) with blocks blanked, without decoding the rest.

The entropy-coded data is walked code by code (F.2.2: DC difference, then AC run/size codes to EOB), only
far enough to know where each block starts and each component's DC value. The output is a list of
pieces: spans of the source's bits copied unchanged, and new codes:
- a blanked block: the DC difference to the fill, then EOB (every AC coefficient zero);
- the first kept block of a component after a blanked one: its DC difference re-coded against the fill
  (DC is predicted from the previous block of the component, F.1.2.1.3); its AC codes copied.
After the block that follows the last blanked one nothing changes, so the rest is copied bit-shifted
without walking it. Its padding is the source's; when that could leave a whole padding byte (the last
byte all ones) the blanked blocks' black is chosen to keep the rest byte-aligned (align.py), or, failing
that, the interval is walked to its last block, to end exactly as F.1.2.3 asks.
"""

from __future__ import annotations

import sys
from array import array
from dataclasses import dataclass

from .huffman import EOB, BlockStart, CorruptDataError, category, magnitude_bits

# A piece: (0, start, end) source bits [start, end); (1, k, diff) DC difference of scan component k;
# (2, k, 0) EOB of scan component k; (3, start, 0) the source's bits from start to its end, padding included.
Piece = tuple[int, int, int]
COPY, DC, END_OF_BLOCK, TAIL = 0, 1, 2, 3
Lookup = tuple[tuple[int, int] | None, ...]  # 16-bit window -> (bits, count): huffman.dc_walk / ac_walk


@dataclass(frozen=True)
class ScanLayout:
    """What the walk needs of a scan: its MCUs and which of them are blanked."""

    mcus: int
    block_components: tuple[int, ...]  # scan component of each block of an MCU, in coding order
    blank: frozenset[int]  # MCU numbers (in the scan's order) whose every block is blanked
    restart: int  # MCUs per restart interval, 0: none


@dataclass(frozen=True)
class Walk:
    pieces: list[Piece]
    blanked: int  # blocks blanked


# Bytes one MCU can span at most: ten blocks of a 16+11-bit DC and 63 AC codes of 16+10 bits.
_MCU_BYTES = 10 * (27 + 63 * 26) // 8 + 8
_CHUNK = 4096  # windows prepared at a time (a walk that stops early prepares few); >= _MCU_BYTES


def _windows(u: bytes, start: int, end: int) -> list[int]:
    """The 32-bit big-endian word starting at each byte start..end-1 of `u` (which runs 3 bytes past end):
    the walk reads any 16-bit window with one index and one shift. Built by arrays (C), not per byte."""
    out = [0] * (end - start)
    for j in range(4):
        words = array("I", u[start + j : start + j + 4 * len(range(j, end - start, 4))])
        if sys.byteorder == "little":
            words.byteswap()
        out[j::4] = words
    return out


def walk(
    data: bytes,
    first: int,
    count: int,
    layout: ScanLayout,
    fills: tuple[int, ...],
    dc_tables: tuple[Lookup, ...],
    ac_tables: tuple[Lookup, ...],
    ac_skips: tuple[tuple[int, ...], ...],
    starts: tuple[tuple[BlockStart | None, ...], ...],
    *,
    every_dc: bool = False,
    to_end: bool = False,
) -> Walk:
    """Walk MCUs first..first+count-1 of `data` (unstuffed). `every_dc`: re-code every DC difference
    (the DC table was replaced). `to_end`: walk to the last block instead of copying the rest."""
    u = data + b"\xff" * (_MCU_BYTES + 8)  # peeks past the end read padding; the walk checks it stays inside
    limit = 8 * len(data)
    window: list[int] = []
    ready = 0  # bytes whose window is prepared
    blank = layout.blank
    last = max((m for m in blank if first <= m < first + count), default=-1)
    stop = first + count if (to_end or every_dc or last < 0) else min(last + 2, first + count)
    comps = layout.block_components
    n = max(comps) + 1
    pred_src = [0] * n
    pred_out = [0] * n
    after_blank = [False] * n  # the next block's DC is re-coded even when unchanged (align.py varies fills)
    pieces: list[Piece] = []
    src_from = 0
    p = 0
    blanked = 0
    for m in range(first, stop):
        if (p >> 3) + _MCU_BYTES > ready:  # p <= limit here: each block is checked below
            end = min(ready + _CHUNK, len(u) - 3)
            window += _windows(u, ready, end)
            ready = end
        cleared = m in blank
        for k in comps:
            start = p
            prev = pred_src[k]
            quick = starts[k][(window[p >> 3] >> (16 - (p & 7))) & 0xFFFF]
            if quick is not None:  # the DC and the AC codes the window holds, in one (huffman.block_start)
                ac_start = p + quick[0]
                pred_src[k] = prev + quick[1]
                p += quick[2]
                z = quick[3]
            else:
                entry = dc_tables[k][(window[p >> 3] >> (16 - (p & 7))) & 0xFFFF]
                if entry is None:
                    raise CorruptDataError(f"an invalid DC code in MCU {m}: the JPEG data is corrupt")
                p += entry[0]
                size = entry[1]
                if size:
                    bits = (window[p >> 3] >> (32 - (p & 7) - size)) & ((1 << size) - 1)
                    p += size
                    pred_src[k] = prev + (bits if bits >> (size - 1) else bits - (1 << size) + 1)
                ac_start = p
                z = 1
            table = ac_tables[k]
            skip = ac_skips[k]
            while z < 64:
                w = (window[p >> 3] >> (16 - (p & 7))) & 0xFFFF
                e = skip[w]
                if e and z + (e & 127) <= 64:  # whole codes, the block not overrun (huffman.ac_skip)
                    p += e >> 8
                    z += e & 255
                    continue
                one = table[w]
                if one is None:
                    raise CorruptDataError(f"an invalid AC code in MCU {m}: the JPEG data is corrupt")
                p += one[0]
                z += one[1]
            if 64 < z < 129 or p > limit:
                raise CorruptDataError(f"MCU {m} runs past its block or its data: the JPEG data is corrupt")
            if cleared:
                if start > src_from:
                    pieces.append((COPY, src_from, start))
                pieces.append((DC, k, fills[k] - pred_out[k]))
                pieces.append((END_OF_BLOCK, k, 0))
                pred_out[k] = fills[k]
                after_blank[k] = True
                src_from = p
                blanked += 1
            elif every_dc or after_blank[k] or pred_out[k] != prev:
                if start > src_from:
                    pieces.append((COPY, src_from, start))
                pieces.append((DC, k, pred_src[k] - pred_out[k]))
                pred_out[k] = pred_src[k]
                after_blank[k] = False
                src_from = ac_start
            else:
                pred_out[k] = pred_src[k]
    if stop == first + count:
        if p > src_from:
            pieces.append((COPY, src_from, p))
    else:
        pieces.append((TAIL, src_from, 0))
    return Walk(pieces, blanked)


def needed(pieces: list[Piece]) -> tuple[dict[int, set[int]], set[int]]:
    """The DC categories each scan component's table must code, and the components that need EOB."""
    dc: dict[int, set[int]] = {}
    eob: set[int] = set()
    for kind, k, value in pieces:
        if kind == DC:
            dc.setdefault(k, set()).add(category(value))
        elif kind == END_OF_BLOCK:
            eob.add(k)
    return dc, eob


def assemble(
    data: bytes,
    pieces: list[Piece],
    dc_codes: tuple[dict[int, tuple[int, int]], ...],
    ac_codes: tuple[dict[int, tuple[int, int]], ...],
) -> bytes | None:
    """The interval's new data, stuffed (B.1.1.5) and padded with 1-bits (F.1.2.3); None when a copied
    tail's padding cannot be told from data (walk it to the end then)."""
    source = int.from_bytes(data, "big")
    total = 8 * len(data)
    acc, length = 0, 0
    tail = False
    for kind, a, b in pieces:
        if kind in (COPY, TAIL):
            end = total if kind == TAIL else b
            tail = tail or kind == TAIL
            n = end - a
            acc = (acc << n) | ((source >> (total - end)) & ((1 << n) - 1))
            length += n
        elif kind == DC:
            size = category(b)
            code, n = dc_codes[a][size]
            acc = (((acc << n) | code) << size) | magnitude_bits(b, size)
            length += n + size
        else:
            code, n = ac_codes[a][EOB]
            acc = (acc << n) | code
            length += n
    pad = -length % 8
    acc = (acc << pad) | ((1 << pad) - 1)
    out = acc.to_bytes((length + pad) // 8, "big")
    if tail and pad and out[-1:] == b"\xff":
        return None
    return out.replace(b"\xff", b"\xff\x00")
