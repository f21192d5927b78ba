"""The uploader page in headless Chromium: drop a folder, see the study list, review, download the zip.

The downloaded zip must hold files byte-identical to the native engine's output for the same key and
options; identity planted in folder and file names must appear nowhere in the zip or the requests.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pydicom
import pytest
from page_actions import KEY_HEX, pick_files, preset_key

ROOT = Path(__file__).resolve().parents[2]
TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
PATIENT_FOLDER = "Doe^Jane 19700412 MRN778899"
GOOD = ["CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "rtplan.dcm", "SC_rgb_jpeg_dcmtk.dcm"]


def _folder(tmp_path: Path) -> Path:
    top = tmp_path / PATIENT_FOLDER
    (top / "series one").mkdir(parents=True)
    for i, name in enumerate(GOOD):
        (top / "series one" / f"{PATIENT_FOLDER} {i}.dcm").write_bytes((TEST_FILES / name).read_bytes())
    (top / "notes.txt").write_text("Jane Doe, MRN778899")
    shutil.copy(TEST_FILES / "dicomdirtests" / "DICOMDIR", top / "DICOMDIR")
    # A cut copy of an image of its own (with CT_small's SOP Instance UID it would be another version of it,
    # set aside in favour of the whole one).
    cut = pydicom.dcmread(TEST_FILES / "CT_small.dcm")
    cut.SOPInstanceUID = cut.file_meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.8.498.1"
    buf = io.BytesIO()
    cut.save_as(buf, enforce_file_format=True)
    (top / "truncated.dcm").write_bytes(buf.getvalue()[:-500])
    return top


def _open(page: Any, server: str, e2e: Any) -> None:
    preset_key(page)
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

    page.get_by_role("button", name="Review Series").first.click()
    page.wait_for_selector("#review-table tbody tr")
    page.wait_for_selector("#viewer-canvas[data-shown]")  # the viewer has drawn; the layout is settled
    assert "changed" in page.inner_text("#review-counts")
    page.fill("#review-filter", "PatientName")
    e2e.screenshot(page, "03-review")

    # The review gate: images likely to hold burned-in text cannot be ticked until someone checked them.
    nm_row = page.locator("tr.series", has_text="stated on NM")
    ot_row = page.locator("tr.series", has_text="stated on OT")
    assert nm_row.get_by_role("checkbox").is_disabled() and ot_row.get_by_role("checkbox").is_disabled()
    assert "check the images before including" in ot_row.inner_text()
    ot_row.get_by_role("button").click()
    page.wait_for_selector("#viewer-canvas[data-shown]")
    page.click("#viewer-checked")
    page.locator("tr.series", has_text="images checked").wait_for()
    assert ot_row.get_by_role("checkbox").is_checked() and not nm_row.get_by_role("checkbox").is_checked()

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
    from redaction.apply import PixelEdit

    config = Config(key=SecretKey(bytes(range(32))))
    expected = {}
    for name in GOOD:
        if name == "JPEG2000.dcm":  # the NM series nobody checked: left out
            continue
        checked = PixelEdit(reviewed=True) if name == "SC_rgb_jpeg_dcmtk.dcm" else None
        r = deidentify((TEST_FILES / name).read_bytes(), config, pixels=checked)
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
    assert sum(f["status"] == "done" for f in report["files"]) == len(GOOD) - 1
    assert [f for f in report["files"] if f["status"] == "failed"]  # the truncated file, reported


def _download(page: Any, e2e: Any, tmp_path: Path, name: str = "out.zip") -> zipfile.ZipFile:
    with page.expect_download(timeout=120_000) as info:
        page.click("#run")
    path = tmp_path / name
    info.value.save_as(path)
    e2e.wait_state(page, "done", timeout=60)
    return zipfile.ZipFile(path)


def test_zip_archive_and_folder_picker(recorded: Any, server: str, e2e: Any, tmp_path: Path) -> None:
    page = recorded.page
    _open(page, server, e2e)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"{PATIENT_FOLDER}/a.dcm", (TEST_FILES / "CT_small.dcm").read_bytes())
        z.writestr(f"{PATIENT_FOLDER}/readme.txt", "Jane Doe")
    archive = tmp_path / f"{PATIENT_FOLDER}.zip"
    archive.write_bytes(buf.getvalue())
    pick_files(page, [archive], "1 DICOM files in the list")
    picked = tmp_path / "picked" / PATIENT_FOLDER
    picked.mkdir(parents=True)
    (picked / "b.dcm").write_bytes((TEST_FILES / "MR_small.dcm").read_bytes())
    (picked / "junk.bin").write_bytes(b"\x00" * 1000)
    page.set_input_files("#pick-folder", str(picked))
    page.locator("#index-progress", has_text="2 DICOM files in the list").wait_for(timeout=60_000)
    assert page.inner_text("#skipped-summary").startswith("2 file(s) skipped")  # readme.txt, junk.bin
    with _download(page, e2e, tmp_path) as z:
        entries = [n for n in z.namelist() if n.endswith(".dcm")]
        assert len(entries) == 2
        for fragment in ("Doe", "Jane", "MRN778899"):
            assert all(fragment not in n for n in z.namelist())


def test_excluded_series_are_not_written(recorded: Any, server: str, e2e: Any, tmp_path: Path) -> None:
    page = recorded.page
    _open(page, server, e2e)
    for name in ("CT_small.dcm", "MR_small.dcm"):
        (tmp_path / name).write_bytes((TEST_FILES / name).read_bytes())
    pick_files(page, [tmp_path / "CT_small.dcm", tmp_path / "MR_small.dcm"], "2 DICOM files in the list")
    page.get_by_role("checkbox", name="Include patient CompressedSamples^MR1").uncheck()
    with _download(page, e2e, tmp_path) as z:
        report = json.loads(z.read("deidentification-report.json"))
        assert len([n for n in z.namelist() if n.endswith(".dcm")]) == 1
        assert len(report["files"]) == 1


def test_settings_key_export_import_and_options(recorded: Any, server: str, e2e: Any, tmp_path: Path) -> None:
    page = recorded.page
    _open(page, server, e2e)
    page.click("#open-settings")
    dialog = page.locator("#settings")
    assert dialog.is_visible()
    options = dialog.get_by_role("checkbox")
    assert options.count() == 11
    assert dialog.get_by_role(
        "checkbox", name="Retain Longitudinal Temporal Information Modified Dates Option"
    ).is_checked()
    e2e.screenshot(page, "05-settings")
    dialog.get_by_role("checkbox", name="Retain Longitudinal Temporal Information Full Dates Option").check()
    assert not dialog.get_by_role(
        "checkbox", name="Retain Longitudinal Temporal Information Modified Dates Option"
    ).is_checked()
    with page.expect_download() as info:
        page.click("#key-export")
    exported = json.loads(Path(info.value.path()).read_text())
    assert exported == {"format": "pacsbin-uploader-key", "version": 1, "key": KEY_HEX}
    other = {"format": "pacsbin-uploader-key", "version": 1, "key": "ab" * 32}
    (tmp_path / "key.json").write_text(json.dumps(other))
    page.set_input_files("#key-import", str(tmp_path / "key.json"))
    page.locator("#key-message", has_text="Key imported").wait_for()
    stored = json.loads(page.evaluate("localStorage.getItem('pacsbin-uploader-key')"))
    assert stored["key"] == "ab" * 32
    (tmp_path / "bad.json").write_text("{}")
    page.set_input_files("#key-import", str(tmp_path / "bad.json"))
    page.locator("#key-message", has_text="Not imported").wait_for()
    page.get_by_role("radio", name="Legacy Pacsbin script").check()
    assert page.locator("#pacsbin-warning").is_visible()
    e2e.screenshot(page, "06-settings-pacsbin")


def test_keyboard_reaches_every_control(recorded: Any, server: str, e2e: Any) -> None:
    page = recorded.page
    _open(page, server, e2e)
    seen = []
    for _ in range(12):
        page.keyboard.press("Tab")
        seen.append(
            page.evaluate("document.activeElement.id || document.activeElement.getAttribute('aria-label')")
        )
    assert {"open-settings", "drop-zone", "pick-files", "pick-folder"} <= set(seen), seen


def test_files_dropped_while_loading_are_queued(recorded: Any, server: str, e2e: Any, tmp_path: Path) -> None:
    page = recorded.page
    page.goto(server + "/")
    assert page.evaluate("document.body.dataset.state") == "loading"
    (tmp_path / "a.dcm").write_bytes((TEST_FILES / "CT_small.dcm").read_bytes())
    e2e.drop_paths(page, "#drop-zone", [tmp_path / "a.dcm"])
    page.locator("#index-progress", has_text="1 DICOM files in the list").wait_for(timeout=60_000)
    e2e.wait_state(page, "ready", timeout=60)


def test_worker_is_replaced_after_a_very_large_file(
    recorded: Any, server: str, e2e: Any, tmp_path: Path
) -> None:
    """A file over 128 MB grows a worker's wasm heap for good: that worker is retired after it (it finishes
    what it holds, takes nothing new) and replaced; every file still comes out byte-identical to the native
    engine's."""
    import numpy as np
    from pydicom.uid import generate_uid

    from anonymizer.config import Config
    from anonymizer.engine import deidentify
    from anonymizer.keys import SecretKey

    big = pydicom.dcmread(TEST_FILES / "CT_small.dcm")
    frames, size = 260, 512  # 260 x 512 x 512 x 2 bytes = 136 MB
    big.SOPInstanceUID = generate_uid()
    big.file_meta.MediaStorageSOPInstanceUID = big.SOPInstanceUID
    big.Rows = big.Columns = size
    big.NumberOfFrames = frames
    big.PixelData = np.random.default_rng(0).integers(0, 2000, (frames, size, size), dtype=np.int16).tobytes()
    big_path = tmp_path / "big.dcm"
    big.save_as(big_path, enforce_file_format=True)
    small = [TEST_FILES / n for n in ("MR_small.dcm", "rtplan.dcm")]
    page = recorded.page
    _open(page, server, e2e)
    pick_files(page, [big_path, *small], "3 DICOM files in the list")
    zf = _download(page, e2e, tmp_path)
    assert int(page.get_attribute("body", "data-engines-replaced") or 0) >= 1
    config = Config(key=SecretKey(bytes(range(32))))
    names = set(zf.namelist())
    for p in [big_path, *small]:
        r = deidentify(p.read_bytes(), config)
        name = f"{r.study_instance_uid}/{r.series_instance_uid}/{r.sop_instance_uid}.dcm"
        assert name in names and zf.read(name) == r.data, p.name


