"""The action codes of PS3.15 Table E.1-1a, each a small function, and the one table that dispatches them.

Every function returns the Step for one element; none changes the data set (apply.py does). The walker
(walker.py) plans the items of a sequence itself (SEQUENCE_ITEMS says how), so actions never recurse.
Sequences (PS3.15 leaves D, Z and C for sequences to the implementer; defined here):
- X removes the sequence with all its items.
- Z leaves the sequence present with zero items (valid for Type 2).
- D keeps the items (a Type 1 sequence must have them) and cleans each one strictly: table attributes get
  their own action, every unlisted free-text or name value is replaced by a dummy, dates are shifted or
  replaced, UIDs are mapped like everywhere else (so references stay consistent with the study).
- C keeps the items and cleans each one: like D, except that free text is scrubbed of the file's
  identifiers (scrub.py) instead of replaced.
- K and U keep the items and clean each one with the normal rules (Table E.1-1a: K is "cleaned for
  Sequences"; U on a sequence, from X/Z/U*, replaces the UIDs it contains).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from typing import Any

from pydicom.datadict import dictionary_has_tag, dictionary_keyword
from pydicom.dataelem import DataElement
from pydicom.multival import MultiValue

from ..planning.context import FileContext, Mode, Where
from ..planning.plan import Action, Step
from .date_kinds import DateKind, date_kind, date_reason, date_vr
from .dates import InvalidDateError, is_time, shift_value
from .dummies import dummy_value
from .scrub import scrub
from .unlisted import BINARY_VRS, TEXT_VRS
from .unlisted_rules import LOCAL_SCHEME, code_action, text_or_binary_action

DATE_VRS = frozenset({"DA", "DT"})

# A sequence under these actions keeps its items, each planned under the mode, and its step's action.
SEQUENCE_ITEMS: dict[Action, tuple[Mode, Action]] = {
    Action.KEEP: (Mode.NORMAL, Action.KEEP),
    Action.DUMMY: (Mode.DUMMY, Action.DUMMY),
    Action.CLEAN: (Mode.CLEAN, Action.CLEAN),
    Action.UID: (Mode.NORMAL, Action.UID),
    Action.LOCAL_CODE: (Mode.DUMMY, Action.DUMMY),  # local_code hands a sequence to dummy
}


def _values(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, MultiValue)):
        return list(value)
    return [value]


def _map_values(value: Any, fn: Callable[[Any], Any]) -> Any:
    """Apply fn to each value of a possibly multi-valued element, keeping its shape."""
    if isinstance(value, (list, tuple, MultiValue)):
        return [fn(v) for v in value]
    return None if value is None else fn(value)


@lru_cache(maxsize=4096)
def keyword_of(tag: int) -> str:
    """The dictionary keyword of a tag, "" for private and unknown ones (DataElement.keyword, which looks
    the tag up twice on every call; bounded: a hostile file's made-up tags do not grow it)."""
    return dictionary_keyword(tag) if dictionary_has_tag(tag) else ""


def _step(elem: DataElement, where: Where, action: Action, new: Any = None, **kw: Any) -> Step:
    tag = int(elem.tag)
    return Step(
        path=where.path,
        tag=tag,
        keyword=keyword_of(tag),
        vr=elem.VR,
        action=action,
        rule=where.rule,
        old=elem.value,
        new=new,
        **kw,
    )


def remove(ctx: FileContext, elem: DataElement, where: Where) -> Step:
    return _step(elem, where, Action.REMOVE)


def keep(ctx: FileContext, elem: DataElement, where: Where) -> Step:
    return _step(elem, where, Action.KEEP)


def zero(ctx: FileContext, elem: DataElement, where: Where) -> Step:
    if elem.VR == "SQ":
        return _step(elem, where, Action.ZERO, new=[])
    return _step(elem, where, Action.ZERO, new=None)


def dummy(ctx: FileContext, elem: DataElement, where: Where) -> Step:
    if elem.VR == "UI":
        return _step(elem, where, Action.DUMMY, new=_map_values(elem.value, lambda v: ctx.map_uid(str(v))))
    return _step(elem, where, Action.DUMMY, new=dummy_value(elem.VR, int(elem.tag), elem.value))


def clean(ctx: FileContext, elem: DataElement, where: Where) -> Step:
    """C: dates shift (Modified Dates), AE titles become keyed pseudonyms (Device Identity), free text
    is scrubbed (sequences: cleaned item by item, by the walker)."""
    vr = elem.VR
    temporal = date_vr(int(elem.tag), vr)  # a date written with another VR is still a date
    if temporal in DATE_VRS:
        return shift(ctx, elem, where) if ctx.shift_days is not None else dummy(ctx, elem, where)
    if temporal == "TM":
        if vr == "TM" or all(is_time(str(v)) for v in _values(elem.value)):
            return _step(elem, where, Action.KEEP)  # whole-day shifts keep the time of day (PS3.15 E.3.6)
        return _replaced(ctx, elem, where, f"not a time ({vr} where the dictionary says TM)")
    if int(elem.tag) == 0x00080201:
        # Timezone Offset From UTC: kept when it is an offset (&ZZXX, PS3.5 6.2), else it is not clean.
        ok = all(re.fullmatch(r"[+-]\d{4}", str(v).strip()) for v in _values(elem.value))
        return _step(elem, where, Action.KEEP) if ok else remove(ctx, elem, where)
    if vr == "AE":
        new = _map_values(elem.value, lambda v: ctx.derive.ae_title(str(v)))
        return _step(elem, where, Action.CLEAN, new=new)
    if vr == "UI":
        return uid(ctx, elem, where)
    if vr in TEXT_VRS:
        new = _map_values(elem.value, lambda v: scrub(str(v), ctx.scrubber))
        return _step(elem, where, Action.CLEAN, new=new)
    if vr == "PN":
        return dummy(ctx, elem, where)
    if vr in BINARY_VRS or vr in {"UN", "UR"}:
        return remove(ctx, elem, where)
    return _step(elem, where, Action.KEEP)  # codes and numbers: nothing to clean


def uid(ctx: FileContext, elem: DataElement, where: Where) -> Step:
    if elem.VR != "UI":
        # U on a non-UID VR (a malformed file or a VR mismatch): nothing consistent to map; remove it.
        return _step(elem, where, Action.REMOVE)
    if ctx.retain_uids:
        return _step(elem, where, Action.KEEP)
    return _step(elem, where, Action.UID, new=_map_values(elem.value, lambda v: ctx.map_uid(str(v))))


def _replaced(ctx: FileContext, elem: DataElement, where: Where, why: str) -> Step:
    """A value that should be a date or time and is not: a dummy of the VR it was written with, or removed
    when that VR has none."""
    try:
        step = _step(elem, where, Action.DUMMY, new=dummy_value(elem.VR, int(elem.tag), elem.value))
    except KeyError:
        step = _step(elem, where, Action.REMOVE)
    done = "replaced" if step.action == Action.DUMMY else "removed"
    return replace(step, rule=f"{step.rule}; {why}: {done}")


def shift(ctx: FileContext, elem: DataElement, where: Where) -> Step:
    """Move every date of the element by the patient's shift. A value that is not a date cannot be
    shifted and is not kept: it is replaced by a dummy and the plan says so. A date written with another
    VR (Series Date as IS) is shifted as its attribute's DA or DT."""
    assert ctx.shift_days is not None
    days = ctx.shift_days
    vr = date_vr(int(elem.tag), elem.VR) or elem.VR
    try:
        if vr not in DATE_VRS:
            raise InvalidDateError(f"{elem.VR} is not a date VR")
        new = _map_values(elem.value, lambda v: shift_value(vr, str(v), days) if str(v).strip() else v)
    except InvalidDateError as exc:
        return _replaced(ctx, elem, where, f"invalid {vr} ({exc})")
    return _step(elem, where, Action.SHIFT, new=new)


def pseudonym(ctx: FileContext, elem: DataElement, where: Where) -> Step:
    """Patient's Name and Patient ID: a keyed pseudonym, stable per patient and key (a D value)."""
    new = ctx.derive.patient_name(ctx.patient) if elem.VR == "PN" else ctx.derive.patient_id(ctx.patient)
    return _step(elem, where, Action.PSEUDONYM, new=new)


def local_code(ctx: FileContext, elem: DataElement, where: Where) -> Step:
    """A code of a private or local scheme (PS3.16 8.2): the scheme's name becomes a neutral private
    designator, every other part of the code a dummy (the item stays a valid code, E.1-1 Note 7)."""
    if int(elem.tag) == 0x00080102:  # Coding Scheme Designator: "99MYHOSP" names the site
        return _step(elem, where, Action.DUMMY, new=_map_values(elem.value, lambda v: LOCAL_SCHEME))
    return dummy(ctx, elem, where)


ACTIONS: dict[Action, Callable[[FileContext, DataElement, Where], Step]] = {
    Action.REMOVE: remove,
    Action.ZERO: zero,
    Action.DUMMY: dummy,
    Action.KEEP: keep,
    Action.CLEAN: clean,
    Action.UID: uid,
    Action.SHIFT: shift,
    Action.PSEUDONYM: pseudonym,
    Action.LOCAL_CODE: local_code,
}
# An unlisted sequence keeps its items, cleaned as the sequence around it is.
SEQUENCE_ACTION = {Mode.NORMAL: Action.KEEP, Mode.DUMMY: Action.DUMMY, Mode.CLEAN: Action.CLEAN}

_CLASS_UID = re.compile(r"(Class|TransferSyntax|CodingScheme|ContextGroup|MappingResource|Implementation)")


def is_definition_uid(keyword: str) -> bool:
    """UID attributes that name a definition (a SOP Class, a coding scheme...), not an instance."""
    # "...CreatorUID" (Private Coding Scheme Creator, Context Group Extension Creator) names an
    # organization, so it is an instance UID for this purpose: mapped.
    return bool(keyword) and bool(_CLASS_UID.search(keyword)) and "Creator" not in keyword


def _kept_uid(ctx: FileContext, elem: DataElement) -> bool:
    """Only UIDs the standard registers are kept verbatim (PS3.6 Annex A); any other value may carry
    anything, whatever the attribute says it is. The one exception is the file's own SOP Class when it
    is a private one: a definition attribute holding it names what the object is, not who it is about."""
    values = [str(v).strip() for v in _values(elem.value)]
    if all(ctx.is_well_known(v) for v in values):
        return True
    return is_definition_uid(elem.keyword or "") and all(v == ctx.sop_class for v in values)


def unlisted_action(
    ctx: FileContext, elem: DataElement, mode: Mode, tags: tuple[int, ...], code: bool | None = None
) -> tuple[Action, str]:
    """The action for an attribute Table E.1-1 does not list: kept, as the standard says, with a safety
    net by VR (E.1-1 Note 4: treat dates by VR; names, UIDs, AE titles and URLs are identifying)."""
    vr = elem.VR
    if tags[-1] >> 16 == 0x0000:
        return Action.REMOVE, "command element inside a data set: removed (E.1-1 Note 1)"
    if vr == "SQ":
        return SEQUENCE_ACTION[mode], "unlisted sequence: items cleaned"
    if vr == "PN":
        return Action.DUMMY, "safety net: person name"
    temporal = date_vr(tags[-1], vr)  # the dictionary's VR wins over the written one (Series Date as IS)
    if temporal in DATE_VRS:
        if ctx.full_dates:
            return Action.KEEP, "safety net: date (Retain Full Dates)"
        if ctx.shift_days is None:
            return Action.DUMMY, "safety net: date"
        return modified_date_action(tags[-1], Action.SHIFT, Action.REMOVE)
    if temporal == "TM":
        if ctx.shift_days is not None or ctx.full_dates:
            if vr != "TM":
                return Action.CLEAN, f"safety net: a time written as {vr}, kept if it reads as a time"
            return Action.KEEP, "safety net: time of day kept (whole-day date shift)"
        return Action.DUMMY, "safety net: time"
    if vr == "UI":
        if _kept_uid(ctx, elem):
            return Action.KEEP, (
                "safety net: a registered UID of a definition (PS3.6 Annex A), not an instance"
            )
        return Action.UID, "safety net: UID"
    if vr in {"AE", "UR"}:
        return Action.REMOVE, f"safety net: {vr} removed"
    if vr == "UN":
        return Action.REMOVE, "safety net: unknown content (UN) removed"
    for decided in (code_action(int(elem.tag), code), text_or_binary_action(ctx, elem, tags, mode)):
        if decided is not None:
            return decided
    return Action.KEEP, "not in Table E.1-1: kept"


def modified_date_action(tag: int, care: Action, other: Action) -> tuple[Action, str]:
    """Under Modified Dates, the action for a date by its kind (data/dates.csv): only the patient's care
    moves with the patient's shift. Any other date that someone can know from elsewhere would give the
    shift away if it moved too; kept as written near the care dates, it would give those away. So a public
    resource's version is kept (it lies nowhere near the care), and any other date takes the Basic Profile
    action (removed or replaced); a date of unknown kind is removed.

    `care` and `other`: the actions for those kinds (the table's C or the safety net's shift; the row's
    basic action resolved, or X for an unlisted attribute)."""
    kind = date_kind(tag)
    if kind is DateKind.CARE:
        return care, "a date of the patient's care: shifted (data/dates.csv)"
    why = f"{date_reason(tag)} (data/dates.csv)"
    if kind is DateKind.RESOURCE:
        return Action.KEEP, (
            "a date of a public resource, not of the patient's care: shifting it would reveal the patient's "
            f"shift, kept as written: {why}"
        )
    if kind is DateKind.OTHER:
        return other, f"not a date of the patient's care: shifting it would reveal the patient's shift: {why}"
    return Action.REMOVE, (
        "a date where the dictionary knows no date attribute: cannot tell care from resource, removed"
    )
