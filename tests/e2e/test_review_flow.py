"""The page as a radiologist meets it (issue 11): nothing unchecked is claimed clean, nothing left out goes
unsaid, the review beside the list, the upload gate names what blocks it, a new key is announced.

Each test drives the real page in headless Chromium and looks at what a person would see."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pydicom
import pytest
from page_actions import KEY_HEX, assert_in_view, check_every_image, pick_files, preset_key, preset_upload
from playwright.sync_api import expect
from pydicom.uid import generate_uid

from app.tokens import Tokens

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
CLEAN_PIXEL_DATA = "113101"


def _save(ds: pydicom.Dataset, path: Path) -> Path:
    ds.save_as(path, enforce_file_format=True)
    return path


def _like(src: str, template: pydicom.Dataset, number: int, **values: Any) -> pydicom.Dataset:
    """`src` moved into `template`'s patient, study and series, as instance `number`."""
    ds = pydicom.dcmread(TEST_FILES / src)
    keywords = ("SpecificCharacterSet", "PatientName", "PatientID", "StudyInstanceUID", "SeriesInstanceUID",
                "StudyDate", "Modality")
    for keyword in keywords:
        setattr(ds, keyword, template.get(keyword, ""))
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.InstanceNumber = number
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


def _mixed_us_series(folder: Path) -> tuple[Path, Path]:
    """An ultrasound series (the review gate applies) holding a 12-bit JPEG the page cannot show exactly
    (instance 1) and an image it can show (instance 2)."""
    folder.mkdir(parents=True, exist_ok=True)
    twelve = pydicom.dcmread(TEST_FILES / "JPEG-lossy.dcm")
    twelve.Modality, twelve.InstanceNumber = "US", 1
    twelve.SeriesDescription = "mixed"
    shown = _like("CT_small.dcm", twelve, 2, SeriesDescription="mixed")
    return _save(twelve, folder / "twelve-bit.dcm"), _save(shown, folder / "shown.dcm")


def _open(page: Any, url: str, e2e: Any, key: bool = True) -> None:
    if key:
        preset_key(page)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(url + "/")
    e2e.wait_state(page, "ready", timeout=60)


def _download(page: Any, e2e: Any, tmp_path: Path, name: str) -> dict[str, pydicom.Dataset | dict[str, Any]]:
    with page.expect_download(timeout=120_000) as info:
        page.click("#run")
    path = tmp_path / name
    info.value.save_as(path)
    e2e.wait_state(page, "done", timeout=60)
    out: dict[str, Any] = {}
    with zipfile.ZipFile(path) as z:
        for entry in z.namelist():
            data = z.read(entry)
            out[entry] = json.loads(data) if entry.endswith(".json") else pydicom.dcmread(io.BytesIO(data))
    return out


def _claims_clean(ds: pydicom.Dataset) -> bool:
    codes = [str(c.CodeValue) for c in ds.get("DeidentificationMethodCodeSequence", [])]
    return CLEAN_PIXEL_DATA in codes or ds.get("BurnedInAnnotation") == "NO"


def test_an_image_that_cannot_be_shown_is_never_claimed_clean(
    recorded: Any, server: str, e2e: Any, tmp_path: Path
) -> None:
    twelve, shown = _mixed_us_series(tmp_path / "in")
    page = recorded.page
    _open(page, server, e2e)
    pick_files(page, [twelve, shown])
    row = page.locator("tr.series", has_text="mixed")
    assert row.get_by_role("checkbox").is_disabled()
    row.get_by_role("button", name="Review").click()
    page.wait_for_selector("#viewer-canvas[data-shown='none']")  # instance 1: the 12-bit JPEG
    assert page.locator("#viewer-checked").is_disabled()
    assert len(page.inner_text("#viewer-message")) > 80
    tools_with_message = page.locator("#viewer-tool").bounding_box()
    # Showing the other image of the series (the bug: it re-enabled the check for the whole series) ...
    page.locator("#viewer-canvas").press("ArrowDown")
    page.wait_for_selector("#viewer-canvas[data-shown='1']")
    # Neither the long message nor the frame label of the other image moves the tools.
    assert page.inner_text("#viewer-message") == ""
    assert page.locator("#viewer-tool").bounding_box() == tools_with_message, "the tools moved"
    # ... lets the series be checked only with the 12-bit image named and left out (or sent unclaimed).
    page.locator("#viewer-checked", has_text="I have checked").wait_for()
    assert "twelve-bit.dcm" in page.inner_text("#review-unshown")
    assert page.locator("#review-unshown-choice").is_visible()
    assert "1 image(s) cannot be shown" in row.inner_text()
    e2e.screenshot(page, "review-01-unshowable-image")
    page.click("#viewer-checked")
    page.locator("#viewer-checked", has_text="undo").wait_for()
    # The button changes at once; the list is redrawn on the next frame.
    expect(row.get_by_role("checkbox")).to_be_checked()
    expect(page.locator("#run")).to_contain_text("1 left out: 1 cannot be shown")
    out = _download(page, e2e, tmp_path, "left-out.zip")
    images = [ds for name, ds in out.items() if name.endswith(".dcm")]
    assert len(images) == 1 and images[0].InstanceNumber == 2 and _claims_clean(images[0])
    assert "twelve-bit.dcm: cannot be shown" in page.inner_text("#left-out")

    # Included without the claim: written, but never as clean (the server decides).
    page.check("input[name=unshown][value=unclaimed]")
    out = _download(page, e2e, tmp_path, "unclaimed.zip")
    by_number = {ds.InstanceNumber: ds for name, ds in out.items() if name.endswith(".dcm")}
    assert set(by_number) == {1, 2}
    assert not _claims_clean(by_number[1]) and _claims_clean(by_number[2])

    # "Checked" can be undone: the series waits for a check again and is left out.
    page.click("#viewer-checked")
    page.locator("#viewer-checked", has_text="I have checked").wait_for()
    expect(row.get_by_role("checkbox")).not_to_be_checked()
    expect(page.locator("#run")).to_be_disabled()


