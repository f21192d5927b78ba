"""Profiles: the Basic Profile, and the frozen per-file context built from a file's profile.

A profile (context.Profile) says how UIDs map, how far dates move, which elements it decides itself, which
it adds, and how it names the method. The Basic Profile (PS3.15 E.1-1 with the chosen options) decides
nothing itself: every element goes through the walker's rules. The legacy Pacsbin script is pacsbin.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

from ..config import PACSBIN, Config, ProfileName
from ..rules.options import Option
from ..rules.pseudonyms import Derivations, patient_identity
from ..rules.scrub import compile_scrubber, identifiers
from ..rules.table import load_table
from .context import FileContext, Profile, Where
from .plan import Step

_DERIVATIONS: dict[bytes, Derivations] = {}


def derivations(config: Config) -> Derivations:
    """One Derivations per key, reused across files (it caches sub-keys and UID mappings)."""
    found = _DERIVATIONS.get(config.key.material)
    if found is None:
        if len(_DERIVATIONS) > 8:
            _DERIVATIONS.clear()
        found = _DERIVATIONS[config.key.material] = Derivations(config.key)
    return found


def _retained(config: Config) -> Callable[[int], bool]:
    """Attributes the chosen options keep (Retain Device Identity keeps Device Serial Number...): their
    values are not identifiers to blank elsewhere, or the scrub would undo what the user asked for."""
    table, options = load_table(), config.options

    def kept(tag: int) -> bool:
        row = table.lookup(tag)
        return row is not None and row.action(options)[0] == "K"

    return kept


@dataclass(frozen=True)
class BasicProfile:
    """PS3.15 E.1-1: keyed UID mapping (E.3.9 not chosen) and the patient's keyed date shift (E.3.6)."""

    derive: Derivations
    shift_days: int | None  # None unless Retain Longitudinal Temporal Information with Modified Dates

    @property
    def name(self) -> ProfileName:
        return ProfileName.BASIC

    def map_uid(self, uid: str) -> str:
        return self.derive.uid(uid)

    def override(self, ctx: FileContext, elem: DataElement, where: Where) -> Step | None:
        return None

    def created(self) -> tuple[Step, ...]:
        return ()

    def method(self) -> list[str] | None:
        return None


def profile_for(ds: Dataset, config: Config) -> Profile:
    """The configured profile, bound to this file (its patient's shift; the script's view of its values)."""
    derive = derivations(config)
    shift = derive.date_shift_days(patient_identity(ds)) if config.has(Option.RETAIN_MODIFIED_DATES) else None
    basic = BasicProfile(derive, shift)
    if config.profile == PACSBIN:
        from ..legacy.pacsbin import (
            pacsbin_profile,  # the CTP machinery is loaded only for the legacy profile
        )

        return pacsbin_profile(ds, config, shift)
    return basic


def file_context(ds: Dataset, config: Config) -> FileContext:
    profile = profile_for(ds, config)
    return FileContext(
        config=config,
        derive=derivations(config),
        sop_class=str(ds.get("SOPClassUID", "")).strip() or None,
        patient=patient_identity(ds),
        shift_days=profile.shift_days,
        scrubber=compile_scrubber(identifiers(ds, kept=_retained(config))),
        map_uid=profile.map_uid,
        profile=profile,
    )
