"""Text finders on the burned-in set, scored the same way in the same run (issue 14, "Benchmark").

    .venv/bin/python bench/text_finder.py --small          # ~40 images (generated when missing)
    .venv/bin/python bench/text_finder.py                  # ~200 images
    .venv/bin/python bench/text_finder.py --finders tesseract,whole,none --limit 10
    .venv/bin/python bench/text_finder.py --halves         # also each half's rows (see HALVES)

Finders: `ours` (redaction.text_finder.find_text, when importable), `tesseract` (plain Tesseract, sparse
text mode: two rows from one run, every word and words of confidence >= 60), `whole` (one box over every
frame: covers everything, touches every clean image) and `none` (finds nothing): the last two check the
harness itself. Each finder gets every frame of an image as one array (frames, rows, cols) or
(frames, rows, cols, 3), the stored values as pydicom decodes them (CT signed, CR MONOCHROME1 as stored);
`photometric=` is passed to a finder that takes it. Its wall time covers its own conversions, not the
reading of the file. Prints a table and writes bench/out/text_finder.json; no figure is asserted.
"""

from __future__ import annotations

import argparse
import inspect
import json
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import burned_in
import numpy as np
import pydicom
import tesseract_finder
from text_scoring import ImageRun, Score, found_box, score, truth_box

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out" / "text_finder.json"
# redaction.text_finder's Found numbers frames from 1, as REGIONS.json does (the scoring counts from 0).
# A finder whose numbering differs shows up as "frame out of range" errors (run_set checks every box).
OURS_FRAME_BASE = 1
# Our finder's thresholds were chosen on one half of the set and are reported on the other too: files in
# blocks of six by index (the set writes a clean image every sixth file), even blocks "tune", odd "report".
HALVES = ("tune", "report")
GOALS = "goals (issue 14): PHI boxes >= 95% covered; clean touched <= 1 in 16; over-redaction <= 1%"

# A finder: (pixels, photometric) -> {row name: boxes}. One call may feed several rows (same time).
Finder = Callable[[np.ndarray, str], dict[str, Sequence[Any]]]


@dataclass(frozen=True)
class WholeFrame:
    frame: int
    x: int
    y: int
    width: int
    height: int
    text: str = ""
    score: float = 1.0


def whole(pixels: np.ndarray, photometric: str) -> dict[str, Sequence[Any]]:
    rows, cols = pixels.shape[1], pixels.shape[2]
    return {"whole image": [WholeFrame(f, 0, 0, cols, rows) for f in range(pixels.shape[0])]}


def nothing(pixels: np.ndarray, photometric: str) -> dict[str, Sequence[Any]]:
    return {"nothing": []}


def tesseract(pixels: np.ndarray, photometric: str) -> dict[str, Sequence[Any]]:
    words = tesseract_finder.words_of(pixels)
    return {
        "tesseract --psm 11": tesseract_finder.lines_of(words),
        "tesseract --psm 11, conf >= 60": tesseract_finder.lines_of(words, 60),
    }


def ours() -> Finder | str:
    """redaction.text_finder.find_text as a finder, or why it cannot run."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    try:
        from redaction.text_finder import find_text  # type: ignore[import-not-found, unused-ignore]
    except ImportError as e:
        return f"not importable ({e})"
    takes_photometric = "photometric" in inspect.signature(find_text).parameters

    def run(pixels: np.ndarray, photometric: str, **weights: Any) -> dict[str, Sequence[Any]]:
        kw = {"photometric": photometric} if takes_photometric else {}
        found = [
            replace(f, frame=f.frame - OURS_FRAME_BASE) if OURS_FRAME_BASE else f
            for f in find_text(pixels, **kw, **weights)
        ]
        return found

    def shipped(pixels: np.ndarray, photometric: str) -> dict[str, Sequence[Any]]:
        return {"ours (redaction.text_finder)": run(pixels, photometric)}

    return shipped


def ours_fp32() -> Finder | str:
    """Ours with the registry's float32 models instead of the shipped float16-weight ones (brief N)."""
    try:
        from redaction.text_finder import find_text  # type: ignore[import-not-found, unused-ignore]
        from redaction.text_finder.models import Weights  # type: ignore[import-not-found, unused-ignore]
    except ImportError as e:
        return f"not importable ({e})"

    def run(pixels: np.ndarray, photometric: str) -> dict[str, Sequence[Any]]:
        found = [
            replace(f, frame=f.frame - OURS_FRAME_BASE)
            for f in find_text(pixels, photometric=photometric, weights=Weights.REGISTRY)
        ]
        return {"ours, float32 registry models": found}

    return run


