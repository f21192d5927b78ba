"""CTP's burned-in annotation library: parsed as data, conditions evaluated as CTP does."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from redaction.errors import SignatureScriptError
from redaction.rectangles import Rect
from redaction.signatures import library, parse_library, suggested_regions


def _ds(**values: object) -> Dataset:
    ds = Dataset()
    for k, v in values.items():
        setattr(ds, k, v)
    return ds


def test_the_whole_library_parses() -> None:
    signatures = library()
    assert len(signatures) == 52
    assert all(s.rects for s in signatures)


@pytest.mark.parametrize(
    ("values", "rects"),
    [
        (
            {"Manufacturer": "GE MEDICAL SYSTEMS", "BurnedInAnnotation": "YES", "Rows": 512, "Columns": 512},
            [Rect(0, 0, 512, 25)],
        ),
        (
            {
                "Manufacturer": "GE MEDICAL SYSTEMS",
                "BurnedInAnnotation": "YES",
                "Rows": 1024,
                "Columns": 1024,
            },
            [Rect(0, 0, 300, 150), Rect(724, 0, 300, 150)],
        ),
        (
            {"SeriesDescription": "Patient Protocol dose report", "Rows": 512, "Columns": 512},
            [Rect(0, 0, 512, 110)],
        ),
        (
            {"ImageType": ["DERIVED", "SECONDARY", "VOLREN"], "Rows": 512, "Columns": 512},
            [Rect(350, 0, 162, 30), Rect(390, 80, 122, 15)],
        ),
        (
            {
                "Modality": "PT",
                "Manufacturer": "Philips Medical Systems",
                "ManufacturerModelName": "GEMINI",
                "Rows": 446,
                "Columns": 245,
            },
            [Rect(0, 0, 125, 50)],
        ),
        ({"Manufacturer": "Acme", "Rows": 512, "Columns": 512}, []),
    ],
)
def test_library_suggestions(values: dict[str, object], rects: list[Rect]) -> None:
    found = suggested_regions(_ds(**values))
    assert [r.rect for r in found] == rects
    assert all(r.source.startswith("CTP signature: ") for r in found)


LIB = """
 first
  { Modality.equals("US") * ( Manufacturer.containsIgnoreCase("acme") + !Rows.equals("10") ) }
  (0,0,5,5)
 second
  { [0008,0060].startsWith("U") }
  (-4,-3,4,3)
"""


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"Modality": "US", "Manufacturer": "ACME corp", "Rows": 10}, "first"),
        ({"Modality": "US", "Manufacturer": "Other", "Rows": 12}, "first"),  # NOT Rows=10
        ({"Modality": "US", "Manufacturer": "Other", "Rows": 10}, "second"),
        ({"Modality": "CT", "Rows": 10}, None),
    ],
)
def test_operators_and_first_match_wins(values: dict[str, object], expected: str | None) -> None:
    values.setdefault("Columns", 20)
    found = suggested_regions(_ds(**values), parse_library(LIB))
    assert (found[0].source.removeprefix("CTP signature: ") if found else None) == expected


def test_negative_coordinates_count_from_the_right_and_bottom() -> None:
    found = suggested_regions(_ds(Modality="US", Manufacturer="x", Rows=10, Columns=20), parse_library(LIB))
    assert [r.rect for r in found] == [Rect(16, 7, 4, 3)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('x { Modality.sounds("US") } (0,0,1,1)', "unknown method"),
        ('x { NoSuchKeyword.equals("US") } (0,0,1,1)', "unknown element"),
        ('x { Modality.equals("US") * } (0,0,1,1)', "ends too early"),
        ('x { (Modality.equals("US") } (0,0,1,1)', "not closed"),
        ('x { Modality.equals("US") }', "no regions"),
        ("x { Modality.equals(US) } (0,0,1,1)", "cannot read"),
    ],
)
def test_bad_library_text_is_reported(text: str, message: str) -> None:
    with pytest.raises(SignatureScriptError, match=message):
        parse_library(text)