def test_the_buttons_and_reports_say_what_is_left_out(
    upload_server: Any, recorded: Any, e2e: Any, tmp_path: Path
) -> None:
    url, token, _data = upload_server
    folder = tmp_path / "Doe^Jane 19700412"
    folder.mkdir()
    (folder / "ct.dcm").write_bytes((TEST_FILES / "CT_small.dcm").read_bytes())
    (folder / "mr.dcm").write_bytes((TEST_FILES / "MR_small.dcm").read_bytes())
    us = pydicom.dcmread(TEST_FILES / "SC_rgb_jpeg_dcmtk.dcm")
    us.Modality, us.SeriesDescription = "US", "waiting"
    _save(us, folder / "Jane Doe us.dcm")
    (folder / "notes.txt").write_text("Jane Doe")
    page = recorded.page
    preset_upload(page, token)
    _open(page, url, e2e)
    e2e.drop_paths(page, "#drop-zone", [folder])
    page.locator("#index-progress", has_text="in the list").wait_for(timeout=60_000)
    page.locator("tr.series", has_text="MR").get_by_role("checkbox").uncheck()
    page.locator("#run", has_text="1 file (").wait_for()  # the list redraws after the click
    run = page.inner_text("#run")
    assert run.startswith("De-identify and download 1 file (3 left out: ")
    for part in ("1 in 1 series that waits for a check", "1 not included", "1 not read"):
        assert part in run, run
    assert page.inner_text("#upload-run").startswith("Upload 1 file (3 left out")
    out = _download(page, e2e, tmp_path, "out.zip")
    done = page.inner_text("#progress-text")
    assert done.startswith("Done: 1 of the 1 included file(s) de-identified; 3 left out"), done
    left = page.inner_text("#left-out")
    for name in ("Jane Doe us.dcm: waits for a check", "mr.dcm: not included", "notes.txt: not read"):
        assert name in left, left
    report = out["deidentification-report.json"]
    assert isinstance(report, dict)
    assert report["left_out"] == {"waits for a check": 1, "not included": 1, "not read": 1}
    assert "Jane" not in json.dumps(report) and "notes" not in json.dumps(report)
    assert_in_view(page, "#progress-text")
    e2e.screenshot(page, "review-02-left-out-report")

    # The upload report on screen names them too.
    for row in page.locator("tr.series").all():
        row.scroll_into_view_if_needed()
    page.locator("#upload-run:not([disabled])").wait_for(timeout=30_000)
    page.click("#upload-run")
    page.locator("#upload-text", has_text="Upload finished").wait_for(timeout=120_000)
    assert_in_view(page, "#upload-text")
    assert "3 left out" in page.inner_text("#upload-text")
    assert "mr.dcm: not included" in page.inner_text("#upload-report")
    e2e.screenshot(page, "review-03-upload-left-out")


@pytest.fixture
def upload_server(tmp_path: Path) -> Any:
    from e2e_servers import dist_dir, start_server

    data = tmp_path / "server-data"
    token = Tokens(data / "tokens.sqlite").create("e2e")
    url, stop = start_server(dist_dir(), data=data)
    yield url, token, data
    stop()


