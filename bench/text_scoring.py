"""Scoring a text finder's boxes against the burned-in set's truth (issue 14, "Benchmark").

Per image, per frame, in pixel coordinates (a box covers columns x .. x+width-1, rows y .. y+height-1; a
found box with fractional edges is widened to whole pixels, and clipped to the image):

- a truth box is **covered** when the union of the found boxes on its frame covers >= 95% of its area: a
  redaction that leaves 5% of a name's ink may still leave it legible, so "touched" is not enough;
- a **header-matching** truth box (text that spells Patient's Name, Patient ID...) is **marked** when it is
  covered and the found boxes over it say so: the finder's own `matches` when it gives them, otherwise the
  text it read, checked by `reads_as` (a reference check: did the finder read enough to recognise it);
- a **clean image is touched** when any box is found on any of its frames (it has no text at all);
- **over-redaction** is the found area outside every truth box over the frame's area, the mean over the
  image's frames, then over the images: what a person would have to un-redact or accept as lost;
- **ms per 640x480 frame** is the finder's wall time over the 640x480 images divided by their frames.

No thresholds are asserted: the figures are reported (bench/text_finder.py). The issue's goals are shown
beside them: >= 95% of PHI boxes covered, at most 1 clean image in 16 touched, mean over-redaction <= 1%.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

COVERED = 0.95
MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    )
}


@dataclass(frozen=True)
class Box:
    """A truth box or a found box: frame (0-based) and pixel rectangle, plus what it says."""

    frame: int
    x: float
    y: float
    width: float
    height: float
    text: str = ""
    is_phi: bool = False
    matches: str | None = None  # truth: the header keyword it spells
    tags: tuple[str, ...] = ()
    marked: frozenset[str] | None = None  # found: the keywords the finder says it matches (None: not given)

    def pixels(self, rows: int, cols: int) -> tuple[int, int, int, int] | None:
        """(x0, y0, x1, y1) in whole pixels (end exclusive), clipped to the image; None when empty."""
        x0, y0 = max(0, math.floor(self.x)), max(0, math.floor(self.y))
        x1, y1 = min(cols, math.ceil(self.x + self.width)), min(rows, math.ceil(self.y + self.height))
        return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def found_box(found: Any) -> Box:
    """A finder's result (any object with frame, x, y, width, height; text, matches optional) as a Box."""
    marked = getattr(found, "matches", None)
    if isinstance(marked, str):
        marked = frozenset([marked]) if marked else frozenset()
    elif marked is not None:
        marked = frozenset(str(m) for m in marked)
    return Box(
        int(found.frame),
        float(found.x),
        float(found.y),
        float(found.width),
        float(found.height),
        text=str(getattr(found, "text", "") or ""),
        marked=marked,
    )


def truth_box(entry: dict[str, Any]) -> Box:
    return Box(
        entry["frame"],
        entry["x"],
        entry["y"],
        entry["width"],
        entry["height"],
        entry["text"],
        entry["is_phi"],
        entry["matches"],
        tuple(entry.get("tags", ())),
    )


@dataclass(frozen=True)
class ImageRun:
    """One image: its truth, what the finder found on it, and how long the finder took."""

    name: str
    rows: int
    cols: int
    frames: int
    truth: tuple[Box, ...]
    found: tuple[Box, ...]
    seconds: float
    header: dict[str, str] = field(default_factory=dict)


def _tokens(text: str) -> list[str]:
    return re.findall(r"[A-Z0-9]+", text.upper())


def _dates(text: str) -> set[str]:
    """Every YYYYMMDD the text may spell (both day/month orders of 01/02/2020: the finder cannot know)."""
    t = text.upper()
    out = set(re.findall(r"(?<!\d)((?:19|20)\d{6})(?!\d)", t))
    out |= {y + m + d for y, m, d in re.findall(r"((?:19|20)\d\d)[-./ ](\d\d)[-./ ](\d\d)", t)}
    for a, b, y in re.findall(r"(\d\d)[-./ ](\d\d)[-./ ]((?:19|20)\d\d)", t):
        out |= {y + b + a, y + a + b}
    for d, mon, y in re.findall(r"(\d\d)[- ]([A-Z]{3})[- ]((?:19|20)\d\d)", t):
        if mon in MONTHS:
            out.add(f"{y}{MONTHS[mon]:02d}{d}")
    return out


def reads_as(text: str, keyword: str, header: dict[str, str]) -> bool:
    """Whether `text` (what a finder read) recognisably spells the header's `keyword` value."""
    value = header.get(keyword, "")
    if not value or not text:
        return False
    if keyword.endswith("Date"):
        return value in _dates(text)
    words = set(_tokens(text))
    if keyword == "PatientName":  # any part of the name (family or given), as the page's matcher would
        return any(part in words for part in _tokens(value.replace("^", " ")) if len(part) > 1)
    if keyword == "InstitutionName":
        wanted = [w for w in _tokens(value) if len(w) > 1]
        return bool(wanted) and all(w in words for w in wanted)
    return "".join(_tokens(value)) in "".join(_tokens(text))  # IDs, accession: the whole value


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def coverage(truth: Box, found: Iterable[Box], rows: int, cols: int) -> float:
    """The fraction of the truth box's pixels inside the union of the found boxes (same frame)."""
    t = truth.pixels(rows, cols)
    if t is None:
        return 1.0
    mask = np.zeros((t[3] - t[1], t[2] - t[0]), bool)
    for f in found:
        p = f.pixels(rows, cols) if f.frame == truth.frame else None
        if p is not None and _overlaps(p, t):
            mask[
                max(p[1], t[1]) - t[1] : min(p[3], t[3]) - t[1],
                max(p[0], t[0]) - t[0] : min(p[2], t[2]) - t[0],
            ] = True
    return float(mask.mean())


