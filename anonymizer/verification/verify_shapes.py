"""Our method's shapes: a file that claims this product's De-identification Method must show it.

Replaced values cannot be traced back without the uploader's key, but their form is ours alone, and a value
put back (a name, an original UID) does not have it:
- every PN at any depth is our patient pseudonym ("Anonymous^" + 14 base32 letters, pseudonyms.py), the
  dummy (dummies.py) or empty: Patient's Name is the pseudonym, every other person name the dummy or empty;
- every UID at any depth that the standard does not register (PS3.6 Annex A; pseudonyms.is_well_known_uid)
  is a 2.25 UID (PS3.5 B.2; Derivations.uid), unless Retain UIDs (E.3.9) is accepted and claimed; the one
  exception the engine makes is kept here too: a definition attribute naming the file's own private SOP
  Class (actions._kept_uid);
- an element the profile replaces with a dummy (D) holds the dummy (an Encapsulated Document put back holds
  the document again).
Dates are shifted by a keyed amount and cannot be judged; they are not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

from ..planning.plan import Step
from ..rules.actions import is_definition_uid
from ..rules.dummies import DUMMY
from ..rules.options import Option
from ..rules.pseudonyms import is_well_known_uid
from ..rules.scrub import text_values
from .verify_upload import Upload

_PSEUDONYM = re.compile(r"Anonymous\^[A-Z2-7]{14}")
_UUID_UID = re.compile(r"2\.25\.(0|[1-9][0-9]{0,38})")
_OURS = "a file that claims this product's De-identification Method (0012,0063) holds only ours"


def _elements(ds: Dataset, path: str = "") -> Iterator[tuple[str, DataElement]]:
    """Every public element at any depth with its path, e.g. "(0040,A730)[2]>(0040,A123)"."""
    for elem in ds:
        if elem.tag.is_private:
            continue  # refused on their own (verify: no private elements)
        where = f"{path}({elem.tag.group:04X},{elem.tag.element:04X})"
        yield where, elem
        if elem.VR == "SQ":
            for i, item in enumerate(elem.value):
                yield from _elements(item, f"{where}[{i}]>")


def _name(where: str, elem: DataElement) -> str:
    return f"{where} {elem.name}" if elem.keyword else where


def person_names(upload: Upload) -> list[str]:
    found = []
    for where, elem in _elements(upload.ds):
        if elem.VR != "PN":
            continue
        for value in text_values(elem.value):
            value = value.strip()
            if value in ("", DUMMY["PN"]) or _PSEUDONYM.fullmatch(value):
                continue
            found.append(
                f"{_name(where, elem)} holds a person's name that is neither a pseudonym of ours, the dummy "
                f"'{DUMMY['PN']}' nor empty: the name was put back or not replaced ({_OURS})"
            )
            break
    return found


def uids(upload: Upload) -> list[str]:
    if Option.RETAIN_UIDS in upload.options and Option.RETAIN_UIDS in upload.policy.options:
        return []
    sop_class = str(upload.ds.get("SOPClassUID", "")).strip()
    found = []
    for where, elem in _elements(upload.ds):
        if elem.VR != "UI":
            continue
        for value in text_values(elem.value):
            uid = value.strip().rstrip("\x00")
            if is_well_known_uid(uid) or _UUID_UID.fullmatch(uid):
                continue
            if uid == sop_class and is_definition_uid(elem.keyword or ""):
                continue  # the file's own private SOP Class, kept by the engine (actions._kept_uid)
            found.append(
                f"{_name(where, elem)} holds a UID that is neither registered by the standard nor a 2.25 UID "
                f"of ours: an original UID was put back or not replaced ({_OURS})"
            )
            break
    return found


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, (bytes, memoryview)) or isinstance(new, (bytes, memoryview)):
        return bytes(old or b"").rstrip(b"\x00") == bytes(new or b"").rstrip(b"\x00")
    return [v.strip() for v in text_values(old)] == [v.strip() for v in text_values(new)]


def _replaced(step: Step) -> str | None:
    if step.action != "D" or step.vr == "SQ" or step.created or _same(step.old, step.new):
        return None
    return (
        f"{step.path} {step.keyword or ''} holds a value where the profile writes a dummy ({step.rule}): "
        f"the original value was put back or not replaced ({_OURS})"
    )


def dummies(upload: Upload) -> list[str]:
    if upload.plan is None:
        return []
    return [p for top in upload.plan.dataset for s in top.walk() if (p := _replaced(s))]
