"""PS3.15 Table E.1-1 (2026d), loaded once from the packaged CSV, and the action each row asks for.

The CSV is the standard's table as data (see data/SOURCES-standard.md for edition and provenance).
This module only answers "which row covers this tag" and "which action code applies under these options";
what the codes do is in actions.py, and compound codes are resolved against the IOD in iod_types.py.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

from .options import COLUMN, Option

# When several chosen options give an action for one row, the one that retains more wins (the user asked
# to retain that class of information): K > C > the Basic Profile action.
_RETENTION = {"K": 2, "C": 1}


@dataclass(frozen=True)
class Row:
    """One row of Table E.1-1."""

    tag: str  # as printed: "0010,0010", "50xx,xxxx", "60xx,3000", "gggg,eeee"
    keyword: str
    name: str
    retired: bool
    basic: str
    options: dict[str, str]  # column name -> action code, only the non-blank option cells
    reason: str = ""  # set for the product's own rules (data/extra_rules.csv), empty for E.1-1 rows

    def action(self, chosen: frozenset[Option]) -> tuple[str, Option | None]:
        """The action code for this row under the chosen options, and the option that set it (if any)."""
        best: tuple[str, Option | None] = (self.basic, None)
        for option in sorted(chosen, key=lambda o: o.value):
            column = COLUMN[option]
            code = self.options.get(column) if column else None
            if code and _RETENTION.get(code, 0) > _RETENTION.get(best[0], 0):
                best = (code, option)
        return best

    @property
    def label(self) -> str:
        if self.reason:
            return f"product rule ({self.tag}) {self.name}"
        return f"E.1-1 ({self.tag}) {self.name}"


@dataclass(frozen=True)
class Table:
    rows: tuple[Row, ...]
    by_tag: dict[int, Row]
    curve: Row  # 50xx,xxxx
    overlay_data: Row  # 60xx,3000
    overlay_comments: Row  # 60xx,4000
    private: Row  # gggg,eeee (odd group)

    def lookup(self, tag: int) -> Row | None:
        """The row that covers a standard (even group) tag, wildcard rows included."""
        row = self.by_tag.get(tag)
        if row is not None:
            return row
        group, elem = tag >> 16, tag & 0xFFFF
        if is_repeating_group(group, 0x5000):
            return self.curve
        if is_repeating_group(group, 0x6000):
            if elem == 0x3000:
                return self.overlay_data
            if elem == 0x4000:
                return self.overlay_comments
        return None


@cache
def action_codes() -> dict[str, str]:
    """Table E.1-1a (data/action_codes.csv): each action code a row of Table E.1-1 may give, and its
    meaning. A row with any other code fails the load, so a mistyped table cannot reach a file."""
    text = resources.files("anonymizer").joinpath("data/action_codes.csv").read_text("utf-8")
    return {r["action_code"]: r["meaning"] for r in csv.DictReader(text.splitlines())}


def is_repeating_group(group: int, base: int) -> bool:
    """True for the even groups base..base+0x1E (PS3.5 7.6: repeating groups 50xx and 60xx)."""
    return base <= group <= base + 0x1E and group % 2 == 0


@cache
def load_table() -> Table:
    text = resources.files("anonymizer").joinpath("data/ps315_e11.csv").read_text("utf-8")
    option_columns = [c for c in COLUMN.values() if c]
    rows: list[Row] = []
    for r in csv.DictReader(text.splitlines()):
        row = Row(
            tag=r["tag"],
            keyword=r["keyword"],
            name=r["name"],
            retired=r["retired"] == "Y",
            basic=r["basic"],
            options={c: r[c] for c in option_columns if r[c]},
        )
        for code in (row.basic, *row.options.values()):
            if code not in action_codes():
                raise ValueError(f"Table E.1-1 row {row.tag}: unknown action code {code!r}")
        rows.append(row)
    by_tag_extra = _extra_rows(option_columns)
    specials = {r.tag.lower(): r for r in rows if "x" in r.tag.lower() or r.tag.lower() == "gggg,eeee"}
    by_tag = {int(r.tag.replace(",", ""), 16): r for r in rows if r.tag.lower() not in specials}
    for tag, row in by_tag_extra.items():
        if tag in by_tag:
            raise ValueError(f"extra_rules.csv repeats Table E.1-1 row {row.tag}")
        by_tag[tag] = row
    return Table(
        rows=tuple(rows),
        by_tag=by_tag,
        curve=specials["50xx,xxxx"],
        overlay_data=specials["60xx,3000"],
        overlay_comments=specials["60xx,4000"],
        private=specials["gggg,eeee"],
    )


def _extra_rows(option_columns: list[str]) -> dict[int, Row]:
    """The product's own rules beyond Table E.1-1 (E.1-1 Note 1: the table may not be sufficient).

    Free text that users type into presentation states and annotations, which the table does not list;
    each row says why. Same columns and action codes as Table E.1-1.
    """
    text = resources.files("anonymizer").joinpath("data/extra_rules.csv").read_text("utf-8")
    out = {}
    for r in csv.DictReader(text.splitlines()):
        row = Row(
            tag=r["tag"],
            keyword=r["keyword"],
            name=r["name"],
            retired=False,
            basic=r["basic"],
            options={c: r[c] for c in option_columns if r.get(c)},
            reason=r["reason"],
        )
        out[int(row.tag.replace(",", ""), 16)] = row
    return out