def test_the_upload_gate_names_the_series_that_block_it(
    upload_server: Any, recorded: Any, e2e: Any, tmp_path: Path
) -> None:
    """A series without pixels, a 1-bit one, one without a thumbnail: its row on screen, or opening it from
    the gate, counts as seen."""
    url, token, _data = upload_server
    files = [TEST_FILES / "rtplan.dcm", TEST_FILES / "CT_small.dcm"]
    page = recorded.page
    preset_upload(page, token)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(url + "/")
    e2e.wait_state(page, "ready", timeout=60)
    pick_files(page, files)
    gate = page.locator("#upload-gate")
    # Rows on screen count as seen at once: a list this short is seen as soon as it is drawn.
    page.locator("#upload-run:not([disabled])").wait_for(timeout=30_000)
    assert gate.inner_text() == ""

    # A long list: rows below the fold are not seen; the gate names them with a button that opens each.
    page.reload()
    e2e.wait_state(page, "ready", timeout=60)
    many = []
    for i in range(30):
        ds = pydicom.dcmread(TEST_FILES / "rtplan.dcm")
        ds.SeriesInstanceUID, ds.SOPInstanceUID = generate_uid(), generate_uid()
        ds.SeriesNumber, ds.SeriesDescription = i + 1, f"plan {i + 1}"
        many.append(_save(ds, tmp_path / f"plan{i}.dcm"))
    pick_files(page, many)
    gate.locator("button").first.wait_for()
    text = gate.inner_text()
    assert "Upload waits until you have seen" in text and "plan 24" in text, text
    e2e.screenshot(page, "review-04-upload-gate")
    for _ in range(40):
        buttons = gate.locator("button")
        if buttons.count() == 0:
            break
        buttons.first.click()
    page.locator("#upload-run:not([disabled])").wait_for(timeout=30_000)


def test_the_review_stands_beside_the_list_with_keys_and_titles(
    recorded: Any, server: str, e2e: Any, tmp_path: Path
) -> None:
    rtl = "1C\u202eT1"  # a right-to-left override inside a name
    long_name = "Very^Long" + "x" * 100_000
    a = pydicom.dcmread(TEST_FILES / "CT_small.dcm")
    a.SpecificCharacterSet = "ISO_IR 192"  # UTF-8: the override is written as it is
    a.PatientName, a.SeriesDescription, a.StudyDescription, a.SeriesNumber = rtl, "first", "HEAD", 1
    b = _like("MR_small.dcm", a, 1, SeriesInstanceUID=generate_uid(), SeriesDescription="second",
              SeriesNumber=9)
    c = pydicom.dcmread(TEST_FILES / "CT_small.dcm")
    c.PatientName, c.PatientID, c.StudyInstanceUID = long_name, "LONG1", generate_uid()
    c.SeriesInstanceUID, c.SOPInstanceUID = generate_uid(), generate_uid()
    nobody = []
    for i in range(2):  # patients without name and ID: never merged into one "(no name)"
        d = pydicom.dcmread(TEST_FILES / "CT_small.dcm")
        d.PatientName, d.PatientID = "", ""
        d.StudyInstanceUID, d.SeriesInstanceUID = generate_uid(), generate_uid()
        d.SOPInstanceUID = generate_uid()
        nobody.append(_save(d, tmp_path / f"nobody{i}.dcm"))
    paths = [_save(x, tmp_path / f"{n}.dcm") for n, x in (("a", a), ("b", b), ("c", c))] + nobody
    page = recorded.page
    _open(page, server, e2e)
    pick_files(page, paths)
    assert page.locator("tr.patient", has_text="(no name)").count() == 2
    assert page.locator("tr.patient").count() == 4
    height = page.locator("#studies").bounding_box()
    assert height is not None and height["height"] < 2000, "a 100,000-character name is cut in the list"
    long_row = page.locator("tr.patient", has_text="Very^Long").inner_text()
    assert long_row.strip().startswith("Very^Long") and len(long_row) < 300, "cut, shown as the name it is"
    first = page.locator("tr.series", has_text="first")
    button = first.get_by_role("button", name="Review Series 1 first, study HEAD, patient")
    button.click()
    page.wait_for_selector("#viewer-canvas[data-shown='1']")
    # Side by side: the list on the left, the review on the right, both on screen.
    list_box = page.locator("#studies-section").bounding_box()
    review_box = page.locator("#review").bounding_box()
    assert list_box and review_box and review_box["x"] >= list_box["x"] + list_box["width"] - 1
    assert review_box["y"] < 200, "the review starts at the top, not below the list"
    assert page.evaluate("() => document.activeElement.id") == "viewer-canvas"
    title = page.inner_text("#review-title")
    assert "HEAD" in title and "Series 1 first" in title
    # Dates in one format, in the list and in the title (the file holds 20040119).
    assert "2004-01-19" in title
    assert "2004-01-19" in page.locator("tr.study", has_text="HEAD").inner_text()
    # The RTL override stays inside its value in the list.
    isolated = page.locator("tr.patient bdi", has_text="1C")
    assert isolated.count() >= 1 and "\u202e" in isolated.first.inner_text()
    e2e.screenshot(page, "review-05-split-view")

    page.keyboard.press("n")
    page.locator("#review-series", has_text="second").wait_for()
    page.keyboard.press("p")
    page.locator("#review-series", has_text="first").wait_for()
    page.select_option("#viewer-tool", "draw")
    page.click("#review-next")
    page.locator("#review-series", has_text="second").wait_for()
    assert page.locator("#viewer-tool").input_value() == "window", "the mouse tool resets for each series"
    page.keyboard.press("Escape")
    assert page.locator("#review-body").is_hidden()
    focused = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
    assert focused and focused.startswith("Review Series 9 second")


