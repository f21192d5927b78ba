"""Helpers for the embedded-text tests (test_codestream_text.py, test_encapsulated_text.py): the planted
text, reading pydicom's test files and their frames, planting COM segments, JPEGs made with Pillow.
"""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image
from pydicom.encaps import generate_frames

PLANTED = b"PATIENT Smith^John 19700101"
TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"


def _read(path: Path) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path)


def _nframes(ds: pydicom.Dataset) -> int:
    return int(ds.get("NumberOfFrames", 1) or 1)


def _frames(ds: pydicom.Dataset) -> list[bytes]:
    return list(generate_frames(ds.PixelData, number_of_frames=_nframes(ds)))


def _com(text: bytes = PLANTED, marker: bytes = b"\xff\xfe") -> bytes:
    return marker + struct.pack(">H", len(text) + 2) + text


def _plant_jpeg(frame: bytes) -> bytes:
    """COM after SOI and just before EOI (after the last scan: the walker must skip entropy data)."""
    eoi = frame.rindex(b"\xff\xd9")
    return frame[:2] + _com() + frame[2:eoi] + _com(b"2nd " + PLANTED) + frame[eoi:]


def _image(mode: str) -> Image.Image:
    y, x = np.mgrid[0:48, 0:64]
    rgb = np.stack([(x * 4) % 256, (y * 5) % 256, ((x ^ y) * 3) % 256], axis=-1).astype(np.uint8)
    img = Image.fromarray(rgb)
    return img.convert(mode)


def _jpeg(mode: str, **options: object) -> bytes:
    out = io.BytesIO()
    _image(mode).save(out, "JPEG", **{"quality": 85, **options})
    return out.getvalue()


GOOD_JPEG = _jpeg("L")
