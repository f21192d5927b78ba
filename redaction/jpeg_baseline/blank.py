"""Black out rectangles of one JPEG baseline frame in the compressed domain, as PixelMed and CTP do.

    result = blank_frame(codestream, rects, monochrome1=False)

Every block (every MCU when colour is subsampled) a rectangle touches gets AC coefficients zero and the DC
value of black: the lowest sample after the level shift and the quantiser (F.1.1.3: a DC coefficient d
shows as d * Q / 8 + 128 on every sample of the block), rounded past black so that decoders clamp to exactly
0 (255 for MONOCHROME1); where a value a few steps further keeps the copied rest of the scan byte-aligned,
that one (align.py). Colour: YCbCr black is Y low, Cb = Cr = 128 (DC 0); RGB coded without the
transform is low on every component. Nothing else changes: other blocks' coefficients, quantisation, every
marker segment; the DC Huffman table only gains the difference categories the fill needs (extended after
its longest codes, or replaced by Annex K's Table K.3 when its code space is full, and then every DC
difference of its scans is re-coded).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..rectangles import Rect
from .align import black_values, realigned
from .huffman import STANDARD_DC, BlockStart, ac_skip, ac_walk, block_start, codes, dc_walk, extended
from .markers import Codestream, DhtSegment, FrameHeader, HuffmanTable, NotInPlaceError, ScanHeader, intervals
from .markers import parse as parse_codestream
from .scan import Lookup, ScanLayout, Walk, assemble, needed, walk


@dataclass(frozen=True)
class Blanked:
    data: bytes  # the new codestream
    blocks: int  # 8x8 blocks blanked
    tables: tuple[str, ...]  # what happened to Huffman tables ("DC table 0 extended", ...)


def grid(codestream: bytes) -> tuple[int, int]:
    """The (width, height) in pixels regions are widened to: one MCU (8x8 unless colour is subsampled)."""
    frame = parse_codestream(codestream).frame
    if frame is None:
        raise NotInPlaceError("the codestream has no frame header")
    return frame.mcu_size if len(frame.components) > 1 else (8, 8)


def _mcus(frame: FrameHeader, rects: Iterable[Rect]) -> set[tuple[int, int]]:
    """Frame MCUs (column, row) any rectangle touches, clipped to the image."""
    mw, mh = frame.mcu_size if len(frame.components) > 1 else (8, 8)
    out: set[tuple[int, int]] = set()
    for rect in rects:
        r = rect.clipped(frame.columns, frame.lines)
        if r is None:
            continue
        for my in range(r.y // mh, (r.y + r.height - 1) // mh + 1):
            out.update((mx, my) for mx in range(r.x // mw, (r.x + r.width - 1) // mw + 1))
    return out


def _layout(frame: FrameHeader, scan: ScanHeader, mcus: set[tuple[int, int]]) -> ScanLayout:
    comps = [frame.components[i] for i in scan.components]
    if len(comps) > 1 or len(frame.components) == 1:
        # Interleaved (A.2.3), or a single-component frame whose MCU is one 8x8 block either way.
        if len(frame.components) == 1:
            across, down = -(-frame.columns // 8), -(-frame.lines // 8)
            order: tuple[int, ...] = (0,)
        else:
            mw, mh = frame.mcu_size
            across, down = -(-frame.columns // mw), -(-frame.lines // mh)
            order = tuple(k for k, c in enumerate(comps) for _ in range(c.h * c.v))
        blank = frozenset(my * across + mx for mx, my in mcus if mx < across and my < down)
        return ScanLayout(across * down, order, blank, scan.restart_interval)
    # One component of a multi-component frame (A.2.2): its own blocks, in raster order.
    c = comps[0]
    width = -(-frame.columns * c.h // frame.hmax)
    height = -(-frame.lines * c.v // frame.vmax)
    across, down = -(-width // 8), -(-height // 8)
    blank = frozenset(
        by * across + bx
        for mx, my in mcus
        for by in range(my * c.v, min(down, my * c.v + c.v))
        for bx in range(mx * c.h, min(across, mx * c.h + c.h))
    )
    return ScanLayout(across * down, (0,), blank, scan.restart_interval)


def _blacks(cs: Codestream, scan: ScanHeader, monochrome1: bool, rgb: bool) -> tuple[tuple[int, ...], ...]:
    """The quantised DC values of black for each component of the scan, the least overshoot first."""
    assert cs.frame is not None
    transformed = len(cs.frame.components) == 3 and cs.colour_transformed(rgb)
    out = []
    for index in scan.components:
        q = cs.quant_dc[index]
        if q <= 0:
            raise NotInPlaceError("a DC quantiser of 0 is not valid")
        if transformed and index > 0:
            out.append(0)  # Cb, Cr at 128: no colour
        elif monochrome1:
            out.append(-(-1016 // q))  # 127 after the level shift, rounded up: decoders clamp to 255
        else:
            out.append(-(-1024 // q) * -1)  # -128 after the level shift, rounded down: clamped to 0
    return tuple(
        black_values(fill, cs.quant_dc[index]) for fill, index in zip(out, scan.components, strict=True)
    )


@dataclass
class _ScanWork:
    scan: ScanHeader
    layout: ScanLayout
    blacks: tuple[tuple[int, ...], ...]  # per scan component: the DC values that show black, fill first
    parts: list[tuple[bytes, bytes]]  # (stuffed data, marker bytes after it) per restart interval
    read_dc: tuple[Lookup, ...]  # the file's own tables, to read the data (before any is changed)
    read_ac: tuple[Lookup, ...]
    read_skip: tuple[tuple[int, ...], ...]
    read_starts: tuple[tuple[BlockStart | None, ...], ...]
    walks: dict[int, tuple[bytes, Walk]] = field(default_factory=dict)  # interval -> (unstuffed, walk)

    def walk(self, index: int, data: bytes, *, every_dc: bool = False, to_end: bool = False) -> Walk:
        per = self.layout.restart or self.layout.mcus
        first = index * per
        count = min(per, self.layout.mcus - first)
        return walk(
            data,
            first,
            count,
            self.layout,
            tuple(b[0] for b in self.blacks),
            self.read_dc,
            self.read_ac,
            self.read_skip,
            self.read_starts,
            every_dc=every_dc,
            to_end=to_end,
        )


def blank_frame(
    codestream: bytes, rects: Iterable[Rect], *, monochrome1: bool = False, rgb: bool = False
) -> Blanked:
    """The codestream with every MCU the rectangles touch blanked to black; the input if none does.
    `monochrome1`: black is the highest value; `rgb`: Photometric Interpretation RGB (colour transform)."""
    cs = parse_codestream(codestream)
    frame = cs.frame
    if frame is None or not cs.scans:
        raise NotInPlaceError("the codestream has no frame header or no scan")
    mcus = _mcus(frame, rects)
    if not mcus:
        return Blanked(codestream, 0, ())
    works = [_plan_scan(cs, frame, scan, mcus, monochrome1, rgb) for scan in cs.scans]
    notes = _fit_tables(cs, works)
    blocks = 0
    for work in works:
        blocks += _write_scan(cs, work)
    return Blanked(cs.encode(), blocks, tuple(notes))


def _plan_scan(
    cs: Codestream,
    frame: FrameHeader,
    scan: ScanHeader,
    mcus: set[tuple[int, int]],
    monochrome1: bool,
    rgb: bool,
) -> _ScanWork:
    layout = _layout(frame, scan, mcus)
    ecs = cs.parts[scan.data]
    assert isinstance(ecs, bytes)
    parts = intervals(ecs)
    per = layout.restart or layout.mcus
    expected = -(-layout.mcus // per)
    if expected != len(parts):
        raise NotInPlaceError(f"the scan has {len(parts)} restart interval(s) where it needs {expected}")
    n = range(len(scan.components))
    read_dc = tuple(dc_walk(cs.table(scan.dc_tables[k], 0, scan.dc_slots[k])) for k in n)
    ac = [cs.table(scan.ac_tables[k], 1, scan.ac_slots[k]) for k in n]
    dc = [cs.table(scan.dc_tables[k], 0, scan.dc_slots[k]) for k in n]
    read_ac, read_skip = tuple(ac_walk(t) for t in ac), tuple(ac_skip(t) for t in ac)
    starts = tuple(block_start(d, a) for d, a in zip(dc, ac, strict=True))
    blacks = _blacks(cs, scan, monochrome1, rgb)
    work = _ScanWork(scan, layout, blacks, parts, read_dc, read_ac, read_skip, starts)
    touched = {m // per for m in layout.blank}
    for index in sorted(touched):
        data = parts[index][0].replace(b"\xff\x00", b"\xff")
        work.walks[index] = (data, work.walk(index, data))
    return work


def _fit_tables(cs: Codestream, works: list[_ScanWork]) -> list[str]:
    """Extend (or replace) the Huffman tables so that every new code exists; returns what was done."""
    want_dc: dict[tuple[int, int], set[int]] = {}
    want_ac: dict[tuple[int, int], set[int]] = {}
    for work in works:
        for _, w in work.walks.values():
            dc, eob = needed(w.pieces)
            for k, cats in dc.items():
                want_dc.setdefault((work.scan.dc_tables[k], work.scan.dc_slots[k]), set()).update(cats)
            for k in eob:
                want_ac.setdefault((work.scan.ac_tables[k], work.scan.ac_slots[k]), set()).add(0)
    notes: list[str] = []
    replaced: set[tuple[int, int]] = set()
    for tc, wants in ((0, want_dc), (1, want_ac)):
        for (part, slot), symbols in sorted(wants.items()):
            table = cs.table(part, tc, slot)
            missing = symbols - set(table.values)
            if not missing:
                continue
            new = extended(table, missing)
            kind = "DC" if tc == 0 else "AC"
            if new is None and tc == 0:
                new = STANDARD_DC
                replaced.add((part, slot))
                notes.append(f"DC table {slot} replaced by ISO 10918-1 Table K.3 (its code space was full)")
            elif new is None:
                raise NotInPlaceError(f"the AC table {slot} has no end-of-block code and no room for one")
            else:
                notes.append(f"{kind} table {slot} extended with categories {sorted(missing)}")
            _set_table(cs, part, tc, slot, new)
    if replaced:
        _rewalk_replaced(cs, works, replaced)
    return notes


def _set_table(cs: Codestream, part: int, tc: int, slot: int, table: HuffmanTable) -> None:
    seg = cs.parts[part]
    assert isinstance(seg, DhtSegment)
    cs.parts[part] = DhtSegment(tuple((c, s, table if (c, s) == (tc, slot) else t) for c, s, t in seg.tables))


def _rewalk_replaced(cs: Codestream, works: list[_ScanWork], replaced: set[tuple[int, int]]) -> None:
    """Scans whose DC table was replaced: every interval is walked again, every DC difference re-coded
    (with the old table to read and the new one to write; the standard table codes every category)."""
    for work in works:
        scan = work.scan
        if not any((scan.dc_tables[k], scan.dc_slots[k]) in replaced for k in range(len(scan.components))):
            continue
        for index, (stuffed, _) in enumerate(work.parts):
            data = stuffed.replace(b"\xff\x00", b"\xff")
            work.walks[index] = (data, work.walk(index, data, every_dc=True))


def _write_scan(cs: Codestream, work: _ScanWork) -> int:
    scan = work.scan
    n = len(scan.components)
    dc_codes = tuple(codes(cs.table(scan.dc_tables[k], 0, scan.dc_slots[k])) for k in range(n))
    ac_codes = tuple(codes(cs.table(scan.ac_tables[k], 1, scan.ac_slots[k])) for k in range(n))
    out: list[bytes] = []
    blocks = 0
    for index, (stuffed, marker) in enumerate(work.parts):
        if index not in work.walks:
            out.append(stuffed + marker)
            continue
        data, w = work.walks[index]
        new = assemble(data, w.pieces, dc_codes, ac_codes)
        if new is None:  # the copied tail's padding was ambiguous: keep the tail byte-aligned instead
            aligned = realigned(w.pieces, work.blacks, dc_codes, ac_codes)
            new = None if aligned is None else assemble(data, aligned, dc_codes, ac_codes)
        if new is None:  # no black value did it: walk this interval to its end
            w = work.walk(index, data, to_end=True)
            new = assemble(data, w.pieces, dc_codes, ac_codes)
            assert new is not None
        blocks += w.blanked
        out.append(new + marker)
    cs.parts[scan.data] = b"".join(out)
    return blocks


__all__ = ["Blanked", "blank_frame", "grid"]
