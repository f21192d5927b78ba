"""Upload end to end in Chromium: drop, review (thumbnails seen, an ultrasound checked and redacted), upload
to our server started by the test; then check natively what the server stored: de-identified by its own
re-check, redacted pixels, nothing else. A second upload sends nothing the server already holds unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import e2e_harness as h  # tests/e2e is on sys.path (conftest)
import numpy as np
import pydicom
import pytest
from test_viewer import _cine

from anonymizer.verify import Policy, check_deidentified
from app.tokens import Tokens

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
KEY_HEX = bytes(range(32)).hex()


@pytest.fixture
def upload_server(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    data = tmp_path / "server-data"
    token = Tokens(data / "tokens.sqlite").create("e2e")
    url, stop = h.start_server(h.dist_dir(), data=data)
    yield url, token, data
    stop()


def test_review_then_upload_then_resume(upload_server: Any, recorded: Any, e2e: Any, tmp_path: Path) -> None:
    # (upload_server first: it must outlive the page, whose teardown checks every request went to it)
    url, token, data = upload_server
    folder = tmp_path / "Doe^Jane MRN778899"
    folder.mkdir()
    for name in ("CT_small.dcm", "MR_small.dcm"):
        (folder / name).write_bytes((TEST_FILES / name).read_bytes())
    cine = _cine(pydicom.uid.generate_uid(), 1, rle=False)
    cine.save_as(folder / "cine.dcm", enforce_file_format=True)
    page = recorded.page
    page.add_init_script(
        f"localStorage.setItem('pacsbin-uploader-key', JSON.stringify({{format: 'pacsbin-uploader-key', "
        f"version: 1, key: '{KEY_HEX}'}}))"
    )
    page.goto(url + "/")
    e2e.wait_state(page, "ready", timeout=60)
    e2e.drop_paths(page, "#drop-zone", [folder])
    page.locator("#index-progress", has_text="in the list").wait_for(timeout=60_000)
    assert page.locator("#upload-run").is_disabled()
    assert "token" in page.inner_text("#upload-gate")

    # The token, typed into Settings as a person would.
    page.click("#open-settings")
    page.fill("#upload-token", token)
    page.locator("#upload-token").press("Tab")
    page.get_by_role("button", name="Close").last.click()

    # The ultrasound: opened, its banner blacked out on every frame, checked.
    page.locator("tr.series", has_text="US").get_by_role("button").click()
    page.wait_for_selector("#viewer-canvas[data-shown]")
    page.select_option("#viewer-tool", "draw")
    box = page.locator("#viewer-canvas").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.02, box["y"] + box["height"] * 0.05)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.3, steps=5)
    page.mouse.up()
    page.click("#viewer-checked")
    page.locator("tr.series", has_text="images checked").wait_for()
    page.locator("#studies").scroll_into_view_if_needed()
    for thumb in page.locator("canvas.thumb").all():  # the reviewer scrolls past every series
        thumb.scroll_into_view_if_needed()
    page.locator("#upload-run:not([disabled])").wait_for(timeout=30_000)
    e2e.screenshot(page, "upload-01-ready")
    page.click("#upload-run")
    page.locator("#upload-text", has_text="Upload finished").wait_for(timeout=120_000)
    text = page.inner_text("#upload-text")
    assert "3 stored" in text and "0 refused" in text, text
    e2e.screenshot(page, "upload-02-finished")

    stored = sorted((data / "instances").rglob("*.dcm"))
    assert len(stored) == 3
    for path in stored:
        verdict = check_deidentified(path.read_bytes(), Policy())
        assert verdict.ok, verdict.problems
        ds = pydicom.dcmread(path)
        assert "Doe" not in str(ds.PatientName) and ds.PatientIdentityRemoved == "YES"
        if ds.Modality == "US":
            frames = ds.pixel_array
            assert (frames[:, 2:12, 4:100] == 0).all(), "the banner is black on every frame"
            assert ds.BurnedInAnnotation == "NO"
            assert not np.array_equal(frames, np.zeros_like(frames))

    # Again: the server already holds these exact bytes, so nothing is sent.
    page.click("#upload-run")
    page.locator("#upload-text", has_text="Upload finished: 0 stored").wait_for(timeout=120_000)
    text = page.inner_text("#upload-text")
    assert "0 stored" in text and "3 already on the server unchanged" in text, text
    assert len(list((data / "instances").rglob("*.dcm"))) == 3
