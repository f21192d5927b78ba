"""Redacted compressed pixels are encoded again, losslessly, so the file stays compressed (issue 16).

Compressed sources are decoded to be redacted (decoded.py). Written uncompressed they grew 5x (a JPEG 2000
lossless CT 107 KB -> 526 KB, a 10-frame RLE ultrasound 484 KB -> 2.6 MB), so the redacted frames are
encoded again, always losslessly:
- RLE Lossless sources stay RLE Lossless (PS3.5 Annex G: rle.py, pure Python, so the page does it too);
- the other lossless sources (JPEG-LS lossless, JPEG lossless .57/.70, JPEG 2000 lossless .90, .91 and
  HTJ2K with Lossy Image Compression not "01") become JPEG-LS lossless (PS3.5 A.4.3, CharLS) where an
  encoder is at hand (natively pyjpegls through pydicom's encoder; in the page the worker's CharLS), and
  RLE otherwise. On the public test files JPEG-LS comes out at 0.95-1.1x the source, RLE at 1.3-4x for
  grey images with noise (bench/README.md "Redacted compressed images" has the figures);
- lossy sources other than JPEG baseline (JPEG extended .51, JPEG-LS near-lossless .81, lossy JPEG 2000)
  are re-encoded losslessly the same way: what they lost is lost already, Lossy Image Compression stays
  "01" (decoded.write_decoded set it) and nothing is lost again.
JPEG baseline (.50) is not re-encoded here: it is blanked in the compressed domain or written as decoded.

What follows the new encoding (PS3.3 C.7.6.3, PS3.5 8.2): Transfer Syntax, Photometric Interpretation as
decoded (JPEG 2000 YBR_RCT/ICT decode to RGB), Planar Configuration 1 for RLE colour (PS3.5 G.2's note:
the segments are colour-by-plane) and 0 for JPEG-LS (interleaved samples, ILV_SAMPLE), Bits Stored as
before. Before encoding, bits outside Bits Stored are cleared (high_bits.py): an RLE segment would carry
an embedded overlay as faithfully as uncompressed data, and JPEG-LS codes Bits Stored bits only (signed
samples are coded as their low Bits Stored bits, which readers sign-extend: PS3.5 8.2.3). No codestream
text can survive: the codestreams are new, made from samples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pydicom.encaps import encapsulate
from pydicom.uid import JPEGLSLossless, RLELossless

from .errors import UnsupportedPixelsError
from .high_bits import bit_layout_of, clean_high_bits
from .rle import RleFormat, encode_frame

RLE_LOSSLESS = str(RLELossless)
JPEG_LS_LOSSLESS = str(JPEGLSLossless)
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"

# Sources whose redacted frames are encoded again (PS3.5 A.4). JPEG baseline is not one of them.
REENCODED = frozenset(
    {
        RLE_LOSSLESS,
        "1.2.840.10008.1.2.4.51",  # JPEG extended (lossy, 12-bit)
        "1.2.840.10008.1.2.4.57",  # JPEG lossless
        "1.2.840.10008.1.2.4.70",  # JPEG lossless, first-order prediction
        "1.2.840.10008.1.2.4.80",  # JPEG-LS lossless
        "1.2.840.10008.1.2.4.81",  # JPEG-LS near-lossless
        "1.2.840.10008.1.2.4.90",  # JPEG 2000 lossless
        "1.2.840.10008.1.2.4.91",  # JPEG 2000 (lossless or lossy: Lossy Image Compression says)
        "1.2.840.10008.1.2.4.201",  # HTJ2K lossless
        "1.2.840.10008.1.2.4.202",  # HTJ2K lossless RPCL
        "1.2.840.10008.1.2.4.203",  # HTJ2K
    }
)


@dataclass(frozen=True)
class FrameFormat:
    """One frame handed to a JPEG-LS encoder: samples interleaved, little endian, unsigned, every value
    within Bits Stored (signed values as their low Bits Stored bits)."""

    rows: int
    columns: int
    samples: int
    bits_allocated: int  # 8 or 16
    bits_stored: int  # 2..16


# A JPEG-LS lossless encoder of one frame (natively pyjpegls, in the page the worker's CharLS).
JpegLsEncoder = Callable[[bytes, FrameFormat], bytes]


def native_jpeg_ls() -> JpegLsEncoder | None:
    """pydicom's JPEG-LS lossless encoder with the pyjpegls plugin, or None where it cannot run."""
    try:
        from pydicom.pixels.encoders.base import get_encoder

        encoder = get_encoder(JPEGLSLossless)
        if "pyjpegls" not in encoder.available_plugins:
            return None
    except Exception:  # no numpy or no pyjpegls (Pyodide): RLE instead
        return None

    def encode(frame: bytes, fmt: FrameFormat) -> bytes:
        options: Any = {
            "rows": fmt.rows,
            "columns": fmt.columns,
            "samples_per_pixel": fmt.samples,
            "bits_allocated": fmt.bits_allocated,
            "bits_stored": fmt.bits_stored,
            "pixel_representation": 0,
            "photometric_interpretation": "MONOCHROME2" if fmt.samples == 1 else "RGB",
            "planar_configuration": 0,
            "number_of_frames": 1,
            "encoding_plugin": "pyjpegls",
        }
        return bytes(encoder.encode(frame, **options))

    return encode


