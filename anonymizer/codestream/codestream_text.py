"""Remove text hidden in JPEG, JPEG-LS and JPEG 2000 codestreams (PS3.15: no identifying text may survive).

Pure Python (it runs in Pyodide). One entry point per codestream family; finding the codestreams in a
(7FE0,0010) value (frames, fragments, offset table) is encapsulated_text.py's job:

* `strip_jpeg_text` - JPEG (ISO 10918, every process incl. lossless SOF3) and JPEG-LS (ISO 14495-1).
  Every marker segment is walked, including those between scans: entropy-coded data is skipped with
  the 10918 rule (0xFF00 is stuffing, 0xFFD0-D7 are restarts) or, once a JPEG-LS SOF55 has been seen,
  the 14495 rule (0xFF followed by a byte with the high bit clear is data). Removed: COM and every
  APPn segment except those a decoder uses, which are kept but cut to their fixed-size header:
  APP0 "JFIF" (14 bytes; its thumbnail, an unredacted copy of the image, is removed and the
  thumbnail size set to 0x0), APP14 "Adobe" (12 bytes, colour transform), APP8 "mrfx" (5 bytes,
  JPEG-LS colour transform). APP2 "ICC_PROFILE" is kept whole: it describes the device's colour
  response, not the patient. JFXX (thumbnail only), Exif, XMP, IPTC, SPIFF, ... are removed.
  Bytes after EOI (or EOC) are kept if they are 0x00/0xFF padding and removed otherwise.
* `strip_j2k_text` - JPEG 2000 / HTJ2K codestreams: COM (0xFF64) segments are removed from the main
  header and from tile-part headers; each shortened tile-part gets its Psot corrected, and so does
  its entry in a TLM marker (UnsupportedError if the TLM does not list every tile-part consistently).
  A JP2 file (not conformant in DICOM, but seen) keeps only its 'jP  ', 'ftyp', 'rreq', 'jp2h' and
  'jp2c' boxes: 'xml ', 'uuid', 'uinf', 'jp2i' and any other box are removed; the codestream box is
  stripped as above and its length fixed.

Both strippers return (new bytes, human list of what was removed), never including the removed
text. With nothing removed the input object itself is returned. What cannot be parsed safely raises
UnsupportedError with the reason (fail closed).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable

from anonymizer.errors import UnsupportedError

__all__ = ["JP2_SIGNATURE", "j2k_codestream_end", "jpeg_codestream_end", "strip_j2k_text", "strip_jpeg_text"]

_Edit = tuple[int, int, bytes]  # replace buf[start:end] by the bytes
_Walker = Callable[[bytes, int, list[_Edit], list[str]], int]

# ---------------------------------------------------------------------------------------- JPEG
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xF7})
# marker segments with a length: SOFn, DHT, DAC, SOS, DQT, DNL, DRI, DHP, EXP, APPn, JPEG-LS LSE, COM
_JPEG_SEGMENTS = _SOF | {0xC4, 0xCC, 0xDA, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF, 0xF8, 0xFE} | set(range(0xE0, 0xF0))
# first marker after entropy-coded data (RSTn and fill bytes belong to the data)
_JPEG_ECS_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_JPEGLS_ECS_END = re.compile(rb"\xff[\x80-\xcf\xd8-\xfe]")
# (APPn, identifier) -> bytes of payload kept (None: all of it)
_KEEP_APP: dict[tuple[int, bytes], int | None] = {
    (0xE0, b"JFIF\0"): 14,
    (0xE2, b"ICC_PROFILE\0"): None,
    (0xEE, b"Adobe"): 12,
    (0xE8, b"mrfx"): 5,
}
_APP_NAMES = {
    b"Exif\0": "Exif",
    b"http://ns.adobe.com/xap/1.0/\0": "XMP",
    b"http://ns.adobe.com/xmp/extension/\0": "XMP extension",
    b"Photoshop 3.0\0": "Photoshop/IPTC",
    b"ICC_PROFILE\0": "ICC profile",
    b"JFIF\0": "JFIF",
    b"JFXX\0": "JFXX thumbnail",
    b"MPF\0": "MPF",
    b"FPXR\0": "FlashPix",
    b"SPIFF\0": "SPIFF",
    b"AVI1": "AVI1",
    b"Ducky": "Ducky",
    b"Adobe": "Adobe",
    b"mrfx": "mrfx",
}


def _app(buf: bytes, code: int, mpos: int, end: int, edits: list[_Edit], removed: list[str]) -> None:
    payload = buf[mpos + 4 : end]
    name = f"APP{code - 0xE0}"
    for (app, ident), size in _KEEP_APP.items():
        if app == code and payload.startswith(ident):
            if size is None:
                return
            keep = payload[:12] + b"\0\0" if ident == b"JFIF\0" and len(payload) >= 14 else payload[:size]
            if keep != payload:
                cut = len(payload) - len(keep)
                edits.append((mpos, end, bytes([0xFF, code]) + (len(keep) + 2).to_bytes(2, "big") + keep))
                what = "JFIF thumbnail" if ident == b"JFIF\0" else f"{_APP_NAMES[ident]} extra data"
                removed.append(f"{name} {what} ({cut} bytes)")
            return
    label = next((f" {v}" for k, v in _APP_NAMES.items() if payload.startswith(k)), "")
    edits.append((mpos, end, b""))
    removed.append(f"{name}{label} ({end - mpos} bytes)")


def _walk_jpeg(buf: bytes, start: int, edits: list[_Edit], removed: list[str]) -> int:
    """Walk one JPEG / JPEG-LS stream from its SOI at `start`; return the offset just after its EOI."""
    n = len(buf)
    if buf[start : start + 2] != b"\xff\xd8":
        raise UnsupportedError("JPEG: no SOI marker at the start of the codestream")
    pos, ecs_end = start + 2, None
    while True:
        if pos >= n:
            raise UnsupportedError("JPEG: no EOI marker, the codestream ends early")
        if buf[pos] != 0xFF:
            raise UnsupportedError(f"JPEG: expected a marker at byte {pos - start}, found 0x{buf[pos]:02X}")
        while pos < n and buf[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= n:
            raise UnsupportedError("JPEG: no EOI marker, the codestream ends early")
        code, mpos, pos = buf[pos], pos - 1, pos + 1
        if code == 0xD9:
            return pos
        if 0xD0 <= code <= 0xD7 or code == 0x01:  # RSTn, TEM: no length
            continue
        if code not in _JPEG_SEGMENTS:
            raise UnsupportedError(f"JPEG: unknown or misplaced marker 0xFF{code:02X} at byte {mpos - start}")
        end = pos + int.from_bytes(buf[pos : pos + 2], "big")
        if pos + 2 > n or end < pos + 2 or end > n:
            raise UnsupportedError(
                f"JPEG: the 0xFF{code:02X} segment at byte {mpos - start} has a bad length"
            )
        if code == 0xFE:
            edits.append((mpos, end, b""))
            removed.append(f"COM ({end - mpos} bytes)")
        elif 0xE0 <= code <= 0xEF:
            _app(buf, code, mpos, end, edits, removed)
        elif code in _SOF:
            ecs_end = _JPEGLS_ECS_END if code == 0xF7 else _JPEG_ECS_END
        elif code == 0xDA:
            if ecs_end is None:
                raise UnsupportedError(f"JPEG: SOS before any SOF marker at byte {mpos - start}")
            found = ecs_end.search(buf, end)
            if found is None:
                raise UnsupportedError("JPEG: no EOI marker, entropy-coded data runs to the end")
            pos = found.start()
            continue
        pos = end


# ---------------------------------------------------------------------------------------- JPEG 2000
# marker segments with a length: Part 1 (SIZ COD COC TLM PRF PLM PLT QCD QCC RGN POC PPM PPT CRG COM),
# Part 15 (CAP CPF) and Part 2 (DCO VMS DFS ADS MCT MCC NLT MCO CBD ATK). 0xFF30-3F have no length.
_J2K_SEGMENTS = frozenset(
    [0x50, 0x51, 0x52, 0x53, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5C, 0x5D, 0x5E, 0x5F, 0x60, 0x61, 0x63, 0x64]
    + list(range(0x70, 0x7A))
)
JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
_NEXT_CODESTREAM = re.compile(rb"[\0\xff]*\xff(\xd8|\x4f\xff\x51)|\0*\x0cjP  ")
_JP2_KEEP = frozenset({b"jP  ", b"ftyp", b"rreq", b"jp2h", b"jp2c"})


def _j2k_header(
    buf: bytes, start: int, pos: int, edits: list[_Edit], removed: list[str], tlm: list[int] | None
) -> tuple[int, int]:
    """Walk a main header (`tlm` given: stops at the first SOT) or a tile-part header (stops after
    SOD). Returns (that offset, bytes of COM removed)."""
    where, cut, n = ("main header" if tlm is not None else "tile-part header"), 0, len(buf)
    while True:
        if pos + 2 > n:
            raise UnsupportedError(f"JPEG 2000: the {where} runs past the end of the codestream")
        code = buf[pos + 1]
        if buf[pos] != 0xFF:
            raise UnsupportedError(f"JPEG 2000: expected a marker at byte {pos - start} in the {where}")
        if code == (0x90 if tlm is not None else 0x93):
            return (pos if tlm is not None else pos + 2), cut
        if 0x30 <= code <= 0x3F:
            pos += 2
            continue
        if (
            code not in _J2K_SEGMENTS
            or (code == 0x51) != (pos == start + 2)
            or (code == 0x55 and tlm is None)
        ):
            raise UnsupportedError(f"JPEG 2000: unknown or misplaced marker 0xFF{code:02X} in the {where}")
        end = pos + 2 + int.from_bytes(buf[pos + 2 : pos + 4], "big")
        if pos + 4 > n or end < pos + 4 or end > n:
            raise UnsupportedError(f"JPEG 2000: the 0xFF{code:02X} segment in the {where} runs past the end")
        if code == 0x64:
            edits.append((pos, end, b""))
            removed.append(f"COM in the {where} ({end - pos} bytes)")
            cut += end - pos
        elif code == 0x55 and tlm is not None:
            tlm.append(pos)
        pos = end


def _fix_tlm(buf: bytes, tlm: list[int], parts: list[tuple[int, int, int]], edits: list[_Edit]) -> None:
    """Correct the TLM entries (Ptlm) of shortened tile-parts; `parts` is (Isot, length, cut)."""
    entries: list[tuple[int, int, int | None]] = []  # (Ptlm offset, its size, Ttlm)
    for pos in sorted(tlm, key=lambda p: buf[p + 4]):  # in Ztlm order
        end, stlm = pos + 2 + int.from_bytes(buf[pos + 2 : pos + 4], "big"), buf[pos + 5]
        st, sp = (stlm >> 4) & 3, (4 if stlm & 0x40 else 2)
        if st == 3 or (end - pos - 6) % (st + sp):
            raise UnsupportedError("JPEG 2000: malformed TLM marker segment")
        for p in range(pos + 6, end, st + sp):
            entries.append((p + st, sp, int.from_bytes(buf[p : p + st], "big") if st else None))
    if len(entries) != len(parts):
        raise UnsupportedError("JPEG 2000: the TLM marker does not list every tile-part; cannot correct it")
    for (field, size, ttlm), (isot, length, cut) in zip(entries, parts, strict=True):
        if (ttlm is not None and ttlm != isot) or int.from_bytes(buf[field : field + size], "big") != length:
            raise UnsupportedError("JPEG 2000: the TLM marker disagrees with the tile-part lengths")
        if cut:
            edits.append((field, field + size, (length - cut).to_bytes(size, "big")))


def _walk_j2k(buf: bytes, start: int, edits: list[_Edit], removed: list[str]) -> int:
    """Walk one JPEG 2000 codestream from its SOC at `start`; return the offset just after its EOC."""
    if buf[start : start + 4] != b"\xff\x4f\xff\x51":
        raise UnsupportedError("JPEG 2000: no SOC and SIZ markers at the start of the codestream")
    tlm: list[int] = []
    pos, _ = _j2k_header(buf, start, start + 2, edits, removed, tlm)
    parts: list[tuple[int, int, int]] = []
    while buf[pos : pos + 2] != b"\xff\xd9":
        if pos >= len(buf):
            raise UnsupportedError("JPEG 2000: no EOC marker, the codestream ends early")
        if buf[pos : pos + 4] != b"\xff\x90\x00\x0a" or pos + 12 > len(buf):
            raise UnsupportedError(f"JPEG 2000: expected an SOT or EOC marker at byte {pos - start}")
        isot, psot = struct.unpack(">HL", buf[pos + 4 : pos + 10])
        sod_end, cut = _j2k_header(buf, start, pos + 12, edits, removed, None)
        tp_end = buf.find(b"\xff\xd9", sod_end) if psot == 0 else pos + psot  # Psot 0: up to the EOC
        if tp_end < 0:
            raise UnsupportedError("JPEG 2000: no EOC marker after the last tile-part (Psot 0)")
        if tp_end < sod_end or tp_end > len(buf):
            raise UnsupportedError(f"JPEG 2000: tile-part at byte {pos - start} has a bad length (Psot)")
        if cut and psot:
            edits.append((pos + 6, pos + 10, (psot - cut).to_bytes(4, "big")))
        parts.append((isot, tp_end - pos, cut))
        pos = tp_end
    if tlm and any(cut for *_, cut in parts):
        _fix_tlm(buf, tlm, parts, edits)
    return pos + 2


def _walk_jp2(buf: bytes, edits: list[_Edit], removed: list[str]) -> None:
    pos, n, found = 0, len(buf), False
    while pos < n:
        if n - pos < 8 and not buf[pos:].strip(b"\0"):
            break  # DICOM even-length padding
        lbox, tbox = struct.unpack(">L4s", buf[pos : pos + 8])
        hdr, size = (
            (16, int.from_bytes(buf[pos + 8 : pos + 16], "big")) if lbox == 1 else (8, lbox or n - pos)
        )
        if n - pos < hdr or size < hdr or pos + size > n:
            raise UnsupportedError(f"JP2: the box at byte {pos} runs past the end of the data")
        if tbox == b"jp2c":
            found, inner = True, list[_Edit]()
            _tail(buf, _walk_j2k(buf, pos + hdr, inner, removed), pos + size, "EOC", inner, removed)
            cut = sum(e - s - len(r) for s, e, r in inner)
            if cut and lbox == 1:  # the length is in XLBox
                edits.append((pos + 8, pos + 16, (size - cut).to_bytes(8, "big")))
            elif cut and lbox:  # LBox 0 (up to the end) needs no change
                edits.append((pos, pos + 4, (size - cut).to_bytes(4, "big")))
            edits.extend(inner)
        elif tbox not in _JP2_KEEP:
            label = tbox.decode("latin-1") if all(32 <= c < 127 for c in tbox) else tbox.hex()
            edits.append((pos, pos + size, b""))
            removed.append(f"JP2 '{label}' box ({size} bytes)")
        pos += size
    if not found:
        raise UnsupportedError("JP2: no contiguous codestream ('jp2c') box")


# ---------------------------------------------------------------------------------------- common
def _tail(buf: bytes, end: int, stop: int, marker: str, edits: list[_Edit], removed: list[str]) -> None:
    """Bytes between the end-of-codestream marker and `stop`: 0x00 / 0xFF padding is kept (both are
    common), anything else is removed; another codestream there means the frame split is wrong."""
    rest = buf[end:stop]
    if rest.translate(None, b"\0\xff"):
        if _NEXT_CODESTREAM.match(rest):
            raise UnsupportedError(f"another codestream follows the {marker}: frame boundaries unclear")
        edits.append((end, stop, b""))
        removed.append(f"data after {marker} ({stop - end} bytes)")


def _apply(buf: bytes, edits: list[_Edit]) -> bytes:
    out, pos = [], 0
    for start, end, new in sorted(edits):
        out += [buf[pos:start], new]
        pos = end
    out.append(buf[pos:])
    return b"".join(out)


def _strip(buf: bytes, walk: _Walker, marker: str) -> tuple[bytes, list[str]]:
    edits: list[_Edit] = []
    removed: list[str] = []
    _tail(buf, walk(buf, 0, edits, removed), len(buf), marker, edits, removed)
    return (_apply(buf, edits) if edits else buf), removed


def strip_jpeg_text(codestream: bytes) -> tuple[bytes, list[str]]:
    """Remove COM and non-essential APPn segments from a JPEG or JPEG-LS codestream."""
    return _strip(codestream, _walk_jpeg, "EOI")


def strip_j2k_text(codestream: bytes) -> tuple[bytes, list[str]]:
    """Remove COM segments (and, for a JP2 file, metadata boxes) from JPEG 2000 / HTJ2K."""
    if not codestream.startswith(JP2_SIGNATURE):
        return _strip(codestream, _walk_j2k, "EOC")
    edits: list[_Edit] = []
    removed: list[str] = []
    _walk_jp2(codestream, edits, removed)
    return (_apply(codestream, edits) if edits else codestream), removed


def jpeg_codestream_end(buf: bytes, start: int) -> int:
    """The offset just after the EOI of the JPEG / JPEG-LS codestream starting at `start` in `buf`."""
    return _walk_jpeg(buf, start, [], [])


def j2k_codestream_end(buf: bytes, start: int) -> int:
    """The offset just after the EOC of the JPEG 2000 / HTJ2K codestream starting at `start` in `buf`."""
    return _walk_j2k(buf, start, [], [])
