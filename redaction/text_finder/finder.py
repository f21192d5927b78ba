"""find_text: every frame of an image, its text boxes and what they read.

Per frame, in this order (the page does the same, static/text_finder): detect (the network's boxes);
read each box (recognition is given the detector's box, with the margin it was trained on); drop the boxes
that read nothing or read badly (filters.keep_read: the false alarms); fit each box kept to its ink
(tighten.tighten: what is blacked out). Without recognition nothing is dropped; boxes are still fitted.

A cine loop is covered frame by frame: a time stamp changes on every frame, and a stamp that appears on
one frame only must be found, so no frame is skipped or sampled. Work is reused only where the pixels
are identical (the same bytes): frames (a still series saved as a loop, a frozen cine) are read once, and a
box whose crop was read on an earlier frame of the image is not read again (recognize.read_boxes: what a
box reads depends on its crop alone), so the name on every frame of a loop is read once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .detect import Box, detect
from .filters import keep_read
from .models import Weights, load_models
from .prepare import to_rgb8
from .recognize import read_boxes
from .tighten import tighten


@dataclass(frozen=True)
class Found:
    """A line or word of text in one frame. frame: 1-based (as in REGIONS.json); x, y, width, height in
    image pixels; text: what the recogniser reads ("" when it reads nothing); score: the detection's box
    score (0..1: how sure the detector is that this is text)."""

    frame: int
    x: int
    y: int
    width: int
    height: int
    text: str
    score: float


@dataclass(frozen=True)
class _Read:
    box: Box
    text: str


def _read_frame(
    frame: np.ndarray[Any, Any],
    photometric: str,
    known: dict[bytes, tuple[str, float]] | None,
    weights: Weights,
) -> list[_Read]:
    """`known`: the crops read in earlier frames (recognize.read_boxes), or None for boxes only."""
    models = load_models(weights)
    image = to_rgb8(frame, photometric)
    boxes = detect(models.detection, image)
    if known is None:
        return [_Read(tighten(image, box), "") for box in boxes]
    reads = read_boxes(models.recognition, models.characters, image, boxes, known)
    return [
        _Read(tighten(image, box), text.strip())
        for box, (text, confidence) in zip(boxes, reads, strict=True)
        if keep_read(text, confidence)
    ]


def find_text(
    frames: np.ndarray[Any, Any] | Iterable[np.ndarray[Any, Any]],
    *,
    photometric: str,
    recognise: bool = True,
    weights: Weights = Weights.SHIPPED,
) -> list[Found]:
    """The text in every frame. `frames`: (n, rows, columns[, 3]) or an iterable of (rows, columns[, 3])
    arrays, grey (MONOCHROME1/2, any integer depth) or RGB (the caller converts YBR and palette colour).
    `recognise=False` finds boxes only (faster; no text, so no header match). Raises ModelsMissingError
    when the models are not on this machine."""
    found: list[Found] = []
    seen: dict[bytes, list[_Read]] = {}
    known: dict[bytes, tuple[str, float]] | None = {} if recognise else None
    for number, frame in enumerate(frames, start=1):
        array = np.ascontiguousarray(frame)
        key = (
            hashlib.blake2b(array.tobytes(), digest_size=16).digest() + f"{array.shape}{array.dtype}".encode()
        )
        reads = seen.get(key)
        if reads is None:
            reads = seen[key] = _read_frame(array, photometric, known, weights)
        found.extend(
            Found(number, r.box.x, r.box.y, r.box.width, r.box.height, r.text, round(r.box.score, 4))
            for r in reads
        )
    return found
