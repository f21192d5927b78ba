"""Burned-in text marked with the header attributes it spells (anonymizer/text_matches.py)."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from anonymizer.text_matches import header_matcher
from redaction.regions import load_regions


def _ds() -> Dataset:
    ds = Dataset()
    ds.PatientName = "GARCÍA NÚÑEZ^María José"
    ds.PatientID = "MRN-0042137"
    ds.AccessionNumber = "A77812"
    ds.StudyDate = "20240311"
    ds.PatientBirthDate = "19610704"
    ds.InstitutionName = "Saint Elsewhere Hospital"
    ds.ReferringPhysicianName = "HOUSE^GREGORY"
    ds.StationName = "US"  # too short to be looked for
    return ds


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GARCIA NUNEZ, MARIA", ("PatientName",)),
        ("Maria Jose Garcia", ("PatientName",)),
        ("ID: MRN0042137", ("PatientID",)),
        ("ACC A77812", ("AccessionNumber",)),
        ("11.03.2024 14:22:05", ("StudyDate",)),
        ("03/11/2024", ("StudyDate",)),
        ("DOB 1961-07-04", ("PatientBirthDate",)),
        ("SAINT ELSEWHERE", ("InstitutionName",)),
        ("Dr. House", ("ReferringPhysicianName",)),
        ("GARCIA 2024-03-11", ("PatientName", "StudyDate")),
        ("L 4.2 cm", ()),
        ("US", ()),
        ("", ()),
    ],
)
def test_text_matches_the_attributes_it_spells(text: str, expected: tuple[str, ...]) -> None:
    assert header_matcher(_ds()).matches(text) == expected


def test_regions_keep_text_and_matches_through_a_round_trip() -> None:
    text = (
        '[{"sop_instance_uid": "1.2.3", "frames": [2], "x": 1, "y": 2, "width": 30, "height": 12,'
        ' "text": "DOE, JOHN", "matches": ["PatientName"]}]'
    )
    (region,) = load_regions(text)
    assert region.text == "DOE, JOHN" and region.matches == ("PatientName",)
    assert region.to_json()["matches"] == ["PatientName"]
    with pytest.raises(Exception, match="'matches' must be a list"):
        load_regions(text.replace('["PatientName"]', '"PatientName"'))
