"""A small JPEG lossless encoder (ITU-T T.81 process 14: predictive, Huffman coded, one interleaved scan) for
the codec tests: it makes frames with any predictor (selection value 1-7), precision and sample count, and
lets a test choose where the entropy-coded data ends. No pydicom plugin encodes JPEG lossless.

A frame whose last Huffman code ends exactly on a byte boundary (no padding bits before EOI) is the case
jpeg-lossless-decoder-js 2.1.2 got wrong: it dropped the frame's last sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGLossless, JPEGLosslessSV1, SecondaryCaptureImageStorage, generate_uid

# Code lengths of the 17 difference categories (SSSS 0..16), short for small differences; the Kraft sum
# stays below 1 so no code is all ones (T.81 C: the all-ones code is reserved).
_LENGTHS = [2, 3, 3, 3, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]


def _huffman_codes() -> tuple[list[int], dict[int, tuple[int, int]]]:
    """BITS (counts of codes per length 1..16) and category -> (code, length), canonical (T.81 Annex C)."""
    order = sorted(range(17), key=lambda c: (_LENGTHS[c], c))
    bits = [sum(1 for c in order if _LENGTHS[c] == n) for n in range(1, 17)]
    codes: dict[int, tuple[int, int]] = {}
    code, length = 0, _LENGTHS[order[0]]
    for category in order:
        code <<= _LENGTHS[category] - length
        length = _LENGTHS[category]
        codes[category] = (code, length)
        code += 1
    return bits, codes


_BITS, _CODES = _huffman_codes()
_ORDER = sorted(range(17), key=lambda c: (_LENGTHS[c], c))


def _predict(r: np.ndarray, y: int, x: int, predictor: int, precision: int) -> int:
    """T.81 H.1.2.1: the first sample 2^(P-1), the first row from the left, the first column from above."""
    if y == 0 and x == 0:
        return 1 << (precision - 1)
    if y == 0:
        return int(r[y, x - 1])
    if x == 0:
        return int(r[y - 1, x])
    a, b, c = int(r[y, x - 1]), int(r[y - 1, x]), int(r[y - 1, x - 1])
    return [a, b, c, a + b - c, a + ((b - c) >> 1), b + ((a - c) >> 1), (a + b) >> 1][predictor - 1]


def _category(diff: int) -> tuple[int, int, int]:
    """(SSSS, additional bits, how many) for a difference already reduced modulo 2^16 to -32767..32768."""
    if diff == 0:
        return 0, 0, 0
    if diff == 32768:
        return 16, 0, 0  # T.81 H.1.2.2: no additional bits
    ssss = abs(diff).bit_length()
    extra = diff if diff > 0 else diff - 1
    return ssss, extra & ((1 << ssss) - 1), ssss


@dataclass(frozen=True)
class Encoded:
    codestream: bytes
    entropy_bits: int  # before padding: a multiple of 8 means the last code ends on a byte boundary


def _symbols(pixels: np.ndarray, precision: int, predictor: int) -> list[tuple[int, int, int]]:
    """(SSSS, additional bits, how many) for each sample in scan order (interleaved)."""
    rows, columns, samples = pixels.shape
    out = []
    for y in range(rows):
        for x in range(columns):
            for s in range(samples):
                diff = (int(pixels[y, x, s]) - _predict(pixels[..., s], y, x, predictor, precision)) % 65536
                out.append(_category(diff - 65536 if diff > 32768 else diff))
    return out


def _planes(pixels: np.ndarray) -> np.ndarray:
    return pixels[..., None] if pixels.ndim == 2 else pixels


def entropy_bits(pixels: np.ndarray, precision: int, predictor: int = 1) -> int:
    """How many bits the entropy-coded data holds before padding."""
    return sum(_LENGTHS[ssss] + n for ssss, _, n in _symbols(_planes(pixels), precision, predictor))


def encode(pixels: np.ndarray, precision: int, predictor: int = 1) -> Encoded:
    """`pixels`: (rows, columns) or (rows, columns, samples) unsigned integers below 2^precision."""
    pixels = _planes(pixels)
    rows, columns, samples = pixels.shape
    bits: list[int] = []

    def put(value: int, n: int) -> None:
        bits.extend((value >> (n - 1 - i)) & 1 for i in range(n))

    for ssss, extra, n in _symbols(pixels, precision, predictor):
        put(*_CODES[ssss])
        put(extra, n)
    total = len(bits)
    bits.extend([1] * (-len(bits) % 8))  # T.81 F.1.2.3: pad with 1-bits
    data = bytearray()
    for i in range(0, len(bits), 8):
        byte = int("".join(map(str, bits[i : i + 8])), 2)
        data.append(byte)
        if byte == 0xFF:
            data.append(0)  # byte stuffing
    sof = bytes([precision]) + rows.to_bytes(2, "big") + columns.to_bytes(2, "big") + bytes([samples])
    sof += b"".join(bytes([s + 1, 0x11, 0]) for s in range(samples))
    dht = bytes([0x00]) + bytes(_BITS) + bytes(_ORDER)
    sos = bytes([samples]) + b"".join(bytes([s + 1, 0x00]) for s in range(samples)) + bytes([predictor, 0, 0])

    def segment(marker: int, body: bytes) -> bytes:
        return bytes([0xFF, marker]) + (len(body) + 2).to_bytes(2, "big") + body

    stream = b"\xff\xd8" + segment(0xC3, sof) + segment(0xC4, dht) + segment(0xDA, sos) + bytes(data)
    return Encoded(stream + b"\xff\xd9", total)


def ending_on_a_byte_boundary(pixels: np.ndarray, precision: int, predictor: int = 1) -> np.ndarray:
    """`pixels` with its last two samples set to small differences from their predictions, chosen so that
    the entropy-coded data ends on a byte boundary (two codes of 2-10 bits reach every residue mod 8)."""
    out = _planes(pixels.copy())
    rows, columns, samples = out.shape
    positions = [divmod(i, samples) for i in (rows * columns * samples - 2, rows * columns * samples - 1)]
    top = (1 << precision) - 1
    for d1 in range(-40, 41):
        for d2 in range(-40, 41):
            for (pixel, s), d in zip(positions, (d1, d2), strict=True):
                y, x = divmod(pixel, columns)
                out[y, x, s] = min(top, max(0, _predict(out[..., s], y, x, predictor, precision) + d))
            if entropy_bits(out, precision, predictor) % 8 == 0:
                return out.reshape(pixels.shape)
    raise AssertionError("no byte-aligned variant found")


def dicom(pixels: np.ndarray, precision: int, predictor: int = 1) -> Dataset:
    """A Secondary Capture holding `pixels` as one JPEG lossless frame (SV1 syntax for predictor 1)."""
    samples = 1 if pixels.ndim == 2 else pixels.shape[2]
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = JPEGLosslessSV1 if predictor == 1 else JPEGLossless
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.PatientName, ds.PatientID = "OT", "Lossless^Test", "LL1"
    ds.Rows, ds.Columns, ds.SamplesPerPixel = pixels.shape[0], pixels.shape[1], samples
    ds.PhotometricInterpretation = "RGB" if samples == 3 else "MONOCHROME2"
    if samples == 3:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = 8 if precision <= 8 else 16
    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = precision, precision - 1, 0
    ds.PixelData = encapsulate([encode(pixels, precision, predictor).codestream])
    ds["PixelData"].VR = "OB"
    return ds


def native(ds: Dataset) -> np.ndarray:
    """pydicom's own decode (pylibjpeg's libjpeg), the reference."""
    return np.asarray(pydicom.pixels.pixel_array(ds))
