"""Every block's quantised DCT coefficients (F.2.2), in coding order per component: a plain decoder for
checking what the redaction changed (slow: the redaction itself never decodes coefficients)."""

from __future__ import annotations

from .blank import _layout
from .huffman import CorruptDataError, codes
from .markers import intervals, parse

Blocks = dict[int, list[tuple[int, ...]]]  # frame component index -> blocks (64 values, zig-zag order)


def _decoder(table_codes: dict[int, tuple[int, int]]) -> dict[tuple[int, int], int]:
    return {(length, code): symbol for symbol, (code, length) in table_codes.items()}


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.value = int.from_bytes(data, "big")
        self.total = 8 * len(data)
        self.pos = 0

    def read(self, n: int) -> int:
        if self.pos + n > self.total:
            raise CorruptDataError("the data ends inside a block")
        self.pos += n
        return (self.value >> (self.total - self.pos)) & ((1 << n) - 1)

    def symbol(self, table: dict[tuple[int, int], int]) -> int:
        code = 0
        for length in range(1, 17):
            code = (code << 1) | self.read(1)
            if (length, code) in table:
                return table[(length, code)]
        raise CorruptDataError("an invalid Huffman code")


def _extend(bits: int, size: int) -> int:
    return bits if size == 0 or bits >> (size - 1) else bits - (1 << size) + 1


def decode_coefficients(codestream: bytes) -> Blocks:
    """Quantised coefficients of every block of every scan, per component, in the order coded."""
    cs = parse(codestream)
    assert cs.frame is not None
    out: Blocks = {i: [] for i in range(len(cs.frame.components))}
    for scan in cs.scans:
        layout = _layout(cs.frame, scan, set())
        n = len(scan.components)
        dcs = [_decoder(codes(cs.table(scan.dc_tables[k], 0, scan.dc_slots[k]))) for k in range(n)]
        acs = [_decoder(codes(cs.table(scan.ac_tables[k], 1, scan.ac_slots[k]))) for k in range(n)]
        ecs = cs.parts[scan.data]
        assert isinstance(ecs, bytes)
        per = layout.restart or layout.mcus
        for index, (stuffed, _) in enumerate(intervals(ecs)):
            bits = _Bits(stuffed.replace(b"\xff\x00", b"\xff"))
            pred = [0] * n
            for _ in range(min(per, layout.mcus - index * per)):
                for k in layout.block_components:
                    size = bits.symbol(dcs[k])
                    pred[k] += _extend(bits.read(size), size)
                    block = [pred[k]] + [0] * 63
                    z = 1
                    while z < 64:
                        rs = bits.symbol(acs[k])
                        run, size = rs >> 4, rs & 15
                        if size == 0:
                            if run != 15:
                                break
                            z += 16
                            continue
                        z += run
                        if z > 63:
                            raise CorruptDataError("a run past the end of the block")
                        block[z] = _extend(bits.read(size), size)
                        z += 1
                    out[scan.components[k]].append(tuple(block))
    return out
