"""Bilinear resizing, written out so the page can do exactly the same (OpenCV's INTER_LINEAR convention).

For an output of (out_h, out_w) from an input of (in_h, in_w), output pixel (oy, ox) samples the input at
    sy = (oy + 0.5) * in_h / out_h - 0.5,   sx = (ox + 0.5) * in_w / out_w - 0.5   (pixel centres aligned)
clamped to [0, in_h - 1] and [0, in_w - 1]; y0 = floor(sy), y1 = min(y0 + 1, in_h - 1), fy = sy - y0 (and
the same for x); the value is
    (1 - fy) * ((1 - fx) * I[y0, x0] + fx * I[y0, x1]) + fy * ((1 - fx) * I[y1, x0] + fx * I[y1, x1])
computed in float32 and kept as float32 (no rounding back to 8 bits: the models take floats).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _axis(out: int, size: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    s = (np.arange(out, dtype=np.float32) + np.float32(0.5)) * np.float32(size / out) - np.float32(0.5)
    s = np.clip(s, 0, size - 1)
    i0 = np.floor(s).astype(np.int64)
    i1 = np.minimum(i0 + 1, size - 1)
    return i0, i1, (s - i0).astype(np.float32)


def resize_bilinear(image: np.ndarray[Any, Any], out_h: int, out_w: int) -> np.ndarray[Any, Any]:
    """(h, w, c) any numeric type -> (out_h, out_w, c) float32."""
    img = image.astype(np.float32, copy=False)
    in_h, in_w = img.shape[:2]
    if (in_h, in_w) == (out_h, out_w):
        return img
    y0, y1, fy = _axis(out_h, in_h)
    x0, x1, fx = _axis(out_w, in_w)
    fx3 = fx[None, :, None]
    top = img[y0][:, x0] * (1 - fx3) + img[y0][:, x1] * fx3
    bottom = img[y1][:, x0] * (1 - fx3) + img[y1][:, x1] * fx3
    fy3 = fy[:, None, None]
    out: np.ndarray[Any, Any] = top * (1 - fy3) + bottom * fy3
    return out
