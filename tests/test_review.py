"""Risk flags and the page's review gate: which files a person must look at before they may leave."""

from __future__ import annotations

import pydicom
import pytest
from corpus import file
from pydicom.dataset import Dataset

from anonymizer.review import PIXELS_CHECKED, needs_pixel_review, risk_flags

CT = "1.2.840.10008.5.1.4.1.1.2"
US = "1.2.840.10008.5.1.4.1.1.6.1"
SC = "1.2.840.10008.5.1.4.1.1.7"
SR = "1.2.840.10008.5.1.4.1.1.88.22"


def _ds(
    sop: str, modality: str, burned: str | None = None, description: str = "", image: bool = True
) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID, ds.Modality, ds.SeriesDescription = sop, modality, description
    if burned is not None:
        ds.BurnedInAnnotation = burned
    if image:
        ds.Rows, ds.Columns = 64, 64
    return ds


@pytest.mark.parametrize(
    ("ds", "gate"),
    [
        (_ds(CT, "CT"), False),
        (_ds(CT, "CT", "YES"), True),
        (_ds(US, "US"), True),
        (_ds(US, "US", "NO"), False),
        (_ds(SC, "OT"), True),  # a screen capture, whatever its modality
        (_ds(CT, "CT", description="Patient Dose Report"), True),
        (_ds(CT, "CT", "NO", description="dose summary"), True),
        (_ds(SR, "SR"), False),  # no pixels to look at
        (_ds(US, "US", image=False), False),
    ],
    ids=["ct", "ct-burned", "us", "us-no", "sc", "dose", "dose-no", "sr", "no-rows"],
)
def test_review_gate(ds: Dataset, gate: bool) -> None:
    assert needs_pixel_review(ds) is gate


def test_flags_explain_the_gate() -> None:
    assert any("Burned In Annotation not stated on US" in f for f in risk_flags(_ds(US, "US")))
    assert risk_flags(_ds(CT, "CT")) == []


@pytest.mark.parametrize(
    "ds",
    [_ds(US, "US"), _ds(CT, "CT", "YES"), _ds(CT, "CT", description="dose report"), _ds(SC, "OT")],
    ids=["us", "ct-burned", "dose", "sc"],
)
def test_checked_pixels_answer_the_burned_in_warnings(ds: Dataset) -> None:
    """After a person redacted or confirmed the pixels, the review shows that instead of the warning the
    input file raised (which the study list showed before the check)."""
    assert risk_flags(ds) and PIXELS_CHECKED not in risk_flags(ds)
    assert risk_flags(ds, pixels_checked=True) == [PIXELS_CHECKED]


def test_checked_pixels_keep_the_other_warnings() -> None:
    flags = risk_flags(_ds(SR, "SR"), pixels_checked=True)
    assert flags[0] == PIXELS_CHECKED
    assert any("structured report" in f for f in flags)


PDF = "1.2.840.10008.5.1.4.1.1.104.1"
DOSE_SR = "1.2.840.10008.5.1.4.1.1.88.67"


@pytest.mark.parametrize(
    ("ds", "kept"),
    [
        (_ds(SR, "SR", image=False), "structured report"),
        (_ds(DOSE_SR, "SR", description="Dose Report", image=False), "structured report"),
        (_ds(PDF, "DOC", image=False), "encapsulated PDF"),
        (_ds(SR, "SR"), "structured report"),  # Rows on a structured report still holds no pixels
    ],
    ids=["sr", "dose-sr", "pdf", "sr-with-rows"],
)
def test_objects_without_pixels_get_no_pixel_flags(ds: Dataset, kept: str) -> None:
    """A structured report or a document has no pixels to review: no 'review the pixels' flag (the study
    list showed 'Burned In Annotation not stated on SR'), only what is true of it."""
    flags = risk_flags(ds)
    assert not any("pixels" in f for f in flags), flags
    assert any(kept in f for f in flags)


def test_study_list_header_without_rows_gets_no_pixel_flags() -> None:
    """The study list passes {keyword: text} of a header read up to (0028,0301)."""
    header = {"SOPClassUID": US, "Modality": "US", "SeriesDescription": ""}
    assert not any("pixels" in f for f in risk_flags(header))
    assert any("review the pixels" in f for f in risk_flags(header | {"Rows": "480"}))


def test_pixel_data_without_rows_still_counts_as_pixels() -> None:
    """Fail closed: a damaged image that lost Rows but holds Pixel Data is still reviewed."""
    ds = _ds(US, "US", image=False)
    ds.PixelData = b"\0" * 16
    assert needs_pixel_review(ds)
    assert any("review the pixels" in f for f in risk_flags(ds))


def test_structured_report_file_is_not_flagged_for_pixels() -> None:
    ds = pydicom.dcmread(file("test-SR.dcm"))
    flags = risk_flags(ds)
    assert not any("pixels" in f for f in flags) and any("structured report" in f for f in flags)
