"""Table E.1-1 as data: every row loaded, looked up, and its action under each option."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from anonymizer.rules.options import COLUMN, DEFAULT_OPTIONS, Option
from anonymizer.rules.table import action_codes, load_table

CSV = Path(__file__).resolve().parent.parent / "anonymizer" / "data" / "ps315_e11.csv"
ROWS = list(csv.DictReader(CSV.open(newline="")))


def test_all_657_rows_load() -> None:
    table = load_table()
    assert len(table.rows) == 657 == len(ROWS)
    standard = [r for r in table.by_tag.values() if not r.reason]
    assert len(standard) == 653  # 657 less 50xx,xxxx, 60xx,3000, 60xx,4000, gggg,eeee
    assert all(
        r.reason and r.label.startswith("product rule") for r in table.by_tag.values() if r not in standard
    )


def test_action_codes_are_table_e1_1a() -> None:
    """The codes come from the shipped Table E.1-1a (data/action_codes.csv), each with its meaning; every
    compound code is one iod_types.py resolves by the attribute's Type."""
    from anonymizer.rules.iod_types import _RESOLUTION

    codes = action_codes()
    assert set(codes) == {"D", "Z", "X", "K", "C", "U", "Z/D", "X/Z", "X/D", "X/Z/D", "X/Z/U*"}
    assert codes["X/Z/U*"].startswith("X unless Z or replacement of contained instance UIDs")
    assert {c for c in codes if "/" in c} <= set(_RESOLUTION)
    used = {code for row in load_table().rows for code in (row.basic, *row.options.values())}
    assert used <= set(codes)


@pytest.mark.parametrize("row", ROWS, ids=[r["tag"] for r in ROWS])
def test_every_row_is_found_by_its_tag(row: dict[str, str]) -> None:
    table = load_table()
    tag = row["tag"].lower()
    if tag == "gggg,eeee":
        assert table.private.basic == row["basic"] == "X"
        return
    concrete = int(tag.replace("xx", "02").replace(",", ""), 16)  # e.g. 60xx,3000 -> 6002,3000
    found = table.lookup(concrete)
    assert found is not None and found.tag == row["tag"]
    assert found.basic == row["basic"] and found.basic in action_codes()


@pytest.mark.parametrize("option", [o for o in Option if o.column], ids=lambda o: o.value)
@pytest.mark.parametrize("row", ROWS, ids=[r["tag"] for r in ROWS])
def test_option_column_decides(row: dict[str, str], option: Option) -> None:
    table_row = next(r for r in load_table().rows if r.tag == row["tag"])
    code, chosen_by = table_row.action(frozenset({option}))
    cell = row[COLUMN[option] or ""]
    if cell:
        assert (code, chosen_by) == (cell, option)
    else:
        assert (code, chosen_by) == (row["basic"], None)


def test_retaining_option_wins_over_cleaning() -> None:
    row = load_table().lookup(0x00080020)  # Study Date: Basic Z, Full Dates K, Modified Dates C
    assert row is not None
    assert row.action(DEFAULT_OPTIONS) == ("C", Option.RETAIN_MODIFIED_DATES)
    assert row.action(frozenset({Option.RETAIN_FULL_DATES})) == ("K", Option.RETAIN_FULL_DATES)
    assert row.action(frozenset()) == ("Z", None)


@pytest.mark.parametrize("tag", [0x50000010, 0x501E3000, 0x60003000, 0x601E4000])
def test_wildcard_rows(tag: int) -> None:
    row = load_table().lookup(tag)
    assert row is not None and row.basic == "X"


@pytest.mark.parametrize("tag", [0x50200010, 0x60013000, 0x60203000, 0x60000010])
def test_not_wildcard_rows(tag: int) -> None:
    assert load_table().lookup(tag) is None
