"""The Huffman level of JPEG baseline blanking (redaction/jpeg_baseline/huffman.py, align.py): tables
extended without changing a code, the lookup tables the scan walk steps with (whole codes, as single steps
give), corrupt data refused, and the black DC values. The blanking of whole files: test_jpeg_baseline.py."""

from __future__ import annotations

import pytest
from jpeg_baseline_files import Cine, dataset
from pydicom.encaps import generate_frames

from redaction import jpeg_baseline
from redaction.jpeg_baseline import huffman
from redaction.jpeg_baseline.markers import HuffmanTable, parse
from redaction.rectangles import Rect


def _first_frame(spec: Cine) -> bytes:
    ds = dataset(spec)
    return bytes(next(generate_frames(ds.PixelData, number_of_frames=spec.frames)))


def test_extension_keeps_codes_and_refuses_a_full_table() -> None:
    table = HuffmanTable((0, 2, 1) + (0,) * 13, (0, 1, 2))
    grown = huffman.extended(table, {5, 7})
    assert grown is not None
    assert all(huffman.codes(grown)[s] == c for s, c in huffman.codes(table).items())
    full = HuffmanTable((1,) * 15 + (1,), tuple(range(16)))  # 0, 10, 110, ..., 1111111111111110
    assert huffman.extended(full, {20}) is None


def _whole_codes(single: tuple[tuple[int, int] | None, ...], w: int, n: int) -> set[int]:
    """Packed ac_skip values after 1, 2, ... whole AC codes stepped one by one in the top n bits of w."""
    reachable = set()
    bits, covered = 0, 0
    while bits < n:
        entry = single[(w << bits) & 0xFFFF]
        if entry is None or bits + entry[0] > n:
            break
        bits += entry[0]
        if entry[1] == 128:
            reachable.add(bits << 8 | huffman.SKIP_EOB | covered + 1)
            break
        covered += entry[1]
        if covered > 63:
            break
        reachable.add(bits << 8 | covered)
    return reachable


def _tables(optimize: bool) -> tuple[HuffmanTable, HuffmanTable]:
    cs = parse(_first_frame(Cine(rows=32, columns=48, colour=None, optimize=optimize)))
    scan0 = cs.scans[0]
    return cs.table(scan0.dc_tables[0], 0, scan0.dc_slots[0]), cs.table(
        scan0.ac_tables[0], 1, scan0.ac_slots[0]
    )


@pytest.mark.parametrize("optimize", [False, True])
def test_ac_skip_covers_whole_codes_as_single_steps_do(optimize: bool) -> None:
    """Each ac_skip entry is what stepping code by code with ac_walk gives after some whole codes of the
    16-bit window (at least one when one fits), never past an EOB or the block's 63 coefficients."""
    _, table = _tables(optimize)
    single, skip = huffman.ac_walk(table), huffman.ac_skip(table)
    for w in range(0, 1 << 16, 3):
        reachable = _whole_codes(single, w, 16)
        assert skip[w] in reachable or (skip[w] == 0 and not reachable), f"window {w:016b}"


@pytest.mark.parametrize("optimize", [False, True])
def test_block_start_is_the_dc_then_whole_ac_codes(optimize: bool) -> None:
    """A block_start entry: the DC code and its magnitude as dc_walk reads them, then whole AC codes as
    single steps give (or none); None only where the DC code and its bits pass 16 bits or no code starts."""
    dc, ac = _tables(optimize)
    read_dc, single, starts = huffman.dc_walk(dc), huffman.ac_walk(ac), huffman.block_start(dc, ac)
    for w in range(0, 1 << 16, 5):
        first = read_dc[w]
        if first is None or sum(first) > 16:
            assert starts[w] is None
            continue
        t, size = sum(first), first[1]
        bits = (w >> (16 - t)) & ((1 << size) - 1)
        entry = starts[w]
        assert entry is not None and entry[:2] == (
            t,
            bits if not size or bits >> (size - 1) else bits + 1 - (1 << size),
        )
        rest = (entry[2] - t) << 8 | (entry[3] - 1)
        reachable = _whole_codes(single, (w << t) & 0xFFFF, 16 - t)
        assert rest in reachable or (rest == 0 and not reachable), f"window {w:016b}"


def test_corrupt_data_is_refused_not_blanked() -> None:
    """An invalid code (sixteen 1-bits: no table has that code) inside the scan: CorruptDataError, with
    what it means for the user first."""
    frame = _first_frame(Cine(rows=48, columns=64, colour=None))
    sos = frame.index(b"\xff\xda")
    at = sos + 2 + int.from_bytes(frame[sos + 2 : sos + 4], "big") + 200
    bad = frame[:at] + b"\xff\x00\xff\x00\xff\x00" + frame[at:]
    with pytest.raises(huffman.CorruptDataError, match="the JPEG data is corrupt"):
        jpeg_baseline.blank_frame(bad, [Rect(40, 30, 8, 8)])


@pytest.mark.parametrize("q", [1, 2, 3, 7, 16, 23, 100, 255, 1500, 4000])
def test_black_values_all_show_black(q: int) -> None:
    """The DC values a blanked block may get: the least overshoot first, then further, all within 2048."""
    from redaction.jpeg_baseline.align import black_values

    low, high = -(-1024 // q) * -1, -(-1016 // q)
    for fill, inside in ((low, lambda d: -2048 <= d * q <= -1024), (high, lambda d: 1016 <= d * q <= 2047)):
        values = black_values(fill, q)
        assert values[0] == fill and len(set(values)) == len(values)
        assert all(inside(d) for d in values) or (q > 1024 and values == (fill,))
    assert black_values(0, q) == (0,)
