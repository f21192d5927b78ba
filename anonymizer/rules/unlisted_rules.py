"""What happens to codes, text and binary values that Table E.1-1 does not list (the table is silent).

PS3.15 E.1-1 Note 1: the table may not be sufficient, and an implementation may remove more. The standard
keeps an unlisted attribute; this product keeps one only when it was decided, attribute by attribute, that
its values cannot identify anyone (data/unlisted_attributes.csv, one reason each). Everything else of a
text or binary VR is removed at any depth, as the table's X/Z/D would (an attribute the IOD requires is
emptied or replaced instead, so the output stays valid). Kept text still goes through the last scrub of
the file's own identifiers (last_scrub.py).

Codes (PS3.3 Table 8.8-1): codes of standard schemes carry the content's meaning and identify nobody
(E.1-1 Note 10); codes of private or local schemes ("99MYHOSP", "SIEMENS_RIS" "CT BRAIN WO IVCON") may
name the site or a local protocol, and are replaced wherever they stand (E.1-1 Note 7).
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement

from ..planning.context import FileContext, Mode
from ..planning.plan import Action
from .iod_types import defined_at_top_level, resolve
from .unlisted import BINARY_VRS, TEXT_VRS, decision
from .unlisted import Action as Decided

# Code Value, Coding Scheme Designator and Version, Code Meaning, Long Code Value, URN Code Value
CODE_TAGS = frozenset({0x00080100, 0x00080102, 0x00080103, 0x00080104, 0x00080119, 0x00080120})


@cache
def standard_schemes() -> frozenset[str]:
    """PS3.16 Table 8-1: coding schemes whose codes are public (data/coding_schemes.csv); a local or
    private code is anything else. Compared in upper case, as writers vary (NCIt, NCIT)."""
    text = resources.files("anonymizer").joinpath("data/coding_schemes.csv").read_text("utf-8")
    return frozenset(r["designator"].strip().upper() for r in csv.DictReader(text.splitlines()))


def is_local_code(ds: object) -> bool | None:
    """For a code item (PS3.3 Table 8.8-1): True when its scheme is private or local; None if no code."""
    designator = getattr(ds, "CodingSchemeDesignator", None)
    if designator is None:
        return None
    text = str(designator).strip().upper()
    return text not in standard_schemes()


LOCAL_CODE = Action.LOCAL_CODE  # the action that replaces a private or local code (actions.local_code)
LOCAL_SCHEME = "99LOCAL"  # PS3.16 8.2: designators of private schemes begin with "99"


def code_action(tag: int, local: bool | None) -> tuple[Action, str] | None:
    """For an element of a code item: kept (standard scheme) or replaced (private or local scheme)."""
    if local is None or tag not in CODE_TAGS:
        return None
    if not local:
        return Action.KEEP, "code of a standard coding scheme kept (E.1-1 Note 10)"
    return LOCAL_CODE, "code of a private or local scheme replaced: it may name the site (E.1-1 Note 7)"


@cache
def _dictionary_vr(tag: int) -> str | None:
    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return None


# What a faulty writer may have written with a text VR and is still judged by what it is: code strings and
# numbers carry no free text (PS3.5 6.2).
_CODED_OR_NUMERIC = frozenset({"CS", "AS", "DS", "IS", "US", "SS", "UL", "SL", "FL", "FD", "SV", "UV"})


def text_or_binary_action(
    ctx: FileContext, elem: DataElement, tags: tuple[int, ...], mode: Mode
) -> tuple[Action, str] | None:
    """The action for an unlisted element of a text or binary VR, or None for any other VR."""
    vr, tag = elem.VR, tags[-1]
    if vr not in TEXT_VRS and vr not in BINARY_VRS:
        return None
    if vr in TEXT_VRS and mode == Mode.DUMMY:
        return Action.DUMMY, "inside a D sequence: free text replaced"
    if vr in TEXT_VRS and mode == Mode.CLEAN:
        return Action.CLEAN, "inside a C sequence: free text scrubbed"
    if vr in TEXT_VRS and len(tags) == 1:
        defined = defined_at_top_level(ctx.sop_class, tag)
        if defined is None:
            why = "unlisted text at the top level of an unknown (private) IOD: removed (E.1-1 Note 1)"
            return Action.REMOVE, why
        if defined is False:
            return Action.REMOVE, "free text not defined in this IOD: removed (E.1-1 Note 13)"
    found = decision(tag)
    if found is not None and found.action is Decided.KEEP:
        return Action.KEEP, f"not in Table E.1-1; kept: {found.reason}"
    known = _dictionary_vr(tag)
    if found is None and known in _CODED_OR_NUMERIC:
        # A code string or number written with a text VR by a faulty writer: judged by what it is.
        return Action.KEEP, f"not in Table E.1-1: kept (its dictionary VR is {known})"
    why = found.reason if found is not None else "an attribute the dictionary does not know"
    code, typed = resolve("X/Z/D", ctx.sop_class, tags)
    action = Action(code)
    rule = f"not in Table E.1-1 and not kept by a written decision ({why}): removed (E.1-1 Note 1)"
    return action, rule + (f" -> {action}, {typed}" if action != Action.REMOVE else "")
