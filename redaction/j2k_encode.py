"""JPEG 2000 lossless encoding of redacted frames whose source was JPEG 2000 (issue 16).

Colour JPEG 2000 lossless (YBR_RCT: the reversible colour transform, PS3.5 8.2.4) came out 1.71x its source
as JPEG-LS, which in DICOM has no colour transform (PS3.5 A.4.3); encoded again as JPEG 2000 lossless it is
1.00x. Both sides run OpenJPEG with the same parameters, so they write the same codestream:
- natively pylibjpeg-openjpeg (`openjpeg.utils.encode_buffer`: OpenJPEG 2.5.2);
- in the page @cornerstonejs/codec-openjpeg's encoder build (OpenJPEG 2.5.4, static/codecs.mjs), which
  Python calls synchronously through the worker's JS module `pacsbin_codecs`.
The parameters are pylibjpeg-openjpeg's fixed ones, which the page sets to match: a J2K codestream (no JP2
boxes), one tile, 64x64 code blocks, 5 decompositions (6 resolutions), LRCP progression, one quality
layer, the reversible 5/3 wavelet, and the reversible colour transform for RGB (written as YBR_RCT).
The only byte the two differ in is OpenJPEG's version in its "Created by OpenJPEG version 2.5.x" comment;
comments are removed here (`without_comments`), so the page's files equal the CLI's byte for byte
(tests/test_reencode_page.py) and no codestream text is written.

What the page's encoder build can take (its J2KEncoder copies 16-bit data into the first component only,
and 8-bit data as unsigned bytes) bounds what is encoded as JPEG 2000 on both sides (`fits_j2k`): grey 2-16
bits (signed only above 8), or unsigned 8-bit RGB. Anything else goes to JPEG-LS or RLE (reencode.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import UnsupportedPixelsError

JPEG_2000_LOSSLESS = "1.2.840.10008.1.2.4.90"
# JPEG 2000 sources (PS3.5 A.4.4, A.4.11): their redacted frames are written as JPEG 2000 lossless.
J2K_SOURCES = frozenset(
    {
        JPEG_2000_LOSSLESS,
        "1.2.840.10008.1.2.4.91",  # JPEG 2000 (lossless or lossy)
        "1.2.840.10008.1.2.4.201",  # HTJ2K lossless
        "1.2.840.10008.1.2.4.202",  # HTJ2K lossless RPCL
        "1.2.840.10008.1.2.4.203",  # HTJ2K
    }
)


@dataclass(frozen=True)
class FrameFormat:
    """One frame handed to an encoder: samples interleaved, little endian, each within Bits Stored (for a
    JPEG-LS encoder unsigned: signed values as their low Bits Stored bits; for JPEG 2000 `signed` says
    whether they are two's complement, sign-extended to Bits Allocated)."""

    rows: int
    columns: int
    samples: int
    bits_allocated: int  # 8 or 16
    bits_stored: int  # 2..16
    signed: bool = False


# A lossless encoder of one frame: the codestream out (JPEG-LS: pyjpegls or the page's CharLS; JPEG 2000:
# pylibjpeg-openjpeg or the page's OpenJPEG).
FrameEncoder = Callable[[bytes, FrameFormat], bytes]


def fits_j2k(ds: Any, photometric: str) -> bool:
    """Whether both sides' JPEG 2000 encoders code these samples exactly (see the module's docstring)."""
    allocated, stored = int(ds.BitsAllocated), int(ds.BitsStored)
    samples, signed = int(ds.SamplesPerPixel), int(ds.get("PixelRepresentation", 0)) == 1
    if samples == 1:
        return (allocated == 8 and 2 <= stored <= 8 and not signed) or (allocated == 16 and 8 < stored <= 16)
    return samples == 3 and allocated == 8 and stored == 8 and not signed and photometric == "RGB"


def without_comments(codestream: bytes) -> bytes:
    """The codestream without its main header's COM segments (ISO 15444-1 A.9.2; OpenJPEG writes one naming
    itself and its version). Marker segments of the main header are walked from SIZ up to the first SOT."""
    if codestream[:4] != b"\xff\x4f\xff\x51":
        raise UnsupportedPixelsError("the JPEG 2000 encoder did not write a codestream (no SOC and SIZ)")
    out = bytearray(codestream[:2])
    pos = 2
    while pos + 4 <= len(codestream) and codestream[pos] == 0xFF and codestream[pos + 1] != 0x90:
        end = pos + 2 + int.from_bytes(codestream[pos + 2 : pos + 4], "big")
        if codestream[pos + 1] != 0x64:  # COM
            out += codestream[pos:end]
        pos = end
    if codestream[pos : pos + 2] != b"\xff\x90":
        raise UnsupportedPixelsError("the JPEG 2000 codestream's main header has no end (no SOT marker)")
    return bytes(out) + codestream[pos:]


def native_j2k() -> FrameEncoder | None:
    """pylibjpeg-openjpeg's JPEG 2000 lossless encoder, or None where it cannot run (the page)."""
    try:
        from openjpeg.utils import encode_buffer
    except Exception:  # not installed, or no numpy (Pyodide): JPEG-LS or RLE instead
        return None

    def encode(frame: bytes, fmt: FrameFormat) -> bytes:
        try:
            # photometric_interpretation 1 (sRGB) applies the reversible colour transform, 2 is grey.
            return bytes(
                encode_buffer(
                    frame,
                    fmt.columns,
                    fmt.rows,
                    fmt.samples,
                    fmt.bits_stored,
                    fmt.signed,
                    photometric_interpretation=1 if fmt.samples == 3 else 2,
                    use_mct=fmt.samples == 3,
                )
            )
        except Exception as exc:
            raise UnsupportedPixelsError(f"cannot encode the redacted pixels as JPEG 2000: {exc}") from None

    return encode
