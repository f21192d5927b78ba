"""Text recognition (PaddleOCR PP-OCRv4 rec, CTC): what a detected box reads.

Pre-processing of one box (image: (H, W, 3) uint8 RGB; box in image pixels):
1. Crop the box. When its height >= VERTICAL_RATIO * its width, turn it 90 degrees counter-clockwise
   (PaddleOCR's rule for vertical text: read top to bottom).
2. Target width: t = ceil(HEIGHT * w / h) of the crop (w, h), at least 1 and at most MAX_WIDTH; the model's
   input width is T = max(MIN_WIDTH, t).
3. Resize the crop to (HEIGHT, t) with resize.resize_bilinear; channels in B, G, R order;
   x = (v / 255 - 0.5) / 0.5; columns t..T-1 are 0 (PaddleOCR pads the right with zeros after normalising).
   Tensor (1, 3, HEIGHT, T) float32.
Decoding of the output (1, T / 8, classes) of per-column class probabilities (softmax), CTC greedy:
4. For each column, the class with the highest probability (the first such on a tie).
5. Drop a class equal to the previous column's class, then drop class 0 (the blank).
6. Text: the characters of the classes kept (models.read_characters); score: the mean of their highest
   probabilities (0 when nothing is kept).
Batches (read_boxes, the boxes of one frame): the tensors of equal width T are stacked, in the boxes' order,
up to BATCH at a time, and each batch is one run of the model (n, 3, HEIGHT, T). A box's input is its own
tensor unpadded (PaddleOCR's predict_rec pads a batch to its widest box instead, which makes what a box
reads depend on its neighbours: the model's SVTR neck mixes all columns); the model treats batch items
independently, so each reads what it reads alone (tests/test_text_finder_steps.py checks it on the
outputs, bit for bit) and the runs are fewer: most boxes are shorter than MIN_WIDTH, so one width.
What a box reads is thus a function of its crop alone: `known` (crop -> read, kept by the caller across the
frames of one image) reads a crop seen before without running the model again: the name and ID of a cine
loop are read once, its time stamp on every frame it changes.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .detect import Box
from .resize import resize_bilinear

HEIGHT = 48  # PaddleOCR rec_image_shape 3,48,320
MIN_WIDTH = 320
MAX_WIDTH = 3200  # a line longer than 66 times its height is read squeezed rather than at any cost
VERTICAL_RATIO = 1.5
BATCH = 6  # PaddleOCR rec_batch_num: more a run is no faster per box on 2 cores (measured: 6 -> 8 slower)


def recognition_input(image: np.ndarray[Any, Any], box: Box) -> np.ndarray[Any, Any]:
    """Steps 1-3: the (1, 3, HEIGHT, T) float32 tensor of one box."""
    crop = image[box.y : box.y + box.height, box.x : box.x + box.width]
    if crop.shape[0] >= VERTICAL_RATIO * crop.shape[1]:
        crop = np.rot90(crop)
    h, w = crop.shape[:2]
    t = min(MAX_WIDTH, max(1, math.ceil(HEIGHT * w / h)))
    resized = resize_bilinear(crop, HEIGHT, t)[:, :, ::-1]
    tensor = np.zeros((1, 3, HEIGHT, max(MIN_WIDTH, t)), dtype=np.float32)
    tensor[0, :, :, :t] = ((resized / np.float32(255) - np.float32(0.5)) / np.float32(0.5)).transpose(2, 0, 1)
    return tensor


def ctc_greedy(probs: np.ndarray[Any, Any], characters: Sequence[str]) -> tuple[str, float]:
    """Steps 4-6 on a (columns, classes) array."""
    best = probs.argmax(axis=1)
    top = probs.max(axis=1)
    keep = np.ones(len(best), dtype=bool)
    keep[1:] = best[1:] != best[:-1]
    keep &= best != 0
    kept = best[keep]
    text = "".join(characters[i] for i in kept.tolist())
    # The mean in float64 (the page sums in doubles): the same confidence on both sides of filters.keep_read.
    return text, float(top[keep].astype(np.float64).mean()) if kept.size else 0.0


def batches(widths: Sequence[int]) -> list[list[int]]:
    """The indices of the boxes run together: equal widths, in the boxes' order, BATCH at most; batches
    in order of width, then of their first box (the page's recognize.mjs makes the same ones)."""
    groups: dict[int, list[int]] = {}
    for i, width in enumerate(widths):
        groups.setdefault(width, []).append(i)
    return [
        group[start : start + BATCH]
        for _, group in sorted(groups.items())
        for start in range(0, len(group), BATCH)
    ]


def crop_key(image: np.ndarray[Any, Any], box: Box) -> bytes:
    """What a box's read depends on: its crop's samples and shape."""
    crop = np.ascontiguousarray(image[box.y : box.y + box.height, box.x : box.x + box.width])
    return hashlib.blake2b(crop.tobytes(), digest_size=16).digest() + f"{crop.shape}{crop.dtype}".encode()


def read_boxes(
    session: Any,
    characters: Sequence[str],
    image: np.ndarray[Any, Any],
    boxes: Sequence[Box],
    known: dict[bytes, tuple[str, float]] | None = None,
) -> list[tuple[str, float]]:
    """The text of each box and its score (0..1), in the order of `boxes`. `known`: crops read before
    (updated with this frame's)."""
    memo = {} if known is None else known
    keys = [crop_key(image, box) for box in boxes]
    todo: dict[bytes, int] = {}  # a crop not yet read -> the first box with it
    for i, key in enumerate(keys):
        if key not in memo:
            todo.setdefault(key, i)
    tensors = {i: recognition_input(image, boxes[i]) for i in todo.values()}
    name = session.get_inputs()[0].name
    order = list(tensors)
    for batch in batches([tensors[i].shape[3] for i in order]):
        (out,) = session.run(None, {name: np.concatenate([tensors[order[j]] for j in batch])})
        probs = np.asarray(out)
        for row, j in enumerate(batch):
            memo[keys[order[j]]] = ctc_greedy(probs[row], characters)
    return [memo[key] for key in keys]


def recognize(
    session: Any, characters: Sequence[str], image: np.ndarray[Any, Any], box: Box
) -> tuple[str, float]:
    """The text of one box and its score (0..1)."""
    return read_boxes(session, characters, image, [box])[0]
