"""Attribute Types (PS3.3) per IOD, to resolve Table E.1-1's compound action codes (Table E.1-1a).

The data file is generated at build time from highdicom's copy of the PS3.3 tables
(tools/gen_iod_types.py); the product does not import highdicom.

Resolution (PS3.15 Table E.1-1a): X where the attribute is optional (Type 3), Z where it must be present but
may be empty (Type 2, 2C), D where it must have a value (Type 1, 1C). Conditional types are treated as their
unconditional form: keeping a valid value is always allowed where the condition might hold.
If the file's SOP Class is known but PS3.3 does not define the attribute at that place in its IOD, the
attribute is not part of the IOD there and is removed (PS3.15 E.1-1 Note 13). If the SOP Class is unknown
(private or newer than the tables), we cannot know the Type and fall back to the choice that keeps the
attribute present: Z where the code offers it, else D (U for X/Z/U*), so the output cannot lose a
required attribute; both choices carry no identifying value.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

# For each compound code: the action for Type 1, Type 2, Type 3, and when the Type is unknown.
_RESOLUTION: dict[str, tuple[str, str, str, str]] = {
    "Z": ("D", "Z", "Z", "Z"),
    "Z/D": ("D", "Z", "Z", "D"),
    "X/Z": ("Z", "Z", "X", "Z"),
    "X/D": ("D", "D", "X", "D"),
    "X/Z/D": ("D", "Z", "X", "Z"),
    # References are kept with their UIDs mapped even where the sequence is Type 3: mapped UIDs identify
    # nobody, and removing them breaks the IOD's consistency (the Common Instance Reference module's
    # Referenced Series Sequence is required exactly when the instance references others), which is the
    # conformance the code's U alternative is for.
    "X/Z/U*": ("U", "U", "U", "U"),
}


@cache
def _raw() -> dict[str, Any]:
    text = resources.files("anonymizer").joinpath("data/iod_attribute_types.json").read_text("utf-8")
    raw: dict[str, Any] = json.loads(text)
    return raw


def _data() -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    raw = _raw()
    return raw["sop_classes"], raw["iods"]


@cache
def _top_level(iod: str) -> frozenset[int]:
    raw = _raw()
    tags: set[int] = set()
    for module in raw["iod_modules"].get(iod, []):
        tags.update(int(t, 16) for t in raw["modules"].get(module, []))
    return frozenset(tags)


def defined_at_top_level(sop_class_uid: str | None, tag: int) -> bool | None:
    """Whether the file's IOD defines the attribute at its top level; None when the IOD is unknown."""
    iod = _data()[0].get(sop_class_uid or "")
    return None if iod is None else tag in _top_level(iod)


def attribute_type(sop_class_uid: str | None, path: tuple[int, ...]) -> str | None:
    """The PS3.3 Type ("1", "1C", "2", "2C", "3") of the attribute at `path` (tags from the top level).

    Returns "absent" when the IOD is known and does not define the attribute there, None when the IOD is
    unknown.
    """
    sop_classes, iods = _data()
    iod = sop_classes.get(sop_class_uid or "")
    if iod is None:
        return None
    return iods[iod].get(">".join(f"{t:08X}" for t in path), "absent")


def resolve(code: str, sop_class_uid: str | None, path: tuple[int, ...]) -> tuple[str, str]:
    """A single action for a Table E.1-1 code, and a short reason naming the Type that decided it."""
    resolution = _RESOLUTION.get(code)
    if resolution is None:
        return code, ""
    typ = attribute_type(sop_class_uid, path)
    if typ is None:
        return resolution[3], "IOD unknown: kept present"
    if typ == "absent":
        return resolution[2], "not in this IOD (Note 13)"
    index = {"1": 0, "1C": 0, "2": 1, "2C": 1, "3": 2}[typ]
    return resolution[index], f"Type {typ}"
