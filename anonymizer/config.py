"""What a de-identification run is configured with: profile, options, key, clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .keys import SecretKey
from .options import DEFAULT_OPTIONS, Option, check_options

if TYPE_CHECKING:
    from .ctp_script import CtpScript

BASIC = "basic"
PACSBIN = "pacsbin"

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
    profile: str = BASIC  # "basic" or "pacsbin" (a CTP script, built-in or the user's)
    script: CtpScript | None = None  # the CTP script when profile == "pacsbin"
    clock: Callable[[], datetime] = field(default=_utc_now, compare=False)
    # Pixels were cleaned (redacted, or reviewed and confirmed clean); only then is 113101 claimed.
    pixels_cleaned: bool = False

    def __post_init__(self) -> None:
        check_options(self.options)
        if self.profile not in (BASIC, PACSBIN):
            raise ValueError(f"unknown profile {self.profile!r}")
        if self.profile == PACSBIN and self.script is None:
            raise ValueError("the pacsbin profile needs a script")

    def has(self, option: Option) -> bool:
        return option in self.options
