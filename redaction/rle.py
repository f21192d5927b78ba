"""RLE Lossless encoding (PS3.5 Annex G), pure Python and fast enough for the page (Pyodide has no numpy).

A frame is cut into byte segments (G.2: one per byte of each sample, most significant byte first, the
samples in order), each segment PackBits-coded (G.3.1) row by row: "each row of the image shall be encoded
separately and not cross a row boundary". The segments follow a 64-byte header (G.5) of their count and
offsets; each segment is padded to an even length.

pydicom's own encoder (pydicom.pixels.encoders.native) needs no numpy either, but it walks every byte in
Python (itertools.groupby): 121 ms a 640x480 RGB ultrasound frame natively, 11 ms here (bench/reencode.py's
cine; bench/README.md "Redacted compressed images" has the page's figures). Here the runs are found in
C: the segment XOR itself shifted by one byte (two big integers) is zero where a byte equals the next, and
the regular expression engine finds the runs of zeros; the literal bytes between runs are sliced, not
walked: the Python work is per run and per 128 literal bytes, not per byte.

A replicate run is coded from three equal bytes (two equal bytes cost two bytes either way, and breaking a
literal run for them costs a header byte): the output is what G.3.1's "should" asks, within a byte a row.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from .errors import UnsupportedPixelsError

# Runs of 3 or more equal bytes, found as 2 or more zero bytes in the XOR of the segment with itself
# shifted by one (a literal-led pattern the regular expression engine scans for quickly); each is coded as
# replicate runs of up to 128 (header 257 - n, i.e. -(n - 1) as a signed byte, then the byte).
_RUN = re.compile(rb"\x00\x00+")
_LITERAL_HEADERS = [b""] + [bytes((n - 1,)) for n in range(1, 129)]  # [n]: header n - 1, then n bytes
_MAX_SEGMENTS = 15  # G.5: the header holds 15 offsets


@dataclass(frozen=True)
class RleFormat:
    """What one frame is: samples interleaved per pixel, little endian, `bytes_per_sample` each."""

    rows: int
    columns: int
    samples: int
    bytes_per_sample: int

    @property
    def frame_bytes(self) -> int:
        return self.rows * self.columns * self.samples * self.bytes_per_sample

    @property
    def segments(self) -> int:
        return self.samples * self.bytes_per_sample


def _literal(seg: bytes, start: int, end: int, out: list[bytes]) -> None:
    for i in range(start, end, 128):
        n = min(128, end - i)
        out.append(_LITERAL_HEADERS[n])
        out.append(seg[i : i + n])


def _equal_to_next(seg: bytes) -> bytes:
    """A zero byte at i where seg[i] == seg[i + 1]: one XOR of two big integers, in C (no numpy here)."""
    n = len(seg)
    shifted = int.from_bytes(seg[1:] + b"\0", "big")
    return (int.from_bytes(seg, "big") ^ shifted).to_bytes(n, "big")


def encode_segment(seg: bytes, columns: int) -> bytes:
    """One byte segment, PackBits row by row (G.3.1), padded to an even length."""
    out: list[bytes] = []
    diff = _equal_to_next(seg)
    finditer = _RUN.finditer
    for row in range(0, len(seg), columns):
        end = row + columns
        pos = row
        # Two or more zeros in diff[row:end - 1]: three or more equal bytes, within the row.
        for m in finditer(diff, row, end - 1):
            a, stop = m.start(), m.end() + 1  # the run is seg[a:stop]
            if a > pos:
                _literal(seg, pos, a, out)
            value = seg[a]
            while stop - a >= 3:
                n = min(128, stop - a)
                out.append(bytes((257 - n, value)))
                a += n
            pos = a  # one or two equal bytes left over go with the next literal run
        if pos < end:
            _literal(seg, pos, end, out)
    coded = b"".join(out)
    return coded + b"\0" if len(coded) % 2 else coded


def encode_frame(frame: bytes, fmt: RleFormat) -> bytes:
    """One frame (samples interleaved, little endian) as an RLE Lossless fragment (G.5 header + segments)."""
    if len(frame) != fmt.frame_bytes:
        raise UnsupportedPixelsError(
            f"a frame to RLE-encode holds {len(frame)} bytes; {fmt.rows}x{fmt.columns}x{fmt.samples} at "
            f"{fmt.bytes_per_sample} byte(s) a sample needs {fmt.frame_bytes}"
        )
    if fmt.segments > _MAX_SEGMENTS:
        raise UnsupportedPixelsError(
            f"RLE Lossless holds at most {_MAX_SEGMENTS} byte segments; this image needs {fmt.segments}"
        )
    step = fmt.segments
    segments = []
    for sample in range(fmt.samples):
        for byte in reversed(range(fmt.bytes_per_sample)):  # most significant byte first (G.2)
            segments.append(encode_segment(frame[sample * fmt.bytes_per_sample + byte :: step], fmt.columns))
    offsets = []
    at = 64
    for segment in segments:
        offsets.append(at)
        at += len(segment)
    header = struct.pack(f"<{1 + len(offsets)}L", len(segments), *offsets).ljust(64, b"\0")
    return header + b"".join(segments)
