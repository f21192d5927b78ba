"""The written decision for each public text or binary attribute that PS3.15 Table E.1-1 does not list.

E.1-1 lists ~650 attributes; everything else in the dictionary is "unlisted". Its Note 1 lets an
implementation remove more than the table says, and issue 12 found identity in unlisted attributes
(alternative-calendar birth dates, NTP addresses, user-typed labels, opaque binary). So an unlisted public
attribute whose dictionary VR is text or binary is removed unless data/unlisted_attributes.csv keeps it,
and every row of that file says why (K: why it cannot identify; X: what identity it may carry).

The file covers exactly the installed pydicom dictionary's unlisted text/binary attributes
(tests/test_unlisted_attributes.py); tools/gen_unlisted_attributes.py lists what a new dictionary adds.
This module only answers "what was decided for this tag"; the engine applies it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from enum import Enum
from functools import cache
from importlib import resources

# PS3.5 6.2: the VRs whose values are free text or opaque bytes, the two kinds the decisions cover.
TEXT_VRS = frozenset({"LO", "SH", "ST", "LT", "UT", "UC"})
BINARY_VRS = frozenset({"OB", "OW", "OF", "OD", "OL", "OV"})

UNDECIDED = "NOT YET DECIDED"  # the reason tools/gen_unlisted_attributes.py --draft writes


class Action(Enum):
    KEEP = "K"
    REMOVE = "X"


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str  # K: why the values cannot identify; X: what identity they may carry
    keyword: str


def decided_vrs(dictionary_vr: str) -> frozenset[str]:
    """The text/binary VRs among a dictionary VR such as "OB or OW" or "US or SS or OW" (maybe empty)."""
    return frozenset(dictionary_vr.split(" or ")) & (TEXT_VRS | BINARY_VRS)


def decision(tag: int) -> Decision | None:
    """The decision for an unlisted public text/binary attribute, or None if the file has no row for it."""
    return _decisions().get(tag)


@cache
def _decisions() -> dict[int, Decision]:
    return parse(resources.files("anonymizer").joinpath("data/unlisted_attributes.csv").read_text("utf-8"))


def parse(text: str) -> dict[int, Decision]:
    """The rows of unlisted_attributes.csv by tag; a repeated, undecided or unknown-action row is an error."""
    out: dict[int, Decision] = {}
    for r in csv.DictReader(text.splitlines()):
        tag = int(r["tag"].replace(",", ""), 16)
        if tag in out:
            raise ValueError(f"unlisted_attributes.csv repeats ({r['tag']})")
        reason = r["reason"].strip()
        if not reason or reason == UNDECIDED:
            # Fail closed: an undecided row must never read as a decision (the test also refuses it).
            raise ValueError(f"unlisted_attributes.csv ({r['tag']}) {r['keyword']}: no decision written")
        out[tag] = Decision(action=Action(r["action"]), reason=reason, keyword=r["keyword"])
    return out
