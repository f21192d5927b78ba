"""REGIONS.json: the reviewer's rectangles, shared by the page and the CLI."""

from __future__ import annotations

import json

import pytest
from pydicom.dataset import Dataset

from redaction.errors import RegionsError
from redaction.rectangles import Rect
from redaction.regions import Region, dump_regions, load_regions, regions_for

GOOD = [
    {"sop_instance_uid": "1.2.3", "frames": [1, 3], "x": 0, "y": 0, "width": 640, "height": 40},
    {
        "series_instance_uid": "1.2.4",
        "frames": None,
        "x": 5,
        "y": 6,
        "width": 7,
        "height": 8,
        "rows": 480,
        "columns": 640,
    },
]


def test_round_trip() -> None:
    regions = load_regions(json.dumps(GOOD))
    assert regions[0] == Region(Rect(0, 0, 640, 40), (1, 3), "1.2.3")
    assert regions[1].rows == 480 and regions[1].frames is None
    assert json.loads(dump_regions(regions)) == GOOD


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"x": 0, "y": 0, "width": 1, "height": 1}, "exactly one of"),
        (
            {"sop_instance_uid": "1", "series_instance_uid": "2", "x": 0, "y": 0, "width": 1, "height": 1},
            "exactly one of",
        ),
        ({"sop_instance_uid": "", "x": 0, "y": 0, "width": 1, "height": 1}, "non-empty"),
        ({"sop_instance_uid": "1", "x": 0, "y": 0, "width": 0, "height": 1}, "no area"),
        ({"sop_instance_uid": "1", "x": 0.5, "y": 0, "width": 1, "height": 1}, "whole number"),
        ({"sop_instance_uid": "1", "x": 0, "y": 0, "width": 1}, "'height'"),
        ({"sop_instance_uid": "1", "frames": [0], "x": 0, "y": 0, "width": 1, "height": 1}, "frame numbers"),
        ({"sop_instance_uid": "1", "frames": [], "x": 0, "y": 0, "width": 1, "height": 1}, "frame numbers"),
        (
            {"sop_instance_uid": "1", "x": 0, "y": 0, "width": 1, "height": 1, "colour": "red"},
            "unknown field",
        ),
        ("a string", "expected an object"),
    ],
)
def test_bad_regions_say_which_and_why(entry: object, message: str) -> None:
    with pytest.raises(RegionsError, match=message) as info:
        load_regions(json.dumps([GOOD[0], entry]), "my.json")
    assert "my.json[1]" in info.value.reason


def test_not_json_or_not_a_list() -> None:
    with pytest.raises(RegionsError, match="not JSON"):
        load_regions("{", "r.json")
    with pytest.raises(RegionsError, match="list of regions"):
        load_regions("{}", "r.json")


def test_matching_on_original_uids_and_geometry() -> None:
    ds = Dataset()
    ds.SOPInstanceUID, ds.SeriesInstanceUID, ds.Rows, ds.Columns = "1.2.9", "1.2.4", 480, 640
    regions = load_regions(json.dumps(GOOD))
    assert regions_for(regions, ds) == [regions[1]]
    ds.Rows = 600  # the series entry is for 480 x 640 images only
    assert regions_for(regions, ds) == []
    ds.SOPInstanceUID = "1.2.3"
    assert regions_for(regions, ds) == [regions[0]]
