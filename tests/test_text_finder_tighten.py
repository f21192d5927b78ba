"""tighten: a detected box fitted to its ink (redaction/text_finder/tighten.py), on drawn pixels."""

from __future__ import annotations

import numpy as np
import pytest

from redaction.text_finder.detect import Box
from redaction.text_finder.tighten import MARGIN, TOLERANCE, tighten


def _image(background: int = 30) -> np.ndarray:
    return np.full((100, 200, 3), background, dtype=np.uint8)


@pytest.mark.parametrize(("ink", "background"), [(255, 30), (0, 200), (30 + TOLERANCE + 1, 30)])
def test_a_loose_box_is_fitted_to_its_ink_plus_the_margin(ink: int, background: int) -> None:
    img = _image(background)
    img[40:52, 60:140] = ink  # the line's ink: rows 40-51, columns 60-139
    fitted = tighten(img, Box(52, 33, 96, 26, 0.9))
    assert (fitted.x, fitted.y) == (60 - MARGIN, 40 - MARGIN)
    assert (fitted.x + fitted.width, fitted.y + fitted.height) == (140 + MARGIN, 52 + MARGIN)
    assert fitted.score == 0.9


def test_colour_text_is_ink_in_any_channel() -> None:
    img = _image(100)
    img[40:52, 60:140] = (100, 100, 180)  # blue-ish on grey: only the blue channel differs
    fitted = tighten(img, Box(52, 33, 96, 26, 0.9))
    assert (fitted.y, fitted.height) == (40 - MARGIN, 12 + 2 * MARGIN)


def test_ink_within_the_rings_range_leaves_the_box_alone() -> None:
    """Text no brighter than the texture around it: nothing to fit, the box is kept (never cut)."""
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (100, 200, 3), dtype=np.uint8)
    img[40:52, 60:140] = 128
    box = Box(52, 33, 96, 26, 0.9)
    assert tighten(img, box) == box


def test_thin_ink_leaves_that_side_alone() -> None:
    """A 2 px speck in a 26 px high box is not the line: the rows are kept, the columns fitted."""
    img = _image()
    img[45:47, 60:140] = 255
    fitted = tighten(img, Box(52, 33, 96, 26, 0.9))
    assert (fitted.y, fitted.height) == (33, 26)
    assert (fitted.x, fitted.width) == (60 - MARGIN, 80 + 2 * MARGIN)


def test_never_inside_the_kernel() -> None:
    img = _image()
    img[44:48, 60:140] = 255  # only part of the line shows (the rest is lost in the texture)
    img[40:52, 60:140:7] = 255
    fitted = tighten(img, Box(52, 33, 96, 26, 0.9, kernel=(56, 38, 144, 54)))
    assert (fitted.x, fitted.y, fitted.x + fitted.width, fitted.y + fitted.height) == (56, 38, 144, 54)


@pytest.mark.parametrize("size", [(4, 20), (20, 4)])
def test_a_tiny_box_is_kept(size: tuple[int, int]) -> None:
    img = _image()
    img[10:12, 10:12] = 255
    box = Box(9, 9, size[1], size[0], 0.7)
    assert tighten(img, box) == box