@pytest.mark.parametrize("api", ["handles", "entries"])
def test_a_drop_is_walked_through_handles_or_entries(
    recorded: Any, server: str, e2e: Any, tmp_path: Path, api: str
) -> None:
    """Chromium gives File System Access handles for a drop (the page walks those: cheaper); browsers
    without them (Firefox, Safari) give only entries. Either way every file of a nested folder and of a
    loose file dropped with it is indexed, and junk is listed as skipped."""
    top = tmp_path / "case"
    (top / "sub" / "deeper").mkdir(parents=True)
    (top / "a.dcm").write_bytes((TEST_FILES / "CT_small.dcm").read_bytes())
    (top / "sub" / "deeper" / "b.dcm").write_bytes((TEST_FILES / "MR_small.dcm").read_bytes())
    (top / "sub" / "junk.txt").write_text("not an image")
    loose = tmp_path / "loose.dcm"
    loose.write_bytes((TEST_FILES / "rtplan.dcm").read_bytes())
    page = recorded.page
    if api == "entries":
        page.add_init_script("delete DataTransferItem.prototype.getAsFileSystemHandle")
    _open(page, server, e2e)
    assert page.evaluate("'getAsFileSystemHandle' in DataTransferItem.prototype") is (api == "handles")
    e2e.drop_paths(page, "#drop-zone", [top, loose])
    page.locator("#index-progress", has_text="3 DICOM files in the list, 1 skipped").wait_for(timeout=60_000)
    page.click("#skipped-summary")
    assert "case/sub/junk.txt" in page.inner_text("#skipped")
