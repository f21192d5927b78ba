"""Regions to black out, as a reviewer gives them: the REGIONS.json file shared by the page and the CLI.

    [
      {"sop_instance_uid": "1.2.3...", "frames": [1, 2], "x": 0, "y": 0, "width": 640, "height": 40},
      {"series_instance_uid": "1.2.4...", "frames": null, "x": 0, "y": 0, "width": 800, "height": 60,
       "rows": 600, "columns": 800}
    ]

UIDs are the ORIGINAL ones (as in the files the reviewer looked at). "frames" is a 1-based list, or null
(or absent) for every frame. A series entry applies to every image of the series; with "rows"/"columns"
it applies only to images of that size (the page writes them: "every image of the series with the same
geometry"). Coordinates are pixels of the original image; negative or oversized rectangles are clipped.

Regions the text finder proposes (the CLI's --find-text) also carry "text" (what the box reads, "" when
nothing was read) and "matches" (the keywords of the file's own attributes the text spells, e.g.
["PatientName"]); they are kept through a round trip and do not change what is blacked out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .errors import RegionsError
from .rectangles import Rect

_KEYS = {
    "sop_instance_uid",
    "series_instance_uid",
    "frames",
    "x",
    "y",
    "width",
    "height",
    "rows",
    "columns",
    "text",
    "matches",
}


@dataclass(frozen=True)
class Region:
    rect: Rect
    frames: tuple[int, ...] | None = None  # 1-based; None: every frame
    sop_instance_uid: str | None = None
    series_instance_uid: str | None = None
    rows: int | None = None
    columns: int | None = None
    source: str = "reviewer"  # or the CTP signature that proposed it
    text: str | None = None  # what the text finder read in the box (None: not proposed by the finder)
    matches: tuple[str, ...] = ()  # keywords of the file's attributes the text spells

    def applies_to(self, sop: str, series: str, rows: int, columns: int) -> bool:
        if self.sop_instance_uid is not None and self.sop_instance_uid != sop:
            return False
        if self.series_instance_uid is not None and self.series_instance_uid != series:
            return False
        return (self.rows is None or self.rows == rows) and (self.columns is None or self.columns == columns)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.sop_instance_uid is not None:
            out["sop_instance_uid"] = self.sop_instance_uid
        if self.series_instance_uid is not None:
            out["series_instance_uid"] = self.series_instance_uid
        out["frames"] = list(self.frames) if self.frames is not None else None
        out.update(x=self.rect.x, y=self.rect.y, width=self.rect.width, height=self.rect.height)
        if self.rows is not None:
            out["rows"] = self.rows
        if self.columns is not None:
            out["columns"] = self.columns
        if self.text is not None:
            out["text"] = self.text
            out["matches"] = list(self.matches)
        return out


def _int(entry: dict[str, Any], key: str, where: str, *, optional: bool = False) -> int | None:
    value = entry.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise RegionsError(f"{where}: {key!r} must be a whole number of pixels, not {value!r}")
    return value


def region_from_json(entry: Any, where: str = "region") -> Region:
    if not isinstance(entry, dict):
        raise RegionsError(f"{where}: expected an object, found {type(entry).__name__}")
    unknown = set(entry) - _KEYS
    if unknown:
        raise RegionsError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    sop, series = entry.get("sop_instance_uid"), entry.get("series_instance_uid")
    if (sop is None) == (series is None):
        raise RegionsError(f"{where}: give exactly one of 'sop_instance_uid' and 'series_instance_uid'")
    uid = sop if sop is not None else series
    if not isinstance(uid, str) or not uid.strip():
        raise RegionsError(f"{where}: the UID must be a non-empty string")
    frames = entry.get("frames")
    if frames is not None:
        if (
            not isinstance(frames, list)
            or not frames
            or not all(isinstance(f, int) and not isinstance(f, bool) and f >= 1 for f in frames)
        ):
            raise RegionsError(f"{where}: 'frames' must be null or a list of frame numbers from 1")
        frames = tuple(frames)
    text, matches = entry.get("text"), entry.get("matches") or []
    if text is not None and not isinstance(text, str):
        raise RegionsError(f"{where}: 'text' must be a string")
    if not isinstance(matches, list) or not all(isinstance(m, str) for m in matches):
        raise RegionsError(f"{where}: 'matches' must be a list of attribute keywords")
    x, y, w, h = (_int(entry, k, where) for k in ("x", "y", "width", "height"))
    assert x is not None and y is not None and w is not None and h is not None
    try:
        rect = Rect(x, y, w, h)
    except RegionsError as exc:
        raise RegionsError(f"{where}: {exc.reason}") from None
    return Region(
        rect=rect,
        frames=frames,
        sop_instance_uid=sop.strip() if sop is not None else None,
        series_instance_uid=series.strip() if series is not None else None,
        rows=_int(entry, "rows", where, optional=True),
        columns=_int(entry, "columns", where, optional=True),
        text=text,
        matches=tuple(matches),
    )


def regions_from_json(data: Any, where: str = "regions") -> list[Region]:
    if not isinstance(data, list):
        raise RegionsError(f"{where}: expected a list of regions")
    return [region_from_json(entry, f"{where}[{i}]") for i, entry in enumerate(data)]


def load_regions(text: str, where: str = "REGIONS.json") -> list[Region]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise RegionsError(f"{where} is not JSON: {exc}") from None
    return regions_from_json(data, where)


def dump_regions(regions: Iterable[Region]) -> str:
    return json.dumps([r.to_json() for r in regions], indent=1)


def regions_for(regions: Iterable[Region], ds: Any) -> list[Region]:
    """The regions that apply to this dataset (matched on its original UIDs and size)."""
    sop, series = str(ds.get("SOPInstanceUID", "")), str(ds.get("SeriesInstanceUID", ""))
    rows, columns = int(ds.get("Rows") or 0), int(ds.get("Columns") or 0)
    return [r for r in regions if r.applies_to(sop, series, rows, columns)]
