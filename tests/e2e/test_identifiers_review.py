"""The last scrub as a reviewer meets it (issue 12): a kept value that holds the patient's own name is
blanked, the review screen says so above the plan and on the element, and the written file agrees."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pydicom
from page_actions import pick_files, preset_key

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"


def test_a_kept_value_naming_the_patient_is_blanked_and_the_review_says_so(
    recorded: Any, server: str, e2e: Any, tmp_path: Path
) -> None:
    ds = pydicom.dcmread(TEST_FILES / "CT_small.dcm")
    ds.PatientName = "Müßig^Jürgen"
    region = pydicom.Dataset()
    region.CodeValue, region.CodingSchemeDesignator = "818981001", "SCT"
    region.CodeMeaning = "Abdomen, seen by Dr for Muessig"  # a kept Code Meaning naming the patient
    ds.AnatomicRegionSequence = [region]
    ds.SeriesDescription = "kept values"
    path = tmp_path / "ct.dcm"
    ds.save_as(path, enforce_file_format=True)

    page = recorded.page
    preset_key(page)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(server + "/")
    e2e.wait_state(page, "ready", timeout=60)
    pick_files(page, [path])
    page.get_by_role("button", name="Review").first.click()
    page.locator("#review-flags", has_text="held the file's own identifiers").wait_for()
    page.fill("#review-filter", "last scrub")
    row = page.locator("#review-table tbody tr", has_text="CodeMeaning")
    row.wait_for()
    assert "Abdomen, seen by Dr for *******" in row.inner_text()
    e2e.screenshot(page, "identifiers-01-last-scrub")

    with page.expect_download(timeout=120_000) as info:
        page.click("#run")
    saved = tmp_path / "out.zip"
    info.value.save_as(saved)
    with zipfile.ZipFile(saved) as z:
        [name] = [n for n in z.namelist() if n.endswith(".dcm")]
        out = pydicom.dcmread(io.BytesIO(z.read(name)))
    assert str(out.AnatomicRegionSequence[0].CodeMeaning) == "Abdomen, seen by Dr for *******"
