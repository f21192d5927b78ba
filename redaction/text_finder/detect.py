"""DB text detection (PaddleOCR PP-OCRv4 det): where text is, as axis-aligned boxes in image pixels.

Pre-processing (image: (H, W, 3) uint8 RGB from prepare.to_rgb8):
0. Pad: PAD black pixels on every side, H + 2 * PAD by W + 2 * PAD (below, H and W are the padded size).
   Why: text 1-2 px from the image's edge was the detector's commonest miss (the network sees no
   background beyond the edge, only its own zero padding); black is the background of most medical images.
   Measured on the burned-in set (bench/README.md "Burned-in text"): fewer misses at the edge and fewer
   false alarms, for 12% more pixels (640x480 -> 672x512).
1. Size: r = min(1, LIMIT_SIDE / max(H, W)) (large images are shrunk, small ones kept);
   h' = max(32, floor(H * r / 32 + 0.5) * 32), w' likewise: a multiple of 32, as the network needs.
2. Resize to (h', w') with resize.resize_bilinear (skipped when the size is unchanged).
3. Channels in B, G, R order (PaddleOCR reads images with OpenCV, BGR; the model was trained so), each
   x = (v / 255 - MEAN[c]) / STD[c], laid out as a (1, 3, h', w') float32 tensor.
Post-processing of the model's output (1, 1, h', w'), the probability that a pixel is text:
4. Binarise: text where p > BINARY_THRESHOLD.
5. Connected components of the text pixels, 8-connected (a pixel touches its 8 neighbours).
6. Each component's bounding box, in map pixels: x0 = its leftmost column, x1 = its rightmost column + 1
   (the box's right edge), y0, y1 likewise; w = x1 - x0, h = y1 - y0.
   Boxes are axis-aligned: regions are rectangles, and text burned into images is horizontal (PaddleOCR
   fits a rotated rectangle; for horizontal text it is this one).
7. Drop it if min(w, h) < MIN_SIZE.
8. Box score: the mean of p over the box (x0 <= x < x1, y0 <= y < y1); drop it if < BOX_THRESHOLD.
9. Unclip (the model is trained on shrunken text kernels): d = w * h * UNCLIP_RATIO / (2 * (w + h)),
   the box grows by d on every side (what PaddleOCR's polygon offset gives for a rectangle).
   Drop it if min(w, h) + 2d < MIN_SIZE + 2.
10. Back to image pixels: x * W / w' - PAD, y * H / h' - PAD; rounded outwards (floor of the left and top,
   ceil of the right and bottom) and clipped to the image: text at the border is covered, never cut.
   The component's own box (step 6, before unclip) is brought back the same way and kept as the box's
   `kernel`: the part the network is surest is text, which tighten.py never cuts into.
The thresholds are PaddleOCR's defaults except BOX_THRESHOLD, lowered (0.6 -> 0.5) to find more small and
low-contrast text: the false alarms that lets through are dropped after
recognition (filters.py: they read nothing, or read it badly), and the boxes are then fitted to the ink
(tighten.py). Chosen on half of the burned-in set, reported on the other half (bench/README.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .resize import resize_bilinear

PAD = 16  # black pixels around the image before detection (step 0)
LIMIT_SIDE = 960  # PaddleOCR det_limit_side_len, det_limit_type "max"
MEAN = (0.485, 0.456, 0.406)  # per channel, in B, G, R order (PaddleOCR NormalizeImage)
STD = (0.229, 0.224, 0.225)
BINARY_THRESHOLD = 0.3  # PaddleOCR det_db_thresh
BOX_THRESHOLD = 0.5  # PaddleOCR det_db_box_thresh is 0.6
UNCLIP_RATIO = 1.5  # PaddleOCR det_db_unclip_ratio
MIN_SIZE = 3  # PaddleOCR DBPostProcess min_size


@dataclass(frozen=True)
class Box:
    """A text box in image pixels: x, y of the top-left corner, width and height; the box score;
    the kernel (x0, y0, x1, y1, right and bottom exclusive), the network's text before unclip (step 10),
    inside the box (None when not known: a box made by hand)."""

    x: int
    y: int
    width: int
    height: int
    score: float
    kernel: tuple[int, int, int, int] | None = None


def input_size(height: int, width: int) -> tuple[int, int]:
    ratio = min(1.0, LIMIT_SIDE / max(height, width))
    return (
        max(32, math.floor(height * ratio / 32 + 0.5) * 32),
        max(32, math.floor(width * ratio / 32 + 0.5) * 32),
    )


def padded(image: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Step 0: PAD black pixels on every side."""
    return np.pad(image, ((PAD, PAD), (PAD, PAD), (0, 0)))


