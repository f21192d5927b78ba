"""The uploader page in headless Chromium: drop a folder, see the study list, review, download the zip.

The downloaded zip must hold files byte-identical to the native engine's output for the same key and
options; identity planted in folder and file names must appear nowhere in the zip or the requests.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pydicom

ROOT = Path(__file__).resolve().parents[2]
TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
KEY_HEX = bytes(range(32)).hex()
PATIENT_FOLDER = "Doe^Jane 19700412 MRN778899"
GOOD = ["CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "rtplan.dcm", "SC_rgb_jpeg_dcmtk.dcm"]


def _folder(tmp_path: Path) -> Path:
    top = tmp_path / PATIENT_FOLDER
    (top / "series one").mkdir(parents=True)
    for i, name in enumerate(GOOD):
        (top / "series one" / f"{PATIENT_FOLDER} {i}.dcm").write_bytes((TEST_FILES / name).read_bytes())
    (top / "notes.txt").write_text("Jane Doe, MRN778899")
    shutil.copy(TEST_FILES / "dicomdirtests" / "DICOMDIR", top / "DICOMDIR")
    (top / "truncated.dcm").write_bytes((TEST_FILES / "CT_small.dcm").read_bytes()[:-500])
    return top


def _open(page: Any, server: str, e2e: Any) -> None:
    page.add_init_script(
        f"localStorage.setItem('pacsbin-uploader-key', JSON.stringify({{format: 'pacsbin-uploader-key', "
        f"version: 1, key: '{KEY_HEX}'}}))"
    )
    page.goto(server + "/")
    e2e.wait_state(page, "ready", timeout=60)


def test_folder_drop_review_and_download(recorded: Any, server: str, e2e: Any, tmp_path: Path) -> None:
    page = recorded.page
    _open(page, server, e2e)
    e2e.screenshot(page, "01-ready")
    folder = _folder(tmp_path)
    e2e.drop_paths(page, "#drop-zone", [folder])
    # (not wait_for_function: it evaluates a string, which the page's CSP rightly forbids)
    page.locator("#index-progress", has_text="in the list").wait_for(timeout=60_000)
    e2e.wait_state(page, "ready", timeout=60)
    text = page.inner_text("#studies")
    assert "Series" in text
    assert page.inner_text("#skipped-summary").startswith("2 file(s) skipped")  # notes.txt, DICOMDIR
    e2e.screenshot(page, "02-study-list")

    page.get_by_role("button", name="Review header of").first.click()
    page.wait_for_selector("#review-table tbody tr")
    assert "changed" in page.inner_text("#review-counts")
    page.fill("#review-filter", "PatientName")
    e2e.screenshot(page, "03-review")

    with page.expect_download(timeout=120_000) as info:
        page.click("#run")
    download = info.value
    path = tmp_path / "out.zip"
    download.save_as(path)
    e2e.wait_state(page, "done", timeout=60)
    e2e.screenshot(page, "04-done")

    from anonymizer.config import Config
    from anonymizer.engine import deidentify
    from anonymizer.keys import SecretKey

    config = Config(key=SecretKey(bytes(range(32))))
    expected = {}
    for name in GOOD:
        r = deidentify((TEST_FILES / name).read_bytes(), config)
        expected[f"{r.study_instance_uid}/{r.series_instance_uid}/{r.sop_instance_uid}.dcm"] = r.data
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        report = json.loads(z.read("deidentification-report.json"))
        for name, data in expected.items():
            assert z.read(name) == data, name
        everything = b"".join(z.read(n) for n in z.namelist()) + "".join(names).encode()
    assert names == set(expected) | {"deidentification-report.json"}
    for fragment in ("Doe", "Jane", "MRN778899", "19700412"):
        assert fragment.encode() not in everything
        assert all(fragment not in url for url in recorded.requests)
        assert all(fragment not in str(r) for r in recorded.proxy.records)
    assert sum(f["status"] == "done" for f in report["files"]) == len(GOOD)
    assert [f for f in report["files"] if f["status"] == "failed"]  # the truncated file, reported
