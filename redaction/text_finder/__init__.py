"""Burned-in text found in pixels, natively (issue 14): PaddleOCR PP-OCRv4 detection and recognition run
by onnxruntime. NATIVE ONLY: numpy and onnxruntime; nothing here may be imported by the Pyodide code paths
(the browser wheel leaves this package out, tools/dist_wheels.py). Import it lazily.

    from redaction.text_finder import find_text
    found = find_text(frames, photometric="MONOCHROME2")   # frames: (n, rows, columns[, 3]) array

Steps, each in its own module with its constants written down so the page can port them exactly
(the parity goal: the same boxes within 2 px):
- `prepare`: a frame of any bit depth and photometric interpretation to 8-bit RGB (windowing).
- `detect`: DB text detection: resize to a multiple of 32, normalise, the model's probability map,
  binarise, connected components, box score, unclip, minimum size, back to image pixels.
- `recognize`: each box cropped, resized to height 48, the model's per-column class probabilities,
  CTC greedy decoding with the keys file.
- `models`: where the model files are (fetched at build time by tools/fetch_models.py, sha256-pinned).
- `finder`: every frame of an image; identical frames (same bytes) are read once.
- `dicom`: the frames of a pydicom data set as arrays.
"""

from __future__ import annotations

from .finder import Found, find_text
from .models import ModelsMissingError, models_dir

__all__ = ["Found", "ModelsMissingError", "find_text", "models_dir"]
