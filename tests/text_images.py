"""Images with text burned in by Pillow, as DICOM files, for the text finder's tests.

Labels are drawn by Pillow into a mask, which the tests burn into a synthetic picture at the value they
choose; each label's own ink is kept, so a test can say how much of it the finder's boxes cover.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

HEADER = {
    "PatientName": "DOE^JOHN",
    "PatientID": "12345678",
    "AccessionNumber": "ACC998877",
    "StudyDate": "20240311",
    "InstitutionName": "SAINT ELSEWHERE HOSPITAL",
}


@dataclass(frozen=True)
class Label:
    text: str
    x: int
    y: int
    size: int = 16


LABELS_CT: list[Label] = []  # filled below (Label is defined first)


@dataclass(frozen=True)
class Drawn:
    text: str
    ink: np.ndarray[Any, Any]  # True where this label's pixels are


def covered(ink: np.ndarray[Any, Any], boxes: list[tuple[int, int, int, int]]) -> float:
    """The fraction of the ink inside the union of boxes (x, y, width, height)."""
    inside = np.zeros(ink.shape, dtype=bool)
    for x, y, w, h in boxes:
        inside[max(0, y) : y + h, max(0, x) : x + w] = True
    return float((ink & inside).sum() / ink.sum())


def draw(shape: tuple[int, int], labels: list[Label]) -> tuple[np.ndarray[Any, Any], list[Drawn]]:
    """A mask (True where text is) and where each label's ink is."""
    mask = np.zeros(shape, dtype=bool)
    drawn = []
    for label in labels:
        canvas = Image.new("L", (shape[1], shape[0]), 0)
        ImageDraw.Draw(canvas).text(
            (label.x, label.y), label.text, fill=255, font=ImageFont.load_default(size=label.size)
        )
        ink = np.asarray(canvas) > 127
        drawn.append(Drawn(label.text, ink))
        mask |= ink
    return mask, drawn


def ct_picture(rows: int = 480, columns: int = 640) -> np.ndarray[Any, Any]:
    """A 12-bit CT-like slice, stored unsigned (0 = -1024 HU): air, a body, soft tissue, bone."""
    yy, xx = np.mgrid[:rows, :columns]
    img = np.zeros((rows, columns), dtype=np.uint16)
    img[((yy - rows / 2) / 0.42 / rows) ** 2 + ((xx - columns / 2) / 0.4 / columns) ** 2 < 1] = 1064
    img[(yy - rows / 2) ** 2 + (xx - columns / 2 + 60) ** 2 < 45**2] = 1110
    img[(yy - rows / 2 - 90) ** 2 + (xx - columns / 2) ** 2 < 25**2] = 2400  # vertebra
    rng = np.random.default_rng(7)
    return (img + rng.integers(0, 20, img.shape)).astype(np.uint16)


def us_picture(rows: int = 480, columns: int = 640) -> np.ndarray[Any, Any]:
    """An 8-bit RGB ultrasound-like frame: a speckled fan on black."""
    yy, xx = np.mgrid[:rows, :columns]
    angle = np.arctan2(xx - columns / 2, yy + 40)
    radius = np.hypot(xx - columns / 2, yy + 40)
    fan = (np.abs(angle) < 0.6) & (radius > 80) & (radius < rows - 20)
    rng = np.random.default_rng(3)
    grey = np.where(fan, rng.integers(20, 140, (rows, columns)), 0).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)


def edges_picture(rows: int = 480, columns: int = 640) -> np.ndarray[Any, Any]:
    """No text, strong edges: a mosaic of bright tiles, bone-like rings and thin caliper lines."""
    yy, xx = np.mgrid[:rows, :columns]
    img = np.where(((yy // 60) + (xx // 80)) % 2 == 0, 300, 1500).astype(np.uint16)
    ring = np.abs(np.hypot(yy - rows / 2, xx - columns / 2) - 150) < 6
    img[ring] = 4000
    img[rows // 2, 100:540] = 4095
    img[100:380, columns // 2] = 4095
    return img


def dicom_file(
    pixels: np.ndarray[Any, Any],
    *,
    photometric: str,
    modality: str = "CT",
    bits_stored: int | None = None,
    header: dict[str, str] | None = None,
) -> bytes:
    """An uncompressed DICOM file of `pixels`: (rows, columns[, 3]) or (frames, rows, columns[, 3])."""
    colour = photometric == "RGB"
    frames = pixels.shape[0] if pixels.ndim == (4 if colour else 3) else 1
    rows, columns = pixels.shape[-3:-1] if colour else pixels.shape[-2:]
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"  # Secondary Capture
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = modality
    for keyword, value in (header or HEADER).items():
        setattr(ds, keyword, value)
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = 3 if colour else 1
    ds.PhotometricInterpretation = photometric
    if colour:
        ds.PlanarConfiguration = 0
    bits = 8 if pixels.dtype == np.uint8 else 16
    ds.BitsAllocated = bits
    ds.BitsStored = bits_stored or bits
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 0
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.PixelData = np.ascontiguousarray(pixels).astype(pixels.dtype.newbyteorder("<")).tobytes()
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


LABELS_CT.extend(
    [
        Label("DOE, JOHN", 12, 10, 18),
        Label("ID 12345678", 12, 34, 14),
        Label("11.03.2024 14:22", 430, 450, 16),
    ]
)


def series_file(path: Path, data: bytes, study: str, number: int, description: str, **values: Any) -> Path:
    """`data` (a DICOM file) written to `path` as instance 1 of series `number` of `study`, with `values`
    set (a SOP Class UID given there goes into the file meta too)."""
    ds = pydicom.dcmread(io.BytesIO(data))
    ds.StudyInstanceUID = study
    ds.SeriesNumber = number
    ds.SeriesDescription = description
    ds.InstanceNumber = 1
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.save_as(path, enforce_file_format=True)
    return path
