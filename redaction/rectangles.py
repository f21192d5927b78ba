"""Fill rectangles of uncompressed pixel data in place, row by row (slice assignment: fast without numpy).

Everything outside the (clipped, and for YBR_FULL_422 widened) rectangles stays bit-identical.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import RegionsError
from .layout import Layout, fill_samples


@dataclass(frozen=True)
class Rect:
    """A rectangle in pixels of the image: x, y from the top-left corner."""

    x: int
    y: int
    width: int
    height: int

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise RegionsError(f"rectangle {self.width}x{self.height} at ({self.x},{self.y}) has no area")

    def clipped(self, columns: int, rows: int) -> Rect | None:
        x0, y0 = max(0, self.x), max(0, self.y)
        x1, y1 = min(columns, self.x + self.width), min(rows, self.y + self.height)
        if x0 >= x1 or y0 >= y1:
            return None
        return Rect(x0, y0, x1 - x0, y1 - y0)

    def widened_to_pairs(self) -> Rect:
        """YBR_FULL_422 stores two horizontal pixels with one Cb/Cr: cover whole pairs (even x edges)."""
        x0 = self.x - self.x % 2
        x1 = self.x + self.width + (self.x + self.width) % 2
        return Rect(x0, self.y, x1 - x0, self.height)


def effective(rect: Rect, layout: Layout) -> Rect | None:
    """The rectangle as it will be written: clipped to the image, widened to pixel pairs for 4:2:2."""
    clipped = rect.clipped(layout.columns, layout.rows)
    if clipped is not None and layout.subsampled:
        clipped = clipped.widened_to_pairs()
    return clipped


def fill_frame(data: bytearray, layout: Layout, frame: int, rect: Rect, fill: list[bytes]) -> None:
    """Fill one rectangle of one frame (0-based) with the fill samples."""
    r = effective(rect, layout)
    if r is None:
        return
    base = frame * layout.frame_bytes
    size = layout.sample_bytes
    if layout.subsampled:  # Y1 Y2 Cb Cr per pair of pixels
        y, cb, cr = fill
        pattern = (y + y + cb + cr) * (r.width // 2)
        start = r.x * 2 * size
        for row in range(r.y, r.y + r.height):
            offset = base + row * layout.row_bytes + start
            data[offset : offset + len(pattern)] = pattern
        return
    if layout.planar and layout.samples > 1:
        plane = layout.rows * layout.columns * size
        for s, sample in enumerate(fill):
            pattern = sample * r.width
            for row in range(r.y, r.y + r.height):
                offset = base + s * plane + (row * layout.columns + r.x) * size
                data[offset : offset + len(pattern)] = pattern
        return
    pixel = b"".join(fill)
    pattern = pixel * r.width
    for row in range(r.y, r.y + r.height):
        offset = base + row * layout.row_bytes + r.x * len(pixel)
        data[offset : offset + len(pattern)] = pattern


def fill_rectangles(
    data: bytearray, layout: Layout, edits: Iterable[tuple[Rect, Iterable[int] | None]], ds: object = None
) -> int:
    """Apply (rectangle, frames) edits; frames are 1-based, None for every frame. Returns rectangles filled.

    `ds` is needed only for PALETTE COLOR (the palette decides the fill value)."""
    layout.check(len(data))
    fill = fill_samples(layout, ds)
    count = 0
    for rect, frames in edits:
        numbers = range(1, layout.frames + 1) if frames is None else frames
        for number in numbers:
            if not 1 <= number <= layout.frames:
                raise RegionsError(f"frame {number} does not exist: the image has {layout.frames} frame(s)")
            fill_frame(data, layout, number - 1, rect, fill)
            count += 1
    return count