def finders(names: Sequence[str]) -> tuple[dict[str, Finder], dict[str, str]]:
    chosen: dict[str, Finder] = {}
    skipped: dict[str, str] = {}
    for name in names:
        if name in ("ours", "ours-fp32"):
            f = ours() if name == "ours" else ours_fp32()
            if isinstance(f, str):
                skipped[name] = f
            else:
                chosen[name] = f
        elif name == "tesseract":
            if tesseract_finder.available():
                chosen[name] = tesseract
            else:
                skipped[name] = (
                    "tesseract not installed (Debian tesseract-ocr; python3 build.py bench installs it)"
                )
        elif name in ("whole", "none"):
            chosen[name] = whole if name == "whole" else nothing
        else:
            raise SystemExit(f"unknown finder {name!r} (ours, ours-fp32, tesseract, whole, none)")
    return chosen, skipped


def load(dcm: Path) -> tuple[np.ndarray, str]:
    ds = pydicom.dcmread(dcm)
    pixels = ds.pixel_array
    if int(ds.get("NumberOfFrames", 1) or 1) == 1:
        pixels = pixels[None]
    return pixels, str(ds.PhotometricInterpretation)


@dataclass
class Row:
    runs: list[ImageRun]
    errors: list[str]


def run_set(folder: Path, chosen: dict[str, Finder], limit: int | None = None) -> dict[str, Row]:
    """Every finder over every image of the set folder; the image runs per row."""
    rows: dict[str, Row] = {}
    truths = sorted((folder / "truth").glob("*.json"))[:limit]
    for path in truths:
        t = json.loads(path.read_text())
        pixels, photometric = load(folder / "images" / t["file"])
        for name, finder in chosen.items():
            started = time.perf_counter()
            try:
                results = finder(pixels, photometric)
                error = None
            except Exception as e:  # a finder that fails on an image is reported, not fatal to the run
                results, error = {}, f"{t['file']}: {type(e).__name__}: {e}"
            seconds = time.perf_counter() - started
            for row, found in results.items():
                bad = [f.frame for f in found if not 0 <= f.frame < t["frames"]]
                if bad and not error:
                    error = f"{t['file']}: {row}: frame out of range {bad[:3]} ({t['frames']} frames, from 0)"
            if error:
                rows.setdefault(name, Row([], [])).errors.append(error)
            for row, found in results.items():
                rows.setdefault(row, Row([], [])).runs.append(
                    ImageRun(
                        t["file"],
                        t["rows"],
                        t["columns"],
                        t["frames"],
                        tuple(truth_box(b) for b in t["boxes"]),
                        tuple(found_box(f) for f in found),
                        seconds,
                        t["header"],
                    )
                )
    return rows