def over_redaction(run: ImageRun) -> float:
    """Found area outside every truth box over the frame's area, mean over the image's frames."""
    total = 0.0
    for frame in range(run.frames):
        found = np.zeros((run.rows, run.cols), bool)
        for f in run.found:
            p = f.pixels(run.rows, run.cols) if f.frame == frame else None
            if p is not None:
                found[p[1] : p[3], p[0] : p[2]] = True
        for t in run.truth:
            p = t.pixels(run.rows, run.cols) if t.frame == frame else None
            if p is not None:
                found[p[1] : p[3], p[0] : p[2]] = False
        total += float(found.mean())
    return total / max(1, run.frames)


def _marked(truth: Box, found: Sequence[Box], run: ImageRun) -> bool:
    t = truth.pixels(run.rows, run.cols)
    over = [
        f
        for f in found
        if f.frame == truth.frame and (p := f.pixels(run.rows, run.cols)) and t and _overlaps(p, t)
    ]
    if not over or truth.matches is None:
        return False
    if any(f.marked is not None for f in over):
        return any(f.marked is not None and truth.matches in f.marked for f in over)
    text = " ".join(f.text for f in sorted(over, key=lambda f: (f.y, f.x)))
    return reads_as(text, truth.matches, run.header)


@dataclass(frozen=True)
class Ratio:
    hit: int
    total: int

    @property
    def value(self) -> float | None:
        return self.hit / self.total if self.total else None

    def __str__(self) -> str:
        return f"{self.hit}/{self.total} ({100 * self.hit / self.total:.1f}%)" if self.total else "-"


@dataclass(frozen=True)
class Score:
    text_boxes: Ratio  # covered / all truth boxes
    phi_boxes: Ratio  # covered / PHI truth boxes
    header_found: Ratio  # covered / header-matching truth boxes
    header_marked: Ratio  # covered and marked as matching / header-matching truth boxes
    clean_touched: Ratio  # touched / clean images
    over_redaction: float  # mean fraction of the image
    found_on_no_text: Ratio  # found boxes touching no truth box / all found boxes
    ms_per_640x480_frame: float | None
    phi_by_tag: dict[str, Ratio]  # PHI boxes covered, per tag (size, colour, kind, backing, low contrast...)

    def as_dict(self) -> dict[str, Any]:
        def r(x: Ratio) -> dict[str, Any]:
            return {"hit": x.hit, "total": x.total, "fraction": x.value}

        return {
            "text_boxes_covered": r(self.text_boxes),
            "phi_boxes_covered": r(self.phi_boxes),
            "header_boxes_found": r(self.header_found),
            "header_boxes_marked": r(self.header_marked),
            "clean_images_touched": r(self.clean_touched),
            "over_redaction_mean": self.over_redaction,
            "found_boxes_on_no_text": r(self.found_on_no_text),
            "ms_per_640x480_frame": self.ms_per_640x480_frame,
            "phi_by_tag": {k: r(v) for k, v in sorted(self.phi_by_tag.items())},
        }


def score(runs: Sequence[ImageRun]) -> Score:
    covered = phi = header_found = header_marked = 0
    n_truth = n_phi = n_header = n_clean = touched = n_found = stray = 0
    by_tag: dict[str, list[int]] = {}
    over: list[float] = []
    ms_seconds, ms_frames = 0.0, 0
    for run in runs:
        over.append(over_redaction(run))
        if (run.rows, run.cols) == (480, 640):
            ms_seconds, ms_frames = ms_seconds + run.seconds, ms_frames + run.frames
        if not run.truth:
            n_clean += 1
            touched += bool(run.found)
        for t in run.truth:
            ok = coverage(t, run.found, run.rows, run.cols) >= COVERED
            n_truth, covered = n_truth + 1, covered + ok
            if t.is_phi:
                n_phi, phi = n_phi + 1, phi + ok
                for tag in t.tags:
                    by_tag.setdefault(tag, [0, 0])
                    by_tag[tag][0] += ok
                    by_tag[tag][1] += 1
            if t.matches is not None:
                n_header, header_found = n_header + 1, header_found + ok
                header_marked += ok and _marked(t, run.found, run)
        for f in run.found:
            p = f.pixels(run.rows, run.cols)
            n_found += 1
            stray += not any(
                t.frame == f.frame and p and (q := t.pixels(run.rows, run.cols)) and _overlaps(p, q)
                for t in run.truth
            )
    return Score(
        text_boxes=Ratio(covered, n_truth),
        phi_boxes=Ratio(phi, n_phi),
        header_found=Ratio(header_found, n_header),
        header_marked=Ratio(header_marked, n_header),
        clean_touched=Ratio(touched, n_clean),
        over_redaction=sum(over) / len(over) if over else 0.0,
        found_on_no_text=Ratio(stray, n_found),
        ms_per_640x480_frame=1000 * ms_seconds / ms_frames if ms_frames else None,
        phi_by_tag={k: Ratio(*v) for k, v in by_tag.items()},
    )
