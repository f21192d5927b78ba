"""The last scrub: no kept text value may hold one of the file's own identifiers.

Table E.1-1 keeps what it does not list, and our written decisions keep some text on purpose (Code
Meanings, technical descriptions, Window Center & Width Explanation...). Real files write the patient into
such values ("W/L for <name>", a Code Meaning "seen by <Patient ID>", a Document Title "Report for
<name>"). So after planning, every text value the plan keeps, at any depth, is scrubbed of the identifiers
the same file holds elsewhere (scrub.py: names and their parts, IDs, accession, birth date spellings,
institution...), exactly as the C action scrubs free text (PS3.15 E.1-1a: C). The step then says so, the
review screen shows it, and the server's re-check (verify.py) refuses a file in which it would blank
anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from pydicom.multival import MultiValue

from ..planning.plan import Action, Step
from .scrub import scrub, text_values
from .unlisted import TEXT_VRS

LAST_SCRUB = "last scrub: the file's own identifiers blanked"
# Code Strings (CS) are not scrubbed: their values are Defined Terms and Enumerated Values of PS3.3 (16
# characters of A-Z 0-9 _ and space), and real names collide with them (a patient "Chest", a placeholder
# name "Enter text" and the SR Value Type TEXT, "CQ500-CT-310" and the Modality CT): replacing them broke
# Modality, Body Part Examined and SR content in pydicom's own test files.


def _scrubbed(step: Step, scrubber: Any) -> Step | None:
    """The step with its kept value scrubbed, or None when the value holds none of the identifiers."""
    old = text_values(step.old)
    rule = f"{step.rule}; {LAST_SCRUB}"
    new = [scrub(text, scrubber) for text in old]
    if new == old:
        return None
    value = new if isinstance(step.old, (list, tuple, MultiValue)) else new[0]
    return replace(step, action=Action.CLEAN, new=value, rule=rule)


def last_scrub(steps: Sequence[Step], scrubber: Any) -> tuple[list[Step], int]:
    """Every text value the plan keeps, at any depth, scrubbed: the new steps and how many were changed."""
    if scrubber is None:
        return list(steps), 0
    out: list[Step] = []
    changed = 0
    for step in steps:
        if step.items is not None:
            items = []
            for item in step.items:
                new_item, count = last_scrub(item, scrubber)
                items.append(tuple(new_item))
                changed += count
            out.append(replace(step, items=tuple(items)))
            continue
        scrubbed = None
        if not step.created and step.action == Action.KEEP and step.vr in TEXT_VRS:
            scrubbed = _scrubbed(step, scrubber)
        out.append(step if scrubbed is None else scrubbed)
        changed += scrubbed is not None
    return out, changed
