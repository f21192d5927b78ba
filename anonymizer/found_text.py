"""Burned-in text found in one file, as regions to propose or black out (the CLI's --find-text and
--redact-found-text). Native only: the finder (redaction.text_finder) needs numpy and onnxruntime and is
imported when first used.

Each box of each frame becomes a region of that frame of that instance (its ORIGINAL SOP Instance UID,
1-based frame), with what it reads and the attributes of the same file it spells (text_matches.py).
Regions that match the header come first, then by frame, top to bottom, left to right.
"""

from __future__ import annotations

from dataclasses import dataclass

from redaction.rectangles import Rect
from redaction.regions import Region

from .reading.reader import read_dataset
from .text_matches import header_matcher

SOURCE = "text finder"


@dataclass(frozen=True)
class FileText:
    """What the finder found in one file: its regions and how many frames it looked at."""

    regions: tuple[Region, ...]
    frames: int  # frames looked at (0: no image in the file)


def models_missing() -> str | None:
    """Why text cannot be looked for on this computer (models or onnxruntime absent), or None."""
    try:
        from redaction.text_finder.models import missing_reason
    except ImportError as exc:  # numpy absent
        return f"the text finder needs numpy and onnxruntime: pip install 'pacsbin-uploader[text]' ({exc})"
    return missing_reason()


def find_in_file(data: bytes, *, path: str | None = None) -> FileText:
    """Look for text in every frame of the file. Raises the reader's errors (not DICOM, malformed...) and
    RedactionError when the pixels cannot be decoded or the models are missing."""
    from redaction.text_finder import find_text
    from redaction.text_finder.dicom import frames_of

    ds = read_dataset(data, path=path)
    if "PixelData" not in ds or int(ds.get("BitsAllocated") or 0) == 1:
        return FileText((), 0)  # no image (a report, a plan) or a 1-bit mask: nothing burned in to find
    frames = frames_of(ds)
    found = find_text(frames, photometric=frames.photometric)
    matcher = header_matcher(ds)
    sop = str(ds.get("SOPInstanceUID", "")).strip()
    regions = [
        Region(
            rect=Rect(f.x, f.y, f.width, f.height),
            frames=(f.frame,),
            sop_instance_uid=sop,
            source=SOURCE,
            text=f.text,
            matches=matcher.matches(f.text),
        )
        for f in found
    ]
    regions.sort(key=lambda r: (not r.matches, r.frames or (), r.rect.y, r.rect.x))
    return FileText(tuple(regions), frames.count)


def describe(region: Region) -> str:
    """One line of the report: where, what it reads, what it matches."""
    frames = ",".join(str(f) for f in region.frames) if region.frames else "every frame"
    r = region.rect
    line = f"frame {frames} at ({r.x},{r.y}) {r.width}x{r.height}: {region.text or '(not read)'!r}"
    return line + (f" matches {', '.join(region.matches)}" if region.matches else "")
