"""Compound action codes resolved by the attribute's Type in the file's IOD (PS3.15 Table E.1-1a)."""

from __future__ import annotations

import pytest

from anonymizer.rules.iod_types import attribute_type, resolve

CT = "1.2.840.10008.5.1.4.1.1.2"
SR = "1.2.840.10008.5.1.4.1.1.88.33"


@pytest.mark.parametrize(
    "code, sop, path, expected",
    [
        ("Z", CT, (0x00100010,), "Z"),  # Patient's Name, Type 2
        ("Z/D", CT, (0x00100020,), "Z"),  # Patient ID, Type 2 in CT
        ("X/Z/D", CT, (0x00080080,), "X"),  # Institution Name, Type 3
        ("X/Z/D", CT, (0x00080096, 0x00080080), "D"),  # inside Referring Physician Id. Seq.: Type 1C
        ("X/D", CT, (0x00080021,), "X"),  # Series Date, Type 3
        ("Z/D", CT, (0x00080023,), "Z"),  # Content Date, Type 2C
        ("X/Z/U*", CT, (0x00081140,), "U"),  # Referenced Image Sequence, Type 3: references kept
        ("X/Z", CT, (0x00999999,), "X"),  # not in the IOD: removed (Note 13)
        ("X/Z/D", "1.2.3.4.private", (0x00080080,), "Z"),  # unknown IOD: kept present
        ("X/D", None, (0x00080021,), "D"),
        ("X/Z/U*", None, (0x00081140,), "U"),
        ("D", CT, (0x00100010,), "D"),  # single codes pass through
        ("U", CT, (0x00080018,), "U"),
    ],
)
def test_resolve(code: str, sop: str | None, path: tuple[int, ...], expected: str) -> None:
    assert resolve(code, sop, path)[0] == expected


def test_attribute_type_known_unknown_absent() -> None:
    assert attribute_type(CT, (0x00100010,)) == "2"
    assert attribute_type(CT, (0x12345678,)) == "absent"
    assert attribute_type("9.9.9", (0x00100010,)) is None


def test_sr_content_date_type_one() -> None:
    # Content Date is Type 1 in the SR Document General module: Z must become a dummy there.
    assert resolve("Z/D", SR, (0x00080023,))[0] == "D"
