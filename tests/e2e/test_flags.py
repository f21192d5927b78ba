"""The study list's risk flags, as the page shows them: objects without pixels are not sent to the viewer
with 'review the pixels' (issue 11, item 7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydicom
from corpus import data_file, file
from page_actions import pick_files


def _flags(page: Any, description: str) -> list[str]:
    row = page.locator("tr.series", has_text=description)
    return [str(t) for t in row.locator(".flag").evaluate_all("spans => spans.map(s => s.title)")]


def test_structured_reports_get_no_pixel_flags(recorded: Any, server: str, e2e: Any, tmp_path: Path) -> None:
    sr = pydicom.dcmread(file("test-SR.dcm"))
    sr.SeriesDescription = "a structured report"
    sr.save_as(tmp_path / "sr.dcm")
    us = pydicom.dcmread(data_file("US1_UNCR.dcm"))
    us.SeriesDescription = "an ultrasound"
    if "BurnedInAnnotation" in us:
        del us.BurnedInAnnotation
    us.save_as(tmp_path / "us.dcm")
    page = recorded.page
    page.goto(server + "/")
    e2e.wait_state(page, "ready", timeout=60)
    pick_files(page, [tmp_path / "sr.dcm", tmp_path / "us.dcm"])
    page.wait_for_selector("tr.series >> text=a structured report")
    e2e.screenshot(page, "flags-sr-and-us")
    report = _flags(page, "a structured report")
    assert any("structured report" in f for f in report)
    assert not any("pixels" in f for f in report), report
    # An object without pixels shows no frame count.
    assert "frame" not in page.locator("tr.series", has_text="a structured report").inner_text()
    assert any("review the pixels" in f for f in _flags(page, "an ultrasound"))
