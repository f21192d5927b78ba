"""The marker segments of one JPEG codestream (ISO 10918-1 B.1-B.2), as the in-place redaction needs them.

Only sequential Huffman coding with 8-bit samples (SOF0 baseline, SOF1 extended) is parsed for blanking; any
other process (progressive, lossless, arithmetic, 12-bit), a DNL-defined height or more than three
components raises NotInPlaceError: the caller then decodes the image instead. Segments the redaction does
not change (APPn, COM, DQT, ...) are kept as byte ranges, so they are written back unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import UnsupportedPixelsError


class NotInPlaceError(UnsupportedPixelsError):
    """This codestream cannot be blanked in the compressed domain (the caller may decode it instead)."""


# SOF markers of every process; only 0xC0 and 0xC1 are Huffman sequential (B.1.1.3, Table B.1).
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_NO_LENGTH = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RSTn carry no length (B.1.1.2)
# The first marker after entropy-coded data: 0xFF00 is stuffing, RSTn belong to the data (B.1.1.5).
_ECS_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_RESTART = re.compile(rb"\xff+[\xd0-\xd7]")


@dataclass(frozen=True)
class Component:
    ident: int
    h: int
    v: int
    tq: int  # quantisation table slot


@dataclass(frozen=True)
class FrameHeader:
    lines: int
    columns: int
    components: tuple[Component, ...]

    @property
    def hmax(self) -> int:
        return max(c.h for c in self.components)

    @property
    def vmax(self) -> int:
        return max(c.v for c in self.components)

    @property
    def mcu_size(self) -> tuple[int, int]:
        """Pixels an interleaved MCU covers (width, height): the grid a region is widened to."""
        return 8 * self.hmax, 8 * self.vmax


@dataclass(frozen=True)
class HuffmanTable:
    counts: tuple[int, ...]  # BITS: codes of each length 1..16
    values: tuple[int, ...]  # HUFFVAL, in code order

    def encode(self) -> bytes:
        return bytes(self.counts) + bytes(self.values)


@dataclass(frozen=True)
class DhtSegment:
    """One DHT segment: its tables in order, as (class, slot, table); written back from these."""

    tables: tuple[tuple[int, int, HuffmanTable], ...]

    def encode(self) -> bytes:
        body = b"".join(bytes([tc << 4 | th]) + t.encode() for tc, th, t in self.tables)
        return b"\xff\xc4" + (len(body) + 2).to_bytes(2, "big") + body


@dataclass(frozen=True)
class ScanHeader:
    components: tuple[int, ...]  # indices into the frame's components, in scan order
    dc_tables: tuple[int, ...]  # per scan component: index of the DHT segment in `Codestream.parts`
    ac_tables: tuple[int, ...]
    dc_slots: tuple[int, ...]
    ac_slots: tuple[int, ...]
    restart_interval: int
    data: int  # index of the entropy-coded segment in `Codestream.parts`


@dataclass
class Codestream:
    """The codestream as parts: bytes kept as they are, DHT segments (which may be extended) and ECSs."""

    parts: list[bytes | DhtSegment] = field(default_factory=list)
    frame: FrameHeader | None = None
    scans: list[ScanHeader] = field(default_factory=list)
    quant_dc: dict[int, int] = field(default_factory=dict)  # component index -> DC quantiser value
    adobe_transform: int | None = None
    jfif: bool = False

    def encode(self) -> bytes:
        return b"".join(p.encode() if isinstance(p, DhtSegment) else p for p in self.parts)

    def table(self, part: int, tc: int, slot: int) -> HuffmanTable:
        seg = self.parts[part]
        assert isinstance(seg, DhtSegment)
        for c, s, t in seg.tables:
            if c == tc and s == slot:
                return t
        raise AssertionError("no such table")  # pragma: no cover - parse() only points at defined ones

    def colour_transformed(self, rgb: bool = False) -> bool:
        """Whether three components are YCbCr: libjpeg's rule (JFIF, else Adobe's flag, else the IDs),
        with Photometric Interpretation RGB read as an Adobe flag 0 when there is none (the page's codecs
        and pydicom do so: static/codecs.mjs markRgb)."""
        assert self.frame is not None
        if self.jfif:
            return True
        if self.adobe_transform is not None:
            return self.adobe_transform != 0
        if rgb:
            return False
        return tuple(c.ident for c in self.frame.components) != (82, 71, 66)  # 'R', 'G', 'B'


def _dht(body: bytes) -> DhtSegment:
    tables, i = [], 0
    while i < len(body):
        if i + 17 > len(body):
            raise NotInPlaceError("a Huffman table (DHT) is cut short")
        tc, th = body[i] >> 4, body[i] & 15
        counts = tuple(body[i + 1 : i + 17])
        n = sum(counts)
        values = tuple(body[i + 17 : i + 17 + n])
        if tc > 1 or th > 3 or len(values) != n:
            raise NotInPlaceError("a Huffman table (DHT) is not valid")
        tables.append((tc, th, HuffmanTable(counts, values)))
        i += 17 + n
    return DhtSegment(tuple(tables))


def _dqt(body: bytes, tables: dict[int, int]) -> None:
    i = 0
    while i < len(body):
        pq, tq = body[i] >> 4, body[i] & 15
        size = 128 if pq else 64
        if i + 1 + size > len(body) or tq > 3:
            raise NotInPlaceError("a quantisation table (DQT) is not valid")
        q0 = int.from_bytes(body[i + 1 : i + 3], "big") if pq else body[i + 1]
        tables[tq] = q0
        i += 1 + size


def _sof(code: int, body: bytes) -> FrameHeader:
    if code not in (0xC0, 0xC1):
        raise NotInPlaceError(f"JPEG process SOF{code - 0xC0} is not Huffman-coded sequential DCT")
    if len(body) < 6 or body[0] != 8:
        raise NotInPlaceError("only 8-bit samples are blanked in place")
    lines, columns, n = int.from_bytes(body[1:3], "big"), int.from_bytes(body[3:5], "big"), body[5]
    if lines == 0:
        raise NotInPlaceError("the image height is given by a DNL marker")
    if columns == 0 or n not in (1, 3) or len(body) != 6 + 3 * n:
        raise NotInPlaceError(f"a frame of {n} component(s), {columns}x{lines}, is not blanked in place")
    comps = tuple(
        Component(body[6 + 3 * k], body[7 + 3 * k] >> 4, body[7 + 3 * k] & 15, body[8 + 3 * k])
        for k in range(n)
    )
    if any(not (1 <= c.h <= 4 and 1 <= c.v <= 4) for c in comps):
        raise NotInPlaceError("sampling factors out of range")
    return FrameHeader(lines, columns, comps)


def parse(buf: bytes) -> Codestream:
    """Split a codestream into parts; raises NotInPlaceError for what is not blanked in place."""
    if buf[:2] != b"\xff\xd8":
        raise NotInPlaceError("the frame does not start with a JPEG SOI marker")
    cs = Codestream(parts=[buf[:2]])
    quant: dict[int, int] = {}
    dht_at: dict[tuple[int, int], int] = {}  # (class, slot) -> part index of the DHT defining it
    restart = 0
    pos = 2
    while pos < len(buf):
        if buf[pos] != 0xFF:
            raise NotInPlaceError(f"no marker at byte {pos} of the codestream")
        code = buf[pos + 1] if pos + 1 < len(buf) else 0
        if code == 0xFF:  # fill byte before a marker
            cs.parts.append(buf[pos : pos + 1])
            pos += 1
            continue
        if code == 0xD9:  # EOI: it and whatever follows are kept as they are
            cs.parts.append(buf[pos:])
            return cs
        if code in _NO_LENGTH:
            cs.parts.append(buf[pos : pos + 2])
            pos += 2
            continue
        end = pos + 2 + int.from_bytes(buf[pos + 2 : pos + 4], "big")
        if end > len(buf) or end < pos + 4:
            raise NotInPlaceError("a marker segment runs past the end of the codestream")
        body = buf[pos + 4 : end]
        if code in _SOF:
            if cs.frame is not None:
                raise NotInPlaceError("more than one frame header (hierarchical JPEG)")
            cs.frame = _sof(code, body)
        elif code in (0xCC, 0xDC, 0xDE, 0xDF):
            raise NotInPlaceError(f"marker 0xFF{code:02X} (arithmetic coding, DNL or hierarchical)")
        elif code == 0xDB:
            _dqt(body, quant)
        elif code == 0xDD:
            restart = int.from_bytes(body[:2], "big")
        elif code == 0xE0 and body.startswith(b"JFIF\0"):
            cs.jfif = True
        elif code == 0xEE and body.startswith(b"Adobe") and len(body) >= 12:
            cs.adobe_transform = body[11]
        if code == 0xC4:
            seg = _dht(body)
            for tc, th, _ in seg.tables:
                dht_at[(tc, th)] = len(cs.parts)
            cs.parts.append(seg)
        else:
            cs.parts.append(buf[pos:end])
        pos = end
        if code == 0xDA:
            pos = _scan(cs, body, buf, pos, quant, dht_at, restart)
    raise NotInPlaceError("the codestream has no EOI marker")


def _scan(
    cs: Codestream,
    body: bytes,
    buf: bytes,
    pos: int,
    quant: dict[int, int],
    dht_at: dict[tuple[int, int], int],
    restart: int,
) -> int:
    frame = cs.frame
    if frame is None:
        raise NotInPlaceError("a scan comes before the frame header")
    n = body[0] if body else 0
    if not 1 <= n <= len(frame.components) or len(body) != 4 + 2 * n:
        raise NotInPlaceError("a scan header (SOS) is not valid")
    if body[1 + 2 * n : 4 + 2 * n] != b"\x00\x3f\x00":
        raise NotInPlaceError("the scan is not sequential (spectral selection or approximation)")
    ids = [c.ident for c in frame.components]
    comps, dcs, acs, dslots, aslots = [], [], [], [], []
    for k in range(n):
        ident, tables = body[1 + 2 * k], body[2 + 2 * k]
        if ident not in ids:
            raise NotInPlaceError("a scan names a component the frame does not have")
        index = ids.index(ident)
        td, ta = tables >> 4, tables & 15
        if (0, td) not in dht_at or (1, ta) not in dht_at:
            raise NotInPlaceError("a scan uses a Huffman table that was not defined")
        if frame.components[index].tq not in quant:
            raise NotInPlaceError("a component's quantisation table was not defined")
        cs.quant_dc.setdefault(index, quant[frame.components[index].tq])  # latched at its first scan
        comps.append(index)
        dcs.append(dht_at[(0, td)])
        acs.append(dht_at[(1, ta)])
        dslots.append(td)
        aslots.append(ta)
    if n > 1 and sum(frame.components[i].h * frame.components[i].v for i in comps) > 10:
        raise NotInPlaceError("more than ten blocks in an MCU")
    found = _ECS_END.search(buf, pos)
    if found is None:
        raise NotInPlaceError("the entropy-coded data has no end")
    end = found.start()
    cs.scans.append(
        ScanHeader(tuple(comps), tuple(dcs), tuple(acs), tuple(dslots), tuple(aslots), restart, len(cs.parts))
    )
    cs.parts.append(buf[pos:end])
    return end


def intervals(ecs: bytes) -> list[tuple[bytes, bytes]]:
    """The entropy-coded segment split at its restart markers: (stuffed data, marker bytes after it)."""
    out, start = [], 0
    for m in _RESTART.finditer(ecs):
        out.append((ecs[start : m.start()], ecs[m.start() : m.end()]))
        start = m.end()
    last = ecs[start:]
    data = last.rstrip(b"\xff")  # fill bytes before the next marker (B.1.1.2)
    out.append((data, last[len(data) :]))
    return out