def _fits_jpeg_ls(ds: Any) -> bool:
    """CharLS codes 2 to 16 bits a sample, one or three samples (PS3.5 8.2.3), in one byte up to 8 bits and
    two above (so 16 allocated with 8 or fewer stored goes to RLE)."""
    allocated, stored = int(ds.BitsAllocated), int(ds.BitsStored)
    fits = (allocated == 8 and 2 <= stored <= 8) or (allocated == 16 and 8 < stored <= 16)
    return fits and int(ds.SamplesPerPixel) in (1, 3)


def output_for(source: str, ds: Any, jpeg_ls: JpegLsEncoder | None) -> str | None:
    """The transfer syntax the redacted pixels of a `source` file are written in; None: uncompressed."""
    if source not in REENCODED:
        return None
    if source != RLE_LOSSLESS and jpeg_ls is not None and _fits_jpeg_ls(ds):
        return JPEG_LS_LOSSLESS
    if int(ds.SamplesPerPixel) * int(ds.BitsAllocated) // 8 > 15 or int(ds.BitsAllocated) % 8:
        return None  # more than RLE's 15 segments, or packed bits: written uncompressed
    return RLE_LOSSLESS


def _frames(data: bytes, count: int) -> list[bytes]:
    size = len(data) // count
    return [data[i * size : (i + 1) * size] for i in range(count)]


def reencode(ds: Any, source: str, jpeg_ls: JpegLsEncoder | None) -> str | None:
    """Encode `ds`'s uncompressed redacted pixels (as write_decoded left them) for a `source` file; returns
    the transfer syntax written, or None when the pixels stay uncompressed."""
    target = output_for(source, ds, jpeg_ls)
    if target is None:
        return None
    layout = bit_layout_of(ds)
    if layout is None:
        raise UnsupportedPixelsError("the redacted pixels to encode again are not uncompressed")
    rows, columns, samples = int(ds.Rows), int(ds.Columns), int(ds.SamplesPerPixel)
    count = int(ds.get("NumberOfFrames") or 1)
    frame_bytes = rows * columns * samples * layout.bits_allocated // 8
    data = bytes(ds.PixelData)[: frame_bytes * count]
    if target == JPEG_LS_LOSSLESS:
        assert jpeg_ls is not None
        # JPEG-LS codes Bits Stored bits: signed values go as their low bits (readers sign-extend).
        data = clean_high_bits(data, replace(layout, signed=False)).data
        fmt = FrameFormat(rows, columns, samples, layout.bits_allocated, layout.bits_stored)
        fragments = [jpeg_ls(frame, fmt) for frame in _frames(data, count)]
        planar = 0
    else:
        data = clean_high_bits(data, layout).data
        rle = RleFormat(rows, columns, samples, layout.bits_allocated // 8)
        fragments = [encode_frame(frame, rle) for frame in _frames(data, count)]
        planar = 1  # PS3.5 G.2 note: RLE colour is colour-by-plane
    ds.PixelData = encapsulate(fragments, has_bot=count > 1)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    if samples > 1:
        ds.PlanarConfiguration = planar
    ds.file_meta.TransferSyntaxUID = target
    return target
