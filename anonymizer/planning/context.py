"""What the decisions for one file depend on: a frozen context built once per file from its profile.

The context holds inputs only. What planning produces (steps, flags) is returned by the planner; what a
profile adds to a file (created elements, its own De-identification Method) is read from the profile by
the planner (planner.py), never written onto the context.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from pydicom.dataelem import DataElement

from ..config import Config, ProfileName
from ..rules.options import Option
from ..rules.pseudonyms import Derivations, is_well_known_uid
from ..rules.scrub import Scrubber
from .plan import Step


class Mode(StrEnum):
    """How the items of the sequence an element is in are cleaned (actions.py's docstring)."""

    NORMAL = "normal"  # the normal rules (top level, and inside K and U sequences)
    DUMMY = "dummy"  # inside a D sequence: unlisted free text replaced
    CLEAN = "clean"  # inside a C sequence: unlisted free text scrubbed


@dataclass(frozen=True)
class Where:
    """Where an element is and which rule decided its fate."""

    path: str
    tags: tuple[int, ...]  # tag path from the top level, this element last
    rule: str
    mode: Mode


class Profile(Protocol):
    """A profile bound to one file: how its UIDs map, how far its dates move, which elements it decides
    itself, which it adds, and how it names what was done. The Basic Profile (profiles.py) and the legacy
    Pacsbin script (pacsbin.py) implement it."""

    @property
    def name(self) -> ProfileName: ...

    @property
    def shift_days(self) -> int | None:
        """Days every date of the patient's care moves, or None when dates are not shifted."""

    def map_uid(self, uid: str) -> str:
        """The UID written in place of `uid` (the same everywhere in the file and in the study)."""

    def override(self, ctx: FileContext, elem: DataElement, where: Where) -> Step | None:
        """The profile's own step for an element, or None to leave it to the Basic Profile's rules."""

    def created(self) -> tuple[Step, ...]:
        """Elements the profile adds to the file (CTP's `always` for an absent element)."""

    def method(self) -> list[str] | None:
        """De-identification Method (0012,0063) text, or None for the Basic Profile's own (marking.py)."""


@dataclass(frozen=True)
class FileContext:
    """Everything the decisions for one file's elements depend on, fixed before the walk begins."""

    config: Config
    derive: Derivations
    sop_class: str | None
    patient: str
    shift_days: int | None  # None unless dates are shifted
    scrubber: Scrubber | None
    map_uid: Callable[[str], str]
    profile: Profile

    @property
    def retain_uids(self) -> bool:
        return self.config.has(Option.RETAIN_UIDS)

    @property
    def full_dates(self) -> bool:
        return self.config.has(Option.RETAIN_FULL_DATES)

    def is_well_known(self, uid: str) -> bool:
        return is_well_known_uid(uid.strip())
