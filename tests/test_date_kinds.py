"""data/dates.csv: every DA/DT attribute of the dictionary has a kind, decided by someone, with its reason."""

from __future__ import annotations

import csv
from importlib import resources

import pytest
from pydicom.datadict import DicomDictionary

from anonymizer.rules.date_kinds import DateKind, date_kind, date_reason, date_vr
from anonymizer.rules.table import load_table


def _rows() -> list[dict[str, str]]:
    text = resources.files("anonymizer").joinpath("data/dates.csv").read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def _tag(text: str) -> int:
    return int(text.replace(",", ""), 16)


def _newer_than_the_dictionary() -> set[int]:
    """Table E.1-1 rows that pydicom's dictionary does not know yet and the table treats as dates."""
    rows = load_table().rows
    tags = {_tag(r.tag): r for r in rows if "x" not in r.tag.lower() and r.tag[:4] != "gggg"}
    return {
        t
        for t, r in tags.items()
        if t not in DicomDictionary and r.options.get("rtn_long_modif_dates") == "C"
    }


def test_covers_exactly_the_dictionary_dates() -> None:
    """A new dictionary release with a new date attribute fails here until someone decides its kind."""
    listed = [_tag(r["tag"]) for r in _rows()]
    assert len(listed) == len(set(listed)), "a tag listed twice"
    expected = {tag for tag, entry in DicomDictionary.items() if entry[0] in ("DA", "DT")}
    expected |= _newer_than_the_dictionary()
    assert set(listed) - expected == set(), "rows for attributes that are not DA/DT dates"
    missing = sorted(f"({t >> 16:04X},{t & 0xFFFF:04X})" for t in expected - set(listed))
    assert missing == [], "dictionary dates without a kind in data/dates.csv"


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["keyword"])
def test_row_matches_the_dictionary_and_has_a_reason(row: dict[str, str]) -> None:
    tag = _tag(row["tag"])
    if tag in DicomDictionary:
        vr, _, name, _, keyword = DicomDictionary[tag]
        assert (row["vr"], row["name"], row["keyword"]) == (vr, name, keyword)
    else:  # a Table E.1-1 row newer than the dictionary: named as the table names it
        table_row = load_table().by_tag[tag]
        assert (row["name"], row["keyword"]) == (table_row.name, table_row.keyword)
        assert row["vr"] in ("DA", "DT")
    assert row["kind"] in {k.value for k in DateKind}
    assert len(row["reason"].strip()) >= 20, "every row says why"


@pytest.mark.parametrize(
    ("tag", "kind"),
    [
        (0x00080106, DateKind.RESOURCE),  # Context Group Version: the leak
        (0x00080107, DateKind.RESOURCE),  # Context Group Local Version
        (0x0040DB06, DateKind.RESOURCE),  # Template Version
        (0x0040DB07, DateKind.RESOURCE),  # Template Local Version
        (0x00181200, DateKind.OTHER),  # Date of Last Calibration: common to a scanner's patients
        (0x01000420, DateKind.OTHER),  # SOP Authorization DateTime
        (0x0044000B, DateKind.OTHER),  # Product Expiration DateTime (a contrast agent's lot)
        (0x00080020, DateKind.CARE),  # Study Date
        (0x0008002A, DateKind.CARE),  # Acquisition DateTime
        (0x00400244, DateKind.CARE),  # Performed Procedure Step Start Date
        (0x00100030, DateKind.CARE),  # Patient's Birth Date (Z in the table all the same)
        (0x0040B034, DateKind.CARE),  # Annotation DateTime: in Table E.1-1, newer than pydicom's dictionary
    ],
)
def test_kinds_of_known_attributes(tag: int, kind: DateKind) -> None:
    assert date_kind(tag) is kind


def test_reason_is_loaded_with_the_kind() -> None:
    assert "Context Group" in date_reason(0x00080106)
    assert date_reason(0x00100010) == ""


def test_unknown_tags_have_no_kind() -> None:
    assert date_kind(0x00100010) is None  # Patient's Name: not a date
    assert date_kind(0x00331001) is None  # private
    assert date_kind(0x7FE10010) is None  # nothing the dictionary knows


def test_the_device_dates_of_the_table_are_other() -> None:
    """Table E.1-1 keeps these under Retain Device Identity: they describe the equipment, not the care."""
    device_dates = [
        row
        for row in load_table().rows
        if row.options.get("rtn_dev_id") == "K" and "x" not in row.tag.lower() and date_kind(_tag(row.tag))
    ]
    assert device_dates
    # Beam Hold Transition DateTime is K there too, yet it is a moment of this patient's treatment session.
    for row in (r for r in device_dates if r.keyword != "BeamHoldTransitionDateTime"):
        assert date_kind(_tag(row.tag)) is DateKind.OTHER, row.name


@pytest.mark.parametrize(
    ("tag", "written", "expected"),
    [
        (0x00080021, "IS", "DA"),  # Series Date written as IS by a buggy converter
        (0x00080012, "CS", "DA"),  # Instance Creation Date written as CS
        (0x0008002A, "LO", "DT"),
        (0x00080030, "SH", "TM"),  # Study Time
        (0x00080021, "UL", None),  # a number cannot take a date back (vr_fit.py refuses the file)
        (0x00080021, "TM", "DA"),
        (0x00080020, "DA", "DA"),
        (0x00100010, "PN", None),  # not a date, written as its own VR
        (0x00100010, "DA", "DA"),  # a date VR is a date VR whatever the dictionary says
        (0x00331001, "DT", "DT"),
        (0x00331001, "LO", None),
    ],
)
def test_date_vr_follows_the_dictionary(tag: int, written: str, expected: str | None) -> None:
    assert date_vr(tag, written) == expected
