"""Plain Tesseract as a text finder: the baseline the issue asks for ("plain Tesseract, sparse text mode").

Debian's `tesseract-ocr` (build.py installs it for the bench), run once per frame as a subprocess:
`tesseract stdin stdout --psm 11 tsv` (page segmentation mode 11: "sparse text, find as much text as
possible in no particular order", the mode Presidio's image redactor and most burned-in tools use). The
frame goes in as an 8-bit PNG: greyscale stretched from its own minimum to maximum (no window, no
inversion of MONOCHROME1: plain), RGB as it is. Word boxes come from the TSV (level 5); the words of one
Tesseract line are joined into one box and one string, as a line finder would report them. Words with an
empty text are Tesseract's own non-results and are dropped; `min_confidence` drops low-confidence words
(0 keeps everything Tesseract calls a word).

One thread per process (OMP_THREAD_LIMIT=1): the bench machine's cores are shared, and the page's
tesseract.js would run single-threaded too.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

TESSERACT = "tesseract"


@dataclass(frozen=True)
class Word:
    frame: int
    x: int
    y: int
    width: int
    height: int
    text: str
    score: float  # Tesseract's confidence, 0..100
    line: tuple[int, int, int]  # block, paragraph, line


@dataclass(frozen=True)
class Found:
    """One line of text Tesseract read on a frame (the shape of redaction.text_finder's Found)."""

    frame: int
    x: int
    y: int
    width: int
    height: int
    text: str
    score: float


def available() -> bool:
    return shutil.which(TESSERACT) is not None


def version() -> str:
    if not available():
        return "not installed"
    out = subprocess.run([TESSERACT, "--version"], capture_output=True, text=True, check=False)
    return (out.stdout or out.stderr).splitlines()[0].strip()


def to_8bit(frame: np.ndarray) -> np.ndarray:
    """A frame as 8-bit: greyscale stretched min..max, RGB unchanged (already 8-bit in this set)."""
    if frame.ndim == 3:
        return np.asarray(frame, np.uint8)
    f = frame.astype(np.float32)
    low, high = float(f.min()), float(f.max())
    return np.round((f - low) * (255.0 / max(high - low, 1e-6))).astype(np.uint8)


def parse_tsv(text: str, frame: int) -> list[Word]:
    """Tesseract's TSV: the level-5 rows (words) with their text; empty words dropped."""
    words = []
    lines = text.splitlines()
    for row in lines[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5" or not cols[11].strip():
            continue
        block, par, line = int(cols[2]), int(cols[3]), int(cols[4])
        x, y, w, h = (int(c) for c in cols[6:10])
        words.append(Word(frame, x, y, w, h, cols[11].strip(), float(cols[10]), (block, par, line)))
    return words


def lines_of(words: Sequence[Word], min_confidence: float = 0.0) -> list[Found]:
    """Words grouped by Tesseract's line: one box (their union) and the words joined left to right."""
    groups: dict[tuple[int, tuple[int, int, int]], list[Word]] = {}
    for w in words:
        if w.score >= min_confidence:
            groups.setdefault((w.frame, w.line), []).append(w)
    found = []
    for (frame, _), ws in groups.items():
        ws.sort(key=lambda w: w.x)
        x0, y0 = min(w.x for w in ws), min(w.y for w in ws)
        x1, y1 = max(w.x + w.width for w in ws), max(w.y + w.height for w in ws)
        text = " ".join(w.text for w in ws)
        found.append(Found(frame, x0, y0, x1 - x0, y1 - y0, text, min(w.score for w in ws)))
    return found


def words_of(pixels: np.ndarray, psm: int = 11, timeout: float = 60) -> list[Word]:
    """Every frame of (frames, rows, cols[, 3]) through Tesseract; all the words it reports."""
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    words: list[Word] = []
    for index, frame in enumerate(pixels):
        png = io.BytesIO()
        Image.fromarray(to_8bit(frame)).save(png, format="PNG", compress_level=1)
        out = subprocess.run(
            [TESSERACT, "stdin", "stdout", "--psm", str(psm), "tsv"],
            input=png.getvalue(),
            capture_output=True,
            check=True,
            timeout=timeout,
            env=env,
        )
        words += parse_tsv(out.stdout.decode("utf-8", "replace"), index)
    return words


def find_text(pixels: np.ndarray, min_confidence: float = 0.0) -> list[Found]:
    return lines_of(words_of(pixels), min_confidence)