def test_a_key_this_browser_just_made_is_announced_before_the_first_upload(
    upload_server: Any, recorded: Any, e2e: Any, tmp_path: Path
) -> None:
    url, token, data = upload_server
    page = recorded.page
    _open(page, url, e2e, key=False)  # a fresh browser: the page makes a key
    pick_files(page, [TEST_FILES / "CT_small.dcm"])
    page.click("#open-settings")
    page.fill("#upload-token", token)
    page.locator("#upload-token").press("Tab")
    page.get_by_role("button", name="Close").last.click()
    assert "made new in this browser" in page.inner_text("#upload")
    fresh = page.inner_text("#upload-key-fingerprint")
    assert len(fresh) == 19
    page.locator("#upload-run:not([disabled])").wait_for(timeout=30_000)
    page.click("#upload-run")
    dialog = page.locator("#key-dialog")
    dialog.wait_for()
    assert fresh in dialog.inner_text()
    e2e.screenshot(page, "review-06-new-key")
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps({"format": "pacsbin-uploader-key", "version": 1, "key": KEY_HEX}))
    page.set_input_files("#key-dialog-import", str(key_file))
    page.locator("#upload-text", has_text="Upload finished").wait_for(timeout=120_000)
    assert page.inner_text("#upload-key-fingerprint") != fresh
    assert "made new" not in page.inner_text("#upload")

    # The same file uploaded with the imported key maps to what the native engine writes with it.
    from anonymizer.config import Config
    from anonymizer.engine import deidentify
    from anonymizer.keys import SecretKey

    config = Config(key=SecretKey(bytes.fromhex(KEY_HEX)))
    expected = deidentify((TEST_FILES / "CT_small.dcm").read_bytes(), config)
    stored = list((data / "instances").rglob("*.dcm"))
    assert [p.stem for p in stored] == [expected.sop_instance_uid]


def test_checking_a_cine_needs_every_frame_shown(
    recorded: Any, server: str, e2e: Any, tmp_path: Path
) -> None:
    from test_viewer import _cine

    path = _save(_cine(generate_uid(), 1, rle=False), tmp_path / "cine.dcm")
    page = recorded.page
    _open(page, server, e2e)
    pick_files(page, [path])
    page.locator("tr.series", has_text="US").get_by_role("button", name="Review").click()
    page.wait_for_selector("#viewer-canvas[data-shown='1']")
    assert page.locator("#viewer-checked").is_disabled()
    assert "1 not seen" in page.inner_text("#viewer-checked")
    check_every_image(page)
    page.locator("tr.series", has_text="images checked").wait_for()


def test_an_incomplete_file_is_flagged_when_dropped(
    recorded: Any, server: str, e2e: Any, tmp_path: Path
) -> None:
    """Truncated files looked healthy in the list and failed only when opened or run: the index says so, in
    plain words first."""
    data = (TEST_FILES / "CT_small.dcm").read_bytes()
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(data[: len(data) // 2])
    page = recorded.page
    _open(page, server, e2e)
    pick_files(page, [cut])
    flag = page.locator("tr.series .flag", has_text="incomplete file")
    flag.wait_for()
    title = flag.get_attribute("title") or ""
    assert title.startswith("incomplete file: it ends before its image data does"), title
    assert "export it again" in title
