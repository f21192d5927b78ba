"""Drawing the burned-in test images: backgrounds like each modality's, strong edges, and text with its truth.

Everything is drawn in display space (floats 0..1, RGB, what a viewer shows); `burned_in.py` turns it into
each modality's stored values (CT's signed HU, CR's inverted MONOCHROME1, ultrasound's RGB). A truth box is
the tight box of the text's ink (every pixel the glyphs touch, antialiasing included), so a finder's box
covers it only when it reaches the whole string. Text is horizontal only: no rotated or vertical text (rare
in burned-in annotations; a known gap of the set).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
from burned_in_text import Font
from PIL import Image, ImageDraw

Array = np.ndarray
COLORS = {  # display RGB; a greyscale image shows the luminance
    "white": (1.0, 1.0, 1.0),
    "grey": (0.7, 0.7, 0.7),
    "yellow": (1.0, 1.0, 0.2),
    "green": (0.3, 0.95, 0.3),
}


@dataclass(frozen=True)
class TextBox:
    """One burned-in string on one frame: the tight box of its ink, what it says, what it is."""

    frame: int
    x: int
    y: int
    width: int
    height: int
    text: str
    is_phi: bool
    matches: str | None  # the header keyword it spells, or None
    tags: tuple[str, ...]


@dataclass
class Canvas:
    """The frames being drawn (frames, rows, cols, 3) and the boxes already taken (to avoid overlaps)."""

    frames: Array
    taken: list[tuple[int, int, int, int]] = field(default_factory=list)
    boxes: list[TextBox] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return int(self.frames.shape[1])

    @property
    def cols(self) -> int:
        return int(self.frames.shape[2])

    def free(self, x: int, y: int, w: int, h: int, margin: int = 3) -> bool:
        if x < 0 or y < 0 or x + w > self.cols or y + h > self.rows:
            return False
        return all(
            x + w + margin <= tx or tx + tw + margin <= x or y + h + margin <= ty or ty + th + margin <= y
            for tx, ty, tw, th in self.taken
        )


def smooth_noise(rng: np.random.Generator, rows: int, cols: int, cell: int) -> Array:
    """Low-frequency texture in 0..1: random cells upscaled bicubically (tissue, not pixel noise)."""
    small = rng.random((max(2, rows // cell), max(2, cols // cell))).astype(np.float32)
    img = Image.fromarray((small * 255).astype(np.uint8)).resize((cols, rows), Image.Resampling.BICUBIC)
    return np.asarray(img, dtype=np.float32) / 255.0


def ellipse_mask(rows: int, cols: int, cy: float, cx: float, ry: float, rx: float) -> Array:
    yy, xx = np.ogrid[:rows, :cols]
    return ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0


def background(kind: str, rows: int, cols: int, rng: np.random.Generator) -> Array:
    """One frame's grey display image (rows, cols) in 0..1 for a modality, anatomy-like, with noise."""
    img = np.zeros((rows, cols), np.float32)
    tex = smooth_noise(rng, rows, cols, 24)
    if kind in ("CT", "MR"):
        body = ellipse_mask(rows, cols, rows * 0.5, cols * 0.5, rows * 0.36, cols * 0.32)
        img[body] = 0.35 + 0.25 * tex[body]
        if kind == "CT":  # bone: bright rings with strong edges
            ring = ellipse_mask(rows, cols, rows * 0.5, cols * 0.5, rows * 0.3, cols * 0.26)
            inner = ellipse_mask(rows, cols, rows * 0.5, cols * 0.5, rows * 0.27, cols * 0.23)
            img[ring & ~inner] = 0.92
            img[rows - rows // 10 : rows - rows // 10 + 4, cols // 6 : cols - cols // 6] = 0.6  # table
    elif kind == "CR":
        img[:] = 0.25 + 0.15 * tex
        for side in (0.32, 0.68):  # lungs darker, ribs bright arcs
            lung = ellipse_mask(rows, cols, rows * 0.5, cols * side, rows * 0.33, cols * 0.14)
            img[lung] = 0.12 + 0.08 * tex[lung]
        yy, xx = np.ogrid[:rows, :cols]
        for k in range(8):
            arc = np.abs((yy - rows * (0.2 + 0.08 * k)) - 0.0008 * (xx - cols / 2) ** 2 / (cols / 640)) < 4
            img[arc & (img < 0.3)] = 0.55
        img[:, int(cols * 0.46) : int(cols * 0.54)] = 0.7  # spine
    elif kind == "XA":
        fov = ellipse_mask(rows, cols, rows / 2, cols / 2, rows * 0.47, rows * 0.47)
        img[fov] = 0.55 + 0.2 * tex[fov]
        pil = Image.fromarray((img * 255).astype(np.uint8))
        d = ImageDraw.Draw(pil)
        for _ in range(6):  # vessels: dark curves
            pts = [(int(rng.integers(cols // 4, 3 * cols // 4)), int(rng.integers(rows // 5, 4 * rows // 5)))]
            for _ in range(5):
                px, py = pts[-1]
                pts.append((px + int(rng.integers(-60, 60)), py + int(rng.integers(-60, 60))))
            d.line(pts, fill=40, width=int(rng.integers(2, 7)))
        img = np.asarray(pil, np.float32) / 255.0 * fov
    elif kind == "US":
        yy, xx = np.ogrid[:rows, :cols]
        apex_y, apex_x = rows * 0.08, cols / 2
        r = np.hypot(yy - apex_y, xx - apex_x)
        angle = np.arctan2(xx - apex_x, yy - apex_y)
        sector = (r > rows * 0.05) & (r < rows * 0.9) & (np.abs(angle) < 0.6)
        speckle = rng.rayleigh(0.25, (rows, cols)).astype(np.float32)
        img[sector] = np.clip(0.15 + 0.45 * tex[sector] * speckle[sector], 0, 1)
        return img  # speckle is its own noise
    return np.clip(img + rng.normal(0, 0.015, (rows, cols)).astype(np.float32), 0, 1)


def edges(canvas: Canvas, rng: random.Random, kinds: tuple[str, ...]) -> None:
    """Strong non-text edges, drawn on every frame: mosaic lines, calipers, rulers with ticks, bone ovals."""
    rows, cols = canvas.rows, canvas.cols
    layer = Image.new("L", (cols, rows), 0)
    d = ImageDraw.Draw(layer)
    if "grid" in kinds:  # a mosaic: tiles separated by bright lines
        n = rng.choice([2, 3, 4])
        for k in range(1, n):
            d.line([(k * cols // n, 0), (k * cols // n, rows)], fill=255, width=2)
            d.line([(0, k * rows // n), (cols, k * rows // n)], fill=255, width=2)
    if "calipers" in kinds:
        for _ in range(2):
            x0, y0 = rng.randrange(cols // 4, cols // 2), rng.randrange(rows // 4, 3 * rows // 4)
            x1, y1 = x0 + rng.randrange(40, cols // 3), y0 + rng.randrange(-60, 60)
            for x, y in ((x0, y0), (x1, y1)):
                d.line([(x - 6, y), (x + 6, y)], fill=255, width=1)
                d.line([(x, y - 6), (x, y + 6)], fill=255, width=1)
            for t in np.linspace(0, 1, 24)[1:-1:2]:
                px, py = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
                d.rectangle([px - 1, py - 1, px + 1, py + 1], fill=255)
    if "ruler" in kinds:
        x = cols - rng.randrange(12, 30)
        d.line([(x, rows // 8), (x, rows - rows // 8)], fill=220, width=1)
        for k, y in enumerate(range(rows // 8, rows - rows // 8, 10)):
            d.line([(x - (10 if k % 5 == 0 else 4), y), (x, y)], fill=220, width=1)
    if "bone" in kinds:
        for _ in range(rng.randint(2, 4)):
            cx, cy = rng.randrange(cols // 5, 4 * cols // 5), rng.randrange(rows // 5, 4 * rows // 5)
            rx, ry = rng.randrange(10, 50), rng.randrange(20, 90)
            d.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], outline=245, width=rng.randint(3, 8))
    a = np.asarray(layer, np.float32)[None, :, :, None] / 255.0
    canvas.frames[:] = np.maximum(canvas.frames, a)


def text_mask(text: str, font: Font) -> Array:
    """The string's ink as alpha 0..1, cropped to the ink (so the truth box is the mask's extent)."""
    left, top, right, bottom = font.getbbox(text)
    pad = 4
    img = Image.new("L", (int(right - left) + 2 * pad, int(bottom - top) + 2 * pad), 0)
    ImageDraw.Draw(img).text((pad - left, pad - top), text, fill=255, font=font)
    ink = img.getbbox()
    if ink is None:
        raise ValueError(f"the font draws nothing for {text!r}")
    return np.asarray(img.crop(ink), np.float32) / 255.0


@dataclass(frozen=True)
class Style:
    """How a block of text is drawn: colour name, backing box, low contrast, and its descriptive tags."""

    color: str
    backing: bool = False
    low_contrast: bool = False
    tags: tuple[str, ...] = ()


def size_tag(px: int) -> str:
    return (
        "size:8-11" if px <= 11 else "size:12-15" if px <= 15 else "size:16-20" if px <= 20 else "size:21-28"
    )


def draw_text(
    canvas: Canvas,
    frames: range,
    x: int,
    y: int,
    mask: Array,
    style: Style,
    *,
    text: str,
    is_phi: bool,
    matches: str | None,
    tags: tuple[str, ...],
) -> None:
    """Composite `mask` at (x, y) on `frames`, and record its truth box on each of them."""
    h, w = mask.shape
    a = mask[None, :, :, None]
    region = canvas.frames[frames.start : frames.stop, y : y + h, x : x + w]
    if style.backing:
        p = 3
        y0, x0 = max(0, y - p), max(0, x - p)
        canvas.frames[frames.start : frames.stop, y0 : y + h + p, x0 : x + w + p] = 0.04
    if style.low_contrast:  # a grey 0.12-0.2 above (or below) what is under it
        under = float(region.mean())
        delta = 0.16 if under < 0.75 else -0.16
        color = np.full(3, np.clip(under + delta, 0, 1), np.float32)
    else:
        color = np.asarray(COLORS[style.color], np.float32)
    region[:] = region * (1 - a) + color * a
    canvas.taken.append((x - 3, y - 3, w + 6, h + 6))
    extra = ("backing",) * style.backing + ("low_contrast",) * style.low_contrast + style.tags
    for f in frames:
        canvas.boxes.append(TextBox(f, x, y, w, h, text, is_phi, matches, tags + extra))


def place(
    canvas: Canvas, w: int, h: int, anchor: str, rng: random.Random, stack: int = 0
) -> tuple[int, int] | None:
    """A free spot for a w x h box at an anchor (corners, banner, edge, anywhere); `stack` lines down."""
    rows, cols = canvas.rows, canvas.cols
    for attempt in range(40):
        m = rng.randint(4, 14)
        if anchor == "edge":  # touching (1-2 px from) an image edge
            side = rng.choice("lrtb")
            m = rng.randint(1, 2)
            x = m if side == "l" else cols - w - m if side == "r" else rng.randrange(0, max(1, cols - w))
            y = m if side == "t" else rows - h - m if side == "b" else rng.randrange(0, max(1, rows - h))
        elif anchor in ("tl", "tr", "bl", "br"):
            x = m if anchor[1] == "l" else cols - w - m
            dy = stack + attempt * (h // 2 + 1)
            y = m + dy if anchor[0] == "t" else rows - h - m - dy
        else:  # anywhere (over the anatomy)
            x, y = rng.randrange(0, max(1, cols - w)), rng.randrange(0, max(1, rows - h))
        if canvas.free(x, y, w, h):
            return x, y
    return None
