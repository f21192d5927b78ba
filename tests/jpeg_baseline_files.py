"""JPEG baseline DICOM files made with Pillow for the in-place redaction's tests and benchmark: an
ultrasound-like cine (dark background, a speckled fan, burned-in text that changes per frame), greyscale or
colour (4:4:4, 4:2:2, 4:2:0), with or without restart intervals or optimised Huffman tables. The default
speckle is one random value per pixel (dense: ~57 KB a 640x480 frame at quality 85); `grain` > 0 gives the
speckle of a real scanner (grains of that many pixels, smoothed, lower contrast, fading with depth: ~9 KB a
frame at quality 35, the density of the issue's real cine)."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGBaseline8Bit, generate_uid

SUBSAMPLING = {"444": 0, "422": 1, "420": 2}


@dataclass(frozen=True)
class Cine:
    frames: int = 1
    rows: int = 480
    columns: int = 640
    colour: str | None = "420"  # None: greyscale; else 444, 422 or 420
    restart_blocks: int = 0  # MCUs per restart interval (0: none)
    optimize: bool = False  # Huffman tables fitted to the image (most DC categories then missing)
    monochrome1: bool = False
    quality: int = 85
    seed: int = 0
    grain: int = 0  # 0: a random value per pixel (dense); N: speckle grains of N pixels (realistic)


def picture(spec: Cine, index: int) -> Image.Image:
    rng = np.random.default_rng(spec.seed * 1000 + index)
    y, x = np.mgrid[0 : spec.rows, 0 : spec.columns]
    cx, top = spec.columns / 2, spec.rows * 0.1
    angle = np.arctan2(x - cx, y - top + 1e-9)
    radius = np.hypot(x - cx, y - top)
    fan = (np.abs(angle) < 0.6) & (radius < spec.rows * 0.85)
    if spec.grain:
        tissue = _tissue(spec, rng, radius, index)
    else:
        depth = 0.6 + 0.4 * np.sin(radius / 9 + index)
        tissue = rng.gamma(2.0, 40.0, size=(spec.rows, spec.columns)) * depth
    grey = np.where(fan, np.clip(tissue, 0, 255), 0).astype(np.uint8)
    img = Image.fromarray(grey, "L")
    draw = ImageDraw.Draw(img)
    draw.text((8, 6), f"DOE^JANE 1234567 frame {index}", fill=255)
    draw.text((spec.columns - 120, spec.rows - 16), f"12:00:{index % 60:02d}", fill=230)
    if spec.colour is None:
        return img
    rgb = Image.merge("RGB", (img, img, img))
    ImageDraw.Draw(rgb).text((8, 22), "ACME HOSPITAL", fill=(255, 220, 0))
    ImageDraw.Draw(rgb).rectangle((spec.columns // 2, 40, spec.columns // 2 + 20, 60), fill=(0, 200, 255))
    return rgb


def _tissue(spec: Cine, rng: np.random.Generator, radius: np.ndarray, index: int) -> np.ndarray:
    """Speckle as a scanner shows it: correlated grains, smoothed, mid-grey, darker with depth."""
    g = spec.grain
    small = rng.gamma(2.0, 1.0, size=(spec.rows // g + 1, spec.columns // g + 1))
    blocky = np.kron(small, np.ones((g, g)))[: spec.rows, : spec.columns]
    img = Image.fromarray(np.clip(blocky * 40, 0, 255).astype(np.uint8), "L")
    speckle = np.asarray(img.filter(ImageFilter.GaussianBlur(g / 2)), dtype=np.float64)
    tissue = 60 + 0.5 * (speckle - 80) / 80 * 40 + 30 * np.sin(radius / 25 + index * 0.1)
    return tissue * np.clip(1.2 - radius / (spec.rows * 0.85), 0.3, 1.0)  # type: ignore[no-any-return]


def codestream(spec: Cine, index: int) -> bytes:
    img = picture(spec, index)
    buf = io.BytesIO()
    options: dict[str, object] = {"quality": spec.quality, "optimize": spec.optimize}
    if spec.colour is not None:
        options["subsampling"] = SUBSAMPLING[spec.colour]
    if spec.restart_blocks:
        options["restart_marker_blocks"] = spec.restart_blocks
    img.save(buf, format="JPEG", **options)
    data = buf.getvalue()
    # Pillow writes a JFIF APP0; keep it (the engine cuts it to its header later), it decides YCbCr.
    return data


def dataset(spec: Cine) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.3.1"  # US Multi-frame Image Storage
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID, ds.Modality = "DOE^JANE", "1234567", "US"
    ds.Rows, ds.Columns = spec.rows, spec.columns
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    if spec.colour is None:
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME1" if spec.monochrome1 else "MONOCHROME2"
    else:
        ds.SamplesPerPixel, ds.PlanarConfiguration = 3, 0
        ds.PhotometricInterpretation = "YBR_FULL" if spec.colour == "444" else "YBR_FULL_422"
    ds.NumberOfFrames = spec.frames
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionRatio = "12.5"
    ds.LossyImageCompressionMethod = "ISO_10918_1"
    ds.PixelData = encapsulate([codestream(spec, i) for i in range(spec.frames)], has_bot=True)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    return ds


def file_bytes(spec: Cine) -> bytes:
    buf = io.BytesIO()
    dataset(spec).save_as(buf, enforce_file_format=True)
    return buf.getvalue()
