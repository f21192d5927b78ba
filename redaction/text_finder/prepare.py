"""A frame of any depth and photometric interpretation as 8-bit RGB, the detector's input.

Steps (port them in this order):
1. Grey data (one sample) of 8 bits, unsigned: used as stored.
   Grey data of more bits (12-16 bit CT, MR, CR, XA; signed or not): windowed to the frame's OWN range,
   v8 = floor((v - lo) * 255 / (hi - lo) + 0.5) with lo, hi the frame's minimum and maximum (a flat
   frame is all 0). Why not the header's window: burned-in text is written at (or next to) the top of the
   stored range, and the frame's maximum maps it to 255 whatever the anatomy; a soft-tissue window (CT
   W400/L40) would also show it white, but flattens everything brighter (bone, contrast, the text's own
   backing box) to the same white, and a narrow window can push grey text out of sight. Rescale Slope and
   Intercept are ignored: a linear map with positive slope does not change a min-max window.
2. MONOCHROME1 (CR, some DX: the smallest value shows white) is inverted after step 1: v8 = 255 - v8, so
   text shows as a viewer shows it.
3. Grey to RGB: the same value in the three channels.
   Colour data (RGB, already converted from YBR and palette colour by the caller): 8 bits used as stored;
   more bits windowed as in step 1 over all three channels together.
"""

from __future__ import annotations

from typing import Any

import numpy as np

GREY = frozenset({"MONOCHROME1", "MONOCHROME2"})


def _window(frame: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.uint8]]:
    values = frame.astype(np.float64)
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        return np.zeros(frame.shape, dtype=np.uint8)
    return np.floor((values - lo) * (255.0 / (hi - lo)) + 0.5).astype(np.uint8)


def to_rgb8(frame: np.ndarray[Any, Any], photometric: str) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """(rows, columns) grey or (rows, columns, 3) colour, any integer type -> (rows, columns, 3) uint8."""
    photometric = photometric.strip().upper()
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[:, :, 0]
    eight = frame.dtype == np.uint8
    if frame.ndim == 2:
        grey = frame if eight else _window(frame)
        if photometric == "MONOCHROME1":
            grey = 255 - grey
        return np.repeat(grey[:, :, None], 3, axis=2)
    if frame.ndim == 3 and frame.shape[2] == 3:
        return np.ascontiguousarray(frame if eight else _window(frame))
    raise ValueError(f"a frame must be (rows, columns) or (rows, columns, 3), not {frame.shape}")