def detection_input(image: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Steps 1-3 (of an image already padded, step 0): the (1, 3, h', w') float32 tensor."""
    h, w = input_size(*image.shape[:2])
    resized = resize_bilinear(image, h, w)
    bgr = resized[:, :, ::-1] / np.float32(255)
    normal = (bgr - np.array(MEAN, dtype=np.float32)) / np.array(STD, dtype=np.float32)
    return np.ascontiguousarray(normal.transpose(2, 0, 1)[None], dtype=np.float32)


def _runs(bitmap: np.ndarray[Any, Any]) -> tuple[list[int], list[int], list[int]]:
    """Horizontal runs of text pixels: (row, start, end exclusive), row by row, left to right."""
    padded = np.zeros((bitmap.shape[0], bitmap.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = bitmap
    edges = np.diff(padded, axis=1)
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)
    return rows.tolist(), starts.tolist(), ends.tolist()


def components(bitmap: np.ndarray[Any, Any]) -> list[tuple[int, int, int, int]]:
    """Step 5-6: the bounding box (x0, y0, x1, y1), right and bottom exclusive, of each 8-connected
    component, in the order of their first pixel (top to bottom, left to right). Runs of consecutive rows
    touch when a.start <= b.end and b.start <= a.end (ends exclusive: diagonal neighbours touch)."""
    rows, starts, ends = _runs(bitmap)
    parent = list(range(len(rows)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    previous: list[int] = []  # run indices of the row above
    current: list[int] = []
    row = -2
    for i, r in enumerate(rows):
        if r != row:
            previous = current if r == row + 1 else []
            current, row = [], r
        for j in previous:
            if starts[i] <= ends[j] and starts[j] <= ends[i]:
                a, b = root(i), root(j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
        current.append(i)
    boxes: dict[int, list[int]] = {}
    for i in range(len(rows)):
        k = root(i)
        box = boxes.get(k)
        if box is None:
            boxes[k] = [starts[i], rows[i], ends[i], rows[i] + 1]
        else:
            box[0], box[2], box[3] = min(box[0], starts[i]), max(box[2], ends[i]), rows[i] + 1
    return [(b[0], b[1], b[2], b[3]) for _, b in sorted(boxes.items())]


def boxes_from_map(prob: np.ndarray[Any, Any], height: int, width: int, pad: int = 0) -> list[Box]:
    """Steps 4-10: boxes in the pixels of an image of `height` x `width` from the (h', w') map of that
    image padded by `pad` on every side."""
    map_h, map_w = prob.shape
    sx, sy = (width + 2 * pad) / map_w, (height + 2 * pad) / map_h
    found: list[Box] = []
    for x0, y0, x1, y1 in components(prob > BINARY_THRESHOLD):
        w, h = x1 - x0, y1 - y0
        if min(w, h) < MIN_SIZE:
            continue
        score = float(prob[y0:y1, x0:x1].mean())
        if score < BOX_THRESHOLD:
            continue
        d = w * h * UNCLIP_RATIO / (2 * (w + h))
        if min(w, h) + 2 * d < MIN_SIZE + 2:
            continue
        left = max(0, math.floor((x0 - d) * sx) - pad)
        top = max(0, math.floor((y0 - d) * sy) - pad)
        right = min(width, math.ceil((x1 + d) * sx) - pad)
        bottom = min(height, math.ceil((y1 + d) * sy) - pad)
        if right > left and bottom > top:
            kernel = (
                min(right, max(left, math.floor(x0 * sx) - pad)),
                min(bottom, max(top, math.floor(y0 * sy) - pad)),
                max(left, min(right, math.ceil(x1 * sx) - pad)),
                max(top, min(bottom, math.ceil(y1 * sy) - pad)),
            )
            found.append(Box(left, top, right - left, bottom - top, score, kernel))
    return found


def detect(session: Any, image: np.ndarray[Any, Any]) -> list[Box]:
    """Text boxes of one (H, W, 3) uint8 image, as the network gives them (not yet fitted to the ink:
    recognition reads these, tighten.py fits them afterwards)."""
    tensor = detection_input(padded(image))
    (prob,) = session.run(None, {session.get_inputs()[0].name: tensor})
    return boxes_from_map(np.asarray(prob)[0, 0], image.shape[0], image.shape[1], PAD)
