"""The fast header scan for the study list: the same values as pydicom, or None (pydicom then reads it)."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from corpus import file, public_files

from anonymizer.browser_api import _SCANNED_TAGS, LAST_SUMMARY_TAG, SUMMARY_KEYWORDS
from anonymizer.summary_scan import scan_summary


@pytest.mark.parametrize("path", public_files(), ids=lambda p: p.name)
def test_scan_agrees_with_pydicom_or_steps_aside(path: Path) -> None:
    data = path.read_bytes()
    result = scan_summary(data, _SCANNED_TAGS, LAST_SUMMARY_TAG)
    if result is None:
        return
    ds, _ = result
    full = pydicom.dcmread(path, stop_before_pixels=True, force=True)
    for keyword in SUMMARY_KEYWORDS:
        if keyword in ds:
            assert str(ds.get(keyword)) == str(full.get(keyword)), keyword


def test_most_files_take_the_fast_path() -> None:
    """Explicit VR little endian Part 10 files are the common case and must not fall back."""
    assert scan_summary(file("CT_small.dcm").read_bytes(), _SCANNED_TAGS, LAST_SUMMARY_TAG) is not None
    assert scan_summary(file("MR_small.dcm").read_bytes(), _SCANNED_TAGS, LAST_SUMMARY_TAG) is not None


@pytest.mark.parametrize("cut", [140, 400, 900, 3000])
def test_a_short_prefix_has_not_reached_the_end_of_the_summary(cut: int) -> None:
    data = file("CT_small.dcm").read_bytes()[:cut]
    result = scan_summary(data, _SCANNED_TAGS, LAST_SUMMARY_TAG)
    assert result is None or result[1] is False


def test_unusual_encodings_step_aside() -> None:
    assert scan_summary(b"\0" * 200, _SCANNED_TAGS, LAST_SUMMARY_TAG) is None  # no DICM
    implicit = file("rtplan.dcm").read_bytes()  # Implicit VR Little Endian
    assert pydicom.dcmread(file("rtplan.dcm")).file_meta.TransferSyntaxUID == "1.2.840.10008.1.2"
    assert scan_summary(implicit, _SCANNED_TAGS, LAST_SUMMARY_TAG) is None
    dicomdir = (file("dicomdirtests") / "DICOMDIR").read_bytes()
    assert scan_summary(dicomdir, _SCANNED_TAGS, LAST_SUMMARY_TAG) is None