def by_half(rows: dict[str, Row], folder: Path) -> dict[str, Row]:
    """Each row split in two, "NAME [tune half]" and "NAME [report half]" (HALVES: by the file's index)."""
    files = [json.loads(p.read_text())["file"] for p in sorted((folder / "truth").glob("*.json"))]
    half = {f: HALVES[(i // 6) % 2] for i, f in enumerate(files)}
    return {
        f"{name} [{h} half]": Row([r for r in row.runs if half[r.name] == h], [])
        for name, row in rows.items()
        for h in HALVES
    }


def table(scores: dict[str, Score], errors: dict[str, list[str]]) -> str:
    head = ["finder", "text boxes", "PHI boxes", "header found", "header marked", "clean touched"]
    head += ["over-redact", "found on no text", "ms/640x480 frame", "errors"]
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    for name, s in scores.items():
        ms = f"{s.ms_per_640x480_frame:.0f}" if s.ms_per_640x480_frame is not None else "-"
        cells = [name, str(s.text_boxes), str(s.phi_boxes), str(s.header_found), str(s.header_marked)]
        cells += [str(s.clean_touched), f"{100 * s.over_redaction:.2f}%", str(s.found_on_no_text), ms]
        cells.append(str(len(errors.get(name, []))))
        lines.append(" | ".join(cells))
    return "\n".join(f"| {line} |" for line in lines)


def tag_table(scores: dict[str, Score]) -> str:
    """PHI boxes covered per tag (size, colour, kind, backing, low contrast, edge, cine...), per finder."""
    tags = sorted({t for s in scores.values() for t in s.phi_by_tag if not t.startswith(("font:", "at:"))})
    names = list(scores)
    lines = ["| PHI boxes covered, by tag | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for tag in tags:
        cells = [
            f"{100 * r.value:.0f}% of {r.total}"
            if (r := scores[n].phi_by_tag.get(tag)) and r.value is not None
            else "-"
            for n in names
        ]
        lines.append(f"| {tag} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def box_shift(a: Row, b: Row) -> dict[str, int]:
    """How far row b's boxes are from row a's on the same images (ours with float16 vs float32 weights):
    boxes in each, then every box of either row by the distance to its nearest counterpart in the other
    (same frame; the largest of the four edges' distances, in pixels): 0, 1, 2, more (or none)."""

    def edges(box: Any) -> tuple[float, float, float, float]:
        return (box.x, box.y, box.x + box.width, box.y + box.height)

    def nearest(box: Any, others: Sequence[Any]) -> float:
        same = [o for o in others if o.frame == box.frame]
        if not same:
            return float("inf")
        return min(max(abs(p - q) for p, q in zip(edges(box), edges(o), strict=True)) for o in same)

    apart = [
        d
        for ra, rb in zip(a.runs, b.runs, strict=True)
        for x, y in ((ra.found, rb.found), (rb.found, ra.found))
        for d in (nearest(box, y) for box in x)
    ]
    return {
        "boxes_a": sum(len(r.found) for r in a.runs),
        "boxes_b": sum(len(r.found) for r in b.runs),
        "0px": sum(1 for d in apart if d == 0),
        "1px": sum(1 for d in apart if 0 < d <= 1),
        "2px": sum(1 for d in apart if 1 < d <= 2),
        "more": sum(1 for d in apart if d > 2),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--small", action="store_true", help="the ~40-image set")
    p.add_argument("--set", type=Path, help="a set folder made by burned_in.py (default: generated)")
    p.add_argument(
        "--finders", default="ours,tesseract", help="ours, ours-fp32, tesseract, whole, none (comma list)"
    )
    p.add_argument("--limit", type=int, help="only the first N images")
    p.add_argument("--seed", type=int, default=14)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--tags", action="store_true", help="also print PHI coverage per tag")
    p.add_argument("--halves", action="store_true", help="also score each half of the set (HALVES)")
    a = p.parse_args(argv)
    count = 40 if a.small else 200
    folder = a.set or burned_in.generate(count, a.seed, burned_in.CORPUS / ("small" if a.small else "full"))
    chosen, skipped = finders([n.strip() for n in a.finders.split(",") if n.strip()])
    for name, why in skipped.items():
        print(f"{name}: skipped: {why}", flush=True)
    started = time.monotonic()
    rows = run_set(folder, chosen, a.limit)
    if a.halves:
        rows = {**rows, **by_half(rows, folder)}
    scores = {name: score(row.runs) for name, row in rows.items() if row.runs}
    errors = {name: row.errors for name, row in rows.items() if row.errors}
    print(table(scores, errors))
    if a.tags:
        print()
        print(tag_table(scores))
    print(GOALS)
    for name, errs in errors.items():
        print(f"{name}: {len(errs)} errors, first: {errs[0]}")
    shift = None
    shipped, fp32 = rows.get("ours (redaction.text_finder)"), rows.get("ours, float32 registry models")
    if shipped and fp32:
        shift = box_shift(fp32, shipped)
        print(f"float16 weights vs float32 (boxes, either way): {shift}")
    manifest = json.loads((folder / "manifest.json").read_text())
    a.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "set": {"folder": str(folder), **manifest},
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "tesseract": tesseract_finder.version(),
        "seconds": round(time.monotonic() - started, 1),
        "skipped": skipped,
        "finders": {name: s.as_dict() for name, s in scores.items()},
        "fp16_vs_fp32_boxes": shift,
        "errors": errors,
        "images": {
            name: [
                {"file": r.name, "truth": len(r.truth), "found": len(r.found), "seconds": round(r.seconds, 4)}
                for r in row.runs
            ]
            for name, row in rows.items()
        },
    }
    a.out.write_text(json.dumps(report, indent=1))
    print(f"written: {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
