"""The PS3.15 Annex E option switches, their Table E.1-1 columns and their CID 7050 codes."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources


class Option(StrEnum):
    """One PS3.15 option. The value is the CLI/page name; see `COLUMN` and `code` for the standard's side."""

    RETAIN_SAFE_PRIVATE = "retain-safe-private"  # E.3.10
    RETAIN_UIDS = "retain-uids"  # E.3.9
    RETAIN_DEVICE_IDENTITY = "retain-device-identity"  # E.3.8
    RETAIN_INSTITUTION_IDENTITY = "retain-institution-identity"  # E.3.11
    RETAIN_PATIENT_CHARACTERISTICS = "retain-patient-characteristics"  # E.3.7
    RETAIN_FULL_DATES = "retain-full-dates"  # E.3.6
    RETAIN_MODIFIED_DATES = "retain-modified-dates"  # E.3.6
    CLEAN_DESCRIPTORS = "clean-descriptors"  # E.3.5
    CLEAN_STRUCTURED_CONTENT = "clean-structured-content"  # E.3.4
    CLEAN_GRAPHICS = "clean-graphics"  # E.3.3
    CLEAN_PIXEL_DATA = "clean-pixel-data"  # E.3.1 (no column: acts on the pixels, Note 11)

    @property
    def column(self) -> str | None:
        """The option's column in Table E.1-1 (ps315_e11.csv), or None for Clean Pixel Data."""
        return COLUMN[self]

    @property
    def code(self) -> Code:
        return codes()[CODE_VALUE[self]]


COLUMN: dict[Option, str | None] = {
    Option.RETAIN_SAFE_PRIVATE: "rtn_safe_priv",
    Option.RETAIN_UIDS: "rtn_uids",
    Option.RETAIN_DEVICE_IDENTITY: "rtn_dev_id",
    Option.RETAIN_INSTITUTION_IDENTITY: "rtn_inst_id",
    Option.RETAIN_PATIENT_CHARACTERISTICS: "rtn_pat_chars",
    Option.RETAIN_FULL_DATES: "rtn_long_full_dates",
    Option.RETAIN_MODIFIED_DATES: "rtn_long_modif_dates",
    Option.CLEAN_DESCRIPTORS: "clean_desc",
    Option.CLEAN_STRUCTURED_CONTENT: "clean_struct_cont",
    Option.CLEAN_GRAPHICS: "clean_graph",
    Option.CLEAN_PIXEL_DATA: None,
}

CODE_VALUE: dict[Option, str] = {
    Option.CLEAN_PIXEL_DATA: "113101",
    Option.CLEAN_GRAPHICS: "113103",
    Option.CLEAN_STRUCTURED_CONTENT: "113104",
    Option.CLEAN_DESCRIPTORS: "113105",
    Option.RETAIN_FULL_DATES: "113106",
    Option.RETAIN_MODIFIED_DATES: "113107",
    Option.RETAIN_PATIENT_CHARACTERISTICS: "113108",
    Option.RETAIN_DEVICE_IDENTITY: "113109",
    Option.RETAIN_UIDS: "113110",
    Option.RETAIN_SAFE_PRIVATE: "113111",
    Option.RETAIN_INSTITUTION_IDENTITY: "113112",
}
BASIC_PROFILE_CODE = "113100"

# The seed's default: Basic Profile + Retain Longitudinal Temporal Information with Modified Dates + Clean
# Pixel Data; all private tags removed. (Clean Pixel Data is only *claimed* in the output when pixels were
# actually cleaned; see marking.py.)
DEFAULT_OPTIONS: frozenset[Option] = frozenset({Option.RETAIN_MODIFIED_DATES, Option.CLEAN_PIXEL_DATA})

# Options that cannot be combined: each asks for a different treatment of the same dates (PS3.15 E.3.6).
EXCLUSIVE: tuple[frozenset[Option], ...] = (
    frozenset({Option.RETAIN_FULL_DATES, Option.RETAIN_MODIFIED_DATES}),
)


@dataclass(frozen=True)
class Code:
    """A CID 7050 De-identification Method code (PS3.16)."""

    value: str
    scheme: str
    meaning: str


@cache
def codes() -> dict[str, Code]:
    text = resources.files("anonymizer").joinpath("data/deid_method_codes.csv").read_text("utf-8")
    return {
        r["code_value"]: Code(r["code_value"], r["coding_scheme_designator"], r["code_meaning"])
        for r in csv.DictReader(text.splitlines())
    }


def parse_options(names: list[str] | tuple[str, ...]) -> frozenset[Option]:
    """Options from their names; raises ValueError naming an unknown or conflicting one."""
    chosen: set[Option] = set()
    for name in names:
        try:
            chosen.add(Option(name.strip().lower()))
        except ValueError:
            known = ", ".join(o.value for o in Option)
            raise ValueError(f"unknown option {name!r}; known options: {known}") from None
    check_options(frozenset(chosen))
    return frozenset(chosen)


def check_options(options: frozenset[Option]) -> None:
    for group in EXCLUSIVE:
        if len(group & options) > 1:
            names = " and ".join(sorted(o.value for o in group))
            raise ValueError(f"options {names} cannot be combined (PS3.15 E.3.6)")
