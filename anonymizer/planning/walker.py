"""Deciding the plan: every element of a data set, at every depth, gets a rule and an action.

Order of rules for one element (PS3.15 E.1-1 and this product's stricter defaults):
1. private elements (odd groups) and private creators: removed, unless Retain Safe Private keeps one
   listed in Table E.3.10-1 (with its creator);
2. group lengths (gggg,0000): removed (they would be wrong after changes; retired in PS3.5 7.2);
3. curve groups 50xx and overlay groups 60xx: removed whole, not just their data (E.1-1 rows 50xx,xxxx and
   60xx,3000: removing only the data leaves an invalid overlay);
4. an attribute listed in Table E.1-1: its action under the chosen options, compound codes resolved by the
   attribute's Type in the file's IOD (iod_types.py);
5. anything else: kept, with the safety net by VR (actions.unlisted_action).
A profile (e.g. the Pacsbin script) may take an element first (`Profile.override`, context.py). The walker
plans the items of a sequence itself, under the mode its action gives (actions.SEQUENCE_ITEMS).
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

from ..errors import UnsupportedError
from ..rules.actions import ACTIONS, SEQUENCE_ITEMS, keyword_of, modified_date_action, unlisted_action
from ..rules.date_kinds import DATE_VRS, DateKind, date_kind, date_vr
from ..rules.iod_types import resolve
from ..rules.options import Option
from ..rules.table import Row, is_repeating_group, load_table
from ..rules.unlisted_rules import is_local_code
from .context import FileContext, Mode, Where
from .plan import Action, Step

MAX_DEPTH = 64
PATIENT_PSEUDONYM_TAGS = {0x00100010, 0x00100020}  # Patient's Name, Patient ID (top level)


@cache
def _safe_private() -> frozenset[tuple[int, str, int]]:
    """Table E.3.10-1 as (group, private creator, element low byte)."""
    text = resources.files("anonymizer").joinpath("data/safe_private.csv").read_text("utf-8")
    out = set()
    for r in csv.DictReader(text.splitlines()):
        group, elem = r["tag"].split(",")
        out.add((int(group, 16), r["private_creator"].strip().upper(), int(elem[-2:], 16)))
    return frozenset(out)


def tag_text(tag: int) -> str:
    text = _TAG_TEXT.get(tag)
    if text is None:
        text = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
        if len(_TAG_TEXT) < 1 << 14:  # bounded: a hostile file's thousands of made-up tags are not kept
            _TAG_TEXT[tag] = text
    return text


_TAG_TEXT: dict[int, str] = {}  # (gggg,eeee) by tag: the same few hundred tags in every file


def plan_dataset(ctx: FileContext, ds: Dataset, tags: tuple[int, ...], path: str, mode: Mode) -> list[Step]:
    """The steps for every element of `ds` (a file's data set, or an item at tag path `tags`)."""
    if len(tags) > MAX_DEPTH:
        raise UnsupportedError(f"sequences nested deeper than {MAX_DEPTH} levels at {path}")
    kept_creators = _kept_private_creators(ctx, ds)
    code = is_local_code(ds)
    retain_private = ctx.config.has(Option.RETAIN_SAFE_PRIVATE)
    private_rule = f"{load_table().private.label}: X"
    steps = []
    # items(): the elements as stored, a private one not converted (it may not even be parseable)
    for tag, stored in sorted(ds.items(), key=_tag_key):
        if tag & 0x10000 and not retain_private:
            steps.append(_removed_private(int(tag), stored.VR, stored.value, path, private_rule))
            continue
        # The reader converted every public element (reading/reader.py _touch): the stored element is the
        # one ds[tag] returns, without pydicom's Tag() and lookups (a raw one takes ds[tag]).
        elem = stored if type(stored) is DataElement else ds[tag]
        steps.append(plan_element(ctx, ds, elem, tags, path, mode, kept_creators, code))
    return steps


def _tag_key(item: tuple[int, object]) -> int:
    return int(item[0])


def _removed_private(tag: int, vr: str | None, value: object, parent_path: str, rule: str) -> Step:
    """A private element, removed without converting its value."""
    path = f"{parent_path}>{tag_text(tag)}" if parent_path else tag_text(tag)
    return Step(path=path, tag=tag, keyword="", vr=vr or "UN", action=Action.REMOVE, rule=rule, old=value)


def act(ctx: FileContext, elem: DataElement, where: Where, action: Action) -> Step:
    """The step of `action` for the element; a sequence the action keeps has its items planned here."""
    if elem.VR == "SQ" and action in SEQUENCE_ITEMS:
        mode, shown = SEQUENCE_ITEMS[action]
        items = tuple(
            tuple(plan_dataset(ctx, item, where.tags, f"{where.path}[{i}]", mode))
            for i, item in enumerate(elem.value)
        )
        return Step(
            path=where.path,
            tag=int(elem.tag),
            keyword=keyword_of(int(elem.tag)),
            vr="SQ",
            action=shown,
            rule=where.rule,
            old=elem.value,
            items=items,
        )
    return ACTIONS[action](ctx, elem, where)


def plan_element(
    ctx: FileContext,
    ds: Dataset,
    elem: DataElement,
    parent: tuple[int, ...],
    parent_path: str,
    mode: Mode,
    kept_creators: set[int],
    code: bool | None = None,
) -> Step:
    tag = int(elem.tag)
    tags = (*parent, tag)
    path = f"{parent_path}>{tag_text(tag)}" if parent_path else tag_text(tag)
    group, element = tag >> 16, tag & 0xFFFF
    table = load_table()

    if group % 2 == 1:
        rule = _private_rule(ctx, ds, elem, kept_creators)
        return act(ctx, elem, Where(path, tags, rule, mode), _private_action(ctx, ds, elem, kept_creators))
    if element == 0:
        return act(ctx, elem, Where(path, tags, "group length: removed (PS3.5 7.2)", mode), Action.REMOVE)
    if is_repeating_group(group, 0x5000) or is_repeating_group(group, 0x6000):
        row = table.lookup(tag)
        label = row.label if row and row.tag.lower() != "50xx,xxxx" else ""
        what = "curve" if group < 0x6000 else "overlay"
        rule = f"{label or f'{what} group {group:04X}'}: {what} removed whole (E.1-1 50xx/60xx)"
        return act(ctx, elem, Where(path, tags, rule, mode), Action.REMOVE)
    if group == 0x0002:
        return act(ctx, elem, Where(path, tags, "file meta element inside the data set", mode), Action.REMOVE)

    step = ctx.profile.override(ctx, elem, Where(path, tags, "", mode))
    if step is not None:
        return step

    row = table.lookup(tag)
    if row is not None:
        action, rule = _table_action(ctx, row, tags, elem)
        if not parent and tag in PATIENT_PSEUDONYM_TAGS and action in {Action.ZERO, Action.DUMMY}:
            action, rule = Action.PSEUDONYM, rule + "; keyed pseudonym (a dummy value)"
    else:
        action, rule = unlisted_action(ctx, elem, mode, tags, code)
    return act(ctx, elem, Where(path, tags, rule, mode), action)


def _table_action(ctx: FileContext, row: Row, tags: tuple[int, ...], elem: DataElement) -> tuple[Action, str]:
    code, option = row.action(ctx.config.options)
    rule = f"{row.label}: {code}" + (f" ({option.value})" if option else "")
    resolved, why = resolve(code, ctx.sop_class, tags)
    action = Action(resolved)
    if why:
        rule += f" -> {action}, {why}"
    if action == Action.CLEAN and date_vr(int(elem.tag), elem.VR) in DATE_VRS:
        if ctx.shift_days is None:
            action = Action.DUMMY
        else:
            # Only the patient's care moves with the shift (data/dates.csv); a date of another kind takes
            # the row's Basic Profile action, resolved like any other.
            basic, basic_why = resolve(row.basic, ctx.sop_class, tags)
            action, why = modified_date_action(int(elem.tag), Action.CLEAN, Action(basic))
            if action != Action.CLEAN:
                rule += f" -> {action}, {why}"
                if date_kind(int(elem.tag)) is DateKind.OTHER:
                    rule += f" (basic {row.basic}" + (f", {basic_why})" if basic_why else ")")
    return action, rule


# -- private elements -------------------------------------------------------------------------------
def _creator(ds: Dataset, tag: int) -> str | None:
    group, element = tag >> 16, tag & 0xFFFF
    creator = ds.get((group, element >> 8))
    return None if creator is None else str(creator.value).strip().upper()


def _is_safe(ds: Dataset, elem: DataElement) -> bool:
    tag = int(elem.tag)
    group, element = tag >> 16, tag & 0xFFFF
    if element < 0x1000:
        return False
    creator = _creator(ds, tag)
    return creator is not None and (group, creator, element & 0xFF) in _safe_private()


def _kept_private_creators(ctx: FileContext, ds: Dataset) -> set[int]:
    if not ctx.config.has(Option.RETAIN_SAFE_PRIVATE):
        return set()
    kept = set()
    for elem in ds:
        if elem.tag.group % 2 == 1 and elem.tag.element >= 0x1000 and _is_safe(ds, elem):
            kept.add((elem.tag.group << 16) | (elem.tag.element >> 8))
    return kept


def _private_action(ctx: FileContext, ds: Dataset, elem: DataElement, kept_creators: set[int]) -> Action:
    if not ctx.config.has(Option.RETAIN_SAFE_PRIVATE):
        return Action.REMOVE
    if 0x10 <= elem.tag.element <= 0xFF:
        return Action.KEEP if int(elem.tag) in kept_creators else Action.REMOVE
    return Action.KEEP if _is_safe(ds, elem) and elem.VR != "SQ" else Action.REMOVE


def _private_rule(ctx: FileContext, ds: Dataset, elem: DataElement, kept_creators: set[int]) -> str:
    row = load_table().private
    if _private_action(ctx, ds, elem, kept_creators) == Action.KEEP:
        return f"{row.label}: C (retain-safe-private, Table E.3.10-1)"
    return f"{row.label}: X"
