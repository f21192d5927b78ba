"""Compressed pixel data is redacted after decoding: the decoded frames replace it, written uncompressed.

The frames come from the page's codecs (the browser decodes; Python gets bytes) or, natively, from pydicom's
decoders (numpy, pylibjpeg, Pillow: `native_decode`). Either way `write_decoded` sets what the new encoding
needs (PS3.3 C.7.6.3, C.7.6.1.1.5): Transfer Syntax Explicit VR Little Endian, Photometric Interpretation
as decoded (YBR_FULL_422 JPEG decodes to RGB), Planar Configuration 0, and Lossy Image Compression "01"
when the source was lossy. Re-encoding losslessly would keep sizes down; uncompressed is what every
receiver reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydicom.uid import ExplicitVRLittleEndian

from .errors import UnsupportedPixelsError

# Transfer syntaxes that are always lossy (PS3.5 A.4; PS3.5 8.2.3: JPEG-LS near-lossless is lossy).
# JPEG 2000 (.91) and HTJ2K (.203) may or may not be: the file's own Lossy Image Compression then stands.
LOSSY = frozenset(
    {
        "1.2.840.10008.1.2.4.50",
        "1.2.840.10008.1.2.4.51",
        "1.2.840.10008.1.2.4.81",
        "1.2.840.10008.1.2.4.100",
        "1.2.840.10008.1.2.4.101",
        "1.2.840.10008.1.2.4.102",
        "1.2.840.10008.1.2.4.103",
        "1.2.840.10008.1.2.4.104",
        "1.2.840.10008.1.2.4.105",
        "1.2.840.10008.1.2.4.106",
        "1.2.840.10008.1.2.4.107",
        "1.2.840.10008.1.2.4.108",
    }
)
_LOSSY_METHODS = {
    "1.2.840.10008.1.2.4.50": "ISO_10918_1",
    "1.2.840.10008.1.2.4.51": "ISO_10918_1",
    "1.2.840.10008.1.2.4.81": "ISO_14495_1",
}


@dataclass(frozen=True)
class DecodedPixels:
    """Every frame, decoded, one after another: samples interleaved, little endian, Bits Allocated each."""

    data: bytes
    rows: int
    columns: int
    frames: int
    samples: int
    bits_allocated: int
    bits_stored: int
    signed: bool
    photometric: str

    def check(self) -> None:
        expected = self.rows * self.columns * self.frames * self.samples * (self.bits_allocated // 8)
        if self.bits_allocated not in (8, 16, 32) or len(self.data) != expected:
            raise UnsupportedPixelsError(
                f"decoded pixels hold {len(self.data)} bytes; {self.frames} frame(s) of {self.rows}x"
                f"{self.columns}x{self.samples} at {self.bits_allocated} bits need {expected}"
            )


def transfer_syntax(ds: Any) -> str:
    meta = getattr(ds, "file_meta", None)
    return str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""


def write_decoded(ds: Any, pixels: DecodedPixels) -> None:
    """Replace encapsulated Pixel Data with `pixels`, uncompressed (pure Python: runs in the browser)."""
    pixels.check()
    source = transfer_syntax(ds)
    for keyword in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"):
        if keyword in ds:
            del ds[keyword]
    data = pixels.data + (b"\0" if len(pixels.data) % 2 else b"")
    ds.Rows, ds.Columns = pixels.rows, pixels.columns
    ds.SamplesPerPixel = pixels.samples
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = (
        pixels.bits_allocated,
        pixels.bits_stored,
        pixels.bits_stored - 1,
    )
    ds.PixelRepresentation = 1 if pixels.signed else 0
    ds.PhotometricInterpretation = pixels.photometric
    if pixels.samples > 1:
        ds.PlanarConfiguration = 0
    elif "PlanarConfiguration" in ds:
        del ds.PlanarConfiguration
    if "NumberOfFrames" in ds or pixels.frames > 1:
        ds.NumberOfFrames = pixels.frames
    ds.PixelData = data
    ds["PixelData"].VR = "OB" if pixels.bits_allocated == 8 else "OW"
    ds["PixelData"].is_undefined_length = False
    if source in LOSSY:
        ds.LossyImageCompression = "01"
        if "LossyImageCompressionMethod" not in ds and source in _LOSSY_METHODS:
            ds.LossyImageCompressionMethod = _LOSSY_METHODS[source]
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian


def native_decode(ds: Any) -> DecodedPixels:
    """Decode with pydicom's decoders (native only: numpy and the codec plugins)."""
    try:
        from pydicom.pixels.decoders.base import get_decoder
    except ImportError as exc:  # pragma: no cover - pydicom 3 always has it
        raise UnsupportedPixelsError(f"no pixel decoder: {exc}") from None
    source = transfer_syntax(ds)
    try:
        decoder = get_decoder(source)
        # YBR (e.g. JPEG baseline) to RGB, as the page's codecs do. Bits outside Bits Stored are kept as
        # the codestream holds them (pydicom would mask or sign-extend them unseen; the page's codecs keep
        # them): the engine clears them itself and the plan says so (reencode.py, high_bits.py).
        options: Any = {"as_rgb": True, "correct_unused_bits": False}
        array, meta = decoder.as_array(ds, **options)
    except ImportError as exc:
        raise UnsupportedPixelsError(f"cannot decode {source} here: {exc}") from None
    except Exception as exc:
        raise UnsupportedPixelsError(
            f"cannot decode the pixel data ({source}): {type(exc).__name__}: {exc}"
        ) from None
    return DecodedPixels(
        data=array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes(),
        rows=int(meta["rows"]),
        columns=int(meta["columns"]),
        frames=int(meta["number_of_frames"]),
        samples=int(meta["samples_per_pixel"]),
        bits_allocated=int(meta["bits_allocated"]),
        bits_stored=int(meta["bits_stored"]),
        signed=int(meta["pixel_representation"]) == 1,
        photometric=str(meta["photometric_interpretation"]),
    )
