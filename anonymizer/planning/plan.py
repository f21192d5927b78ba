"""The plan: for every element of one file, the rule that applies, the action, and the new value.

Deciding (planner.py) is kept apart from changing the data set (apply.py), so the CLI's --what-if, the review
screen and the server's re-check all read the same plan. A plan holds no secrets: only original and derived
values. Steps and plans are frozen: a rule that changes a decision makes a new step.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..config import ProfileName

_SHOW = 64  # characters of a value shown in a plan


def show(value: Any, vr: str) -> str:
    """A short, printable form of an element value for plans and the review screen."""
    if value is None:
        return ""
    if vr == "SQ":
        return f"<{len(value)} item{'s' if len(value) != 1 else ''}>"
    if isinstance(value, (bytes, bytearray, memoryview)):  # a large Pixel Data is a view of the input
        return f"<{len(value)} bytes>"
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        text = "\\".join(str(v) for v in value)
    else:
        text = str(value)
    return text if len(text) <= _SHOW else text[: _SHOW - 1] + "…"


class Action(StrEnum):
    """What a step does. The letters are PS3.15 Table E.1-1a's action codes; the words are this product's
    named operations (each writes a value of its own kind, and the review screen shows the name)."""

    REMOVE = "X"
    ZERO = "Z"
    DUMMY = "D"
    KEEP = "K"
    CLEAN = "C"
    UID = "U"
    SHIFT = "shift"  # Retain Longitudinal Temporal Information with Modified Dates (E.3.6)
    PSEUDONYM = "pseudonym"  # Patient's Name and ID: a keyed pseudonym (a D value)
    LOCAL_CODE = "local-code"  # a code of a private or local scheme (unlisted_rules.py)
    MARK = "mark"  # the de-identification marks (marking.py) and required file meta (PS3.10 7.1)
    # The legacy Pacsbin script's value operations (ctp.py): the value CTP computes.
    CTP_HASH = "ctp:hash"
    CTP_HASHUID = "ctp:hashuid"
    CTP_HASHDATE = "ctp:hashdate"
    CTP_PARAM = "ctp:param"
    CTP_ALWAYS = "ctp:always"
    CTP_APPEND = "ctp:append"

    @classmethod
    def ctp(cls, operation: str) -> Action:
        """The action of a CTP script operation that writes a value (ValueError for any other)."""
        return cls(f"ctp:{operation}")


REMOVED = Action.REMOVE
KEEP = Action.KEEP


@dataclass(frozen=True, slots=True)
class Step:
    """What happens to one element."""

    path: str  # "(0040,A730)[0]>(0040,A160)"
    tag: int
    keyword: str
    vr: str
    action: Action
    rule: str  # the rule that decided it, e.g. "E.1-1 (0010,0010) Patient's Name: Z"
    old: Any = field(default=None, repr=False)
    new: Any = field(default=None, repr=False)  # the value to write; unused when removed or kept
    items: tuple[tuple[Step, ...], ...] | None = None  # per-item plans of a sequence cleaned, not replaced
    created: bool = False  # the element is added (not in the input)

    @classmethod
    def setting(
        cls,
        tag: int,
        keyword: str,
        vr: str,
        value: Any,
        rule: str,
        *,
        action: Action = Action.MARK,
        old: Any = None,
        created: bool = True,
    ) -> Step:
        """A step that writes a value at the top level (a mark, a required meta element, a created one)."""
        return cls(
            path=f"({tag >> 16:04X},{tag & 0xFFFF:04X})",
            tag=tag,
            keyword=keyword,
            vr=vr,
            action=action,
            rule=rule,
            old=old,
            new=value,
            created=created,
        )

    @property
    def removed(self) -> bool:
        return self.action == REMOVED

    @property
    def changed(self) -> bool:
        return not self.removed and self.action != Action.KEEP and self.items is None

    def walk(self) -> list[Step]:
        out = [self]
        for item in self.items or []:
            for step in item:
                out.extend(step.walk())
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "tag": f"{self.tag >> 16:04X}{self.tag & 0xFFFF:04X}",
            "keyword": self.keyword,
            "vr": self.vr,
            "action": self.action.value,
            "rule": self.rule,
            "old": "" if self.created else show(self.old, self.vr),
            "new": None if self.removed else show(self.old if self.action == KEEP else self.new, self.vr),
        }


@dataclass(frozen=True)
class Plan:
    """The plan for one file."""

    meta: tuple[Step, ...]
    dataset: tuple[Step, ...]
    profile: ProfileName
    options: tuple[str, ...]
    codes: tuple[str, ...]  # CID 7050 code values this output will carry
    flags: tuple[str, ...] = ()  # things a reviewer must see (not errors)
    preamble_zeroed: bool = True
    redacted: int = 0  # (rectangle, frame) fills of pixel data made by the reviewer's regions

    def steps(self) -> list[Step]:
        out: list[Step] = []
        for step in [*self.meta, *self.dataset]:
            out.extend(step.walk())
        return out

    def counts(self) -> dict[str, int]:
        tally = Counter(
            "removed" if s.removed else "kept" if s.action == KEEP or s.items is not None else "changed"
            for s in self.steps()
        )
        return {"changed": tally["changed"], "removed": tally["removed"], "kept": tally["kept"]}

    def to_json(self) -> str:
        return json.dumps(
            {
                "profile": self.profile.value,
                "options": list(self.options),
                "codes": list(self.codes),
                "flags": list(self.flags),
                "counts": self.counts(),
                "redacted": self.redacted,
                "steps": [s.to_dict() for s in self.steps()],
            },
            indent=1,
            ensure_ascii=False,
        )

    def format_text(self) -> str:
        lines = [f"profile: {self.profile}; options: {', '.join(self.options) or '(none)'}"]
        lines += [f"flag: {f}" for f in self.flags]
        for step in self.steps():
            d = step.to_dict()
            new = "<removed>" if d["new"] is None else d["new"]
            lines.append(
                f"{d['path']:<40} {d['vr']:<2} {d['action']:<9} {d['old']!s:<30} -> {new}  [{d['rule']}]"
            )
        c = self.counts()
        lines.append(f"{c['changed']} changed, {c['removed']} removed, {c['kept']} kept")
        return "\n".join(lines)
