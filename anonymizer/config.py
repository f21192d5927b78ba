"""What a de-identification run is configured with: profile, options, key, clock.

`build_config` is the one place a Config is made from a user's choice (the CLI's arguments, the page's
settings, the server's reading of an upload): the legacy profile loads its CTP script there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from .keys import SecretKey
from .rules.options import DEFAULT_OPTIONS, Option, check_options

if TYPE_CHECKING:
    from .legacy.ctp_script import CtpScript


class ProfileName(StrEnum):
    """The profile a file is de-identified under (profiles.py, pacsbin.py)."""

    BASIC = "basic"  # PS3.15 E.1-1 Basic Application Level Confidentiality Profile with the chosen options
    PACSBIN = "pacsbin"  # the legacy Pacsbin CTP script, the Basic Profile wherever the script is silent


BASIC = ProfileName.BASIC
PACSBIN = ProfileName.PACSBIN

PACSBIN_WARNING = (
    "The Pacsbin legacy profile hashes Patient ID, names and UIDs with unkeyed MD5: anyone holding a list of "
    "patient IDs can link the output to them. Its UID root (1613192914) is not a registered root, so its "
    "UIDs are not valid DICOM UIDs. Use it only to match data Pacsbin already holds."
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Config:
    """Everything that decides the output. Two runs with equal configs give identical bytes."""

    key: SecretKey
    options: frozenset[Option] = DEFAULT_OPTIONS
    profile: ProfileName = BASIC  # a plain "basic" or "pacsbin" is accepted and made a ProfileName
    script: CtpScript | None = None  # the CTP script when profile is PACSBIN (built-in or the user's)
    clock: Callable[[], datetime] = field(default=_utc_now, compare=False)
    # Pixels were cleaned (redacted, or reviewed and confirmed clean); only then is 113101 claimed.
    pixels_cleaned: bool = False

    def __post_init__(self) -> None:
        check_options(self.options)
        if self.profile not in tuple(ProfileName):
            raise ValueError(f"unknown profile {self.profile!r}")
        object.__setattr__(self, "profile", ProfileName(self.profile))
        if self.profile == PACSBIN and self.script is None:
            raise ValueError("the pacsbin profile needs a script")

    def has(self, option: Option) -> bool:
        return option in self.options


def build_config(
    key: SecretKey,
    options: frozenset[Option],
    profile: str = BASIC,
    *,
    script: CtpScript | None = None,
    clock: Callable[[], datetime] | None = None,
    pixels_cleaned: bool = False,
) -> Config:
    """The configuration for a profile chosen by name: the legacy profile runs `script` (a CTP script the
    user gave) or, by default, the built-in Pacsbin script. ValueError for an unknown profile name."""
    if profile not in tuple(ProfileName):
        raise ValueError(f"unknown profile {profile!r}")
    if profile == PACSBIN and script is None:
        # Imported here: the Basic Profile (the page's default) never needs the script loader.
        from .legacy.ctp_script import load_builtin_pacsbin

        script = load_builtin_pacsbin()
    return Config(
        key=key,
        options=options,
        profile=ProfileName(profile),
        script=script if profile == PACSBIN else None,
        clock=clock or _utc_now,
        pixels_cleaned=pixels_cleaned,
    )
