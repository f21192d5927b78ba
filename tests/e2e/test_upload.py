"""Upload end to end in Chromium: drop, review (thumbnails seen, an ultrasound checked and redacted), upload
to our server started by the test; then check natively what the server stored: de-identified by its own
re-check, redacted pixels, nothing else. A second upload sends nothing the server already holds unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from e2e_servers import dist_dir, launch_registered, start_server  # tests/e2e is on sys.path (conftest)
from page_actions import (
    assert_in_view,
    check_every_image,
    draw_region,
    look_at_every_thumbnail,
    pick_files,
    preset_key,
    preset_upload,
)
from test_viewer import _cine

from anonymizer.verification.verify import Policy, check_deidentified
from app.tokens import Tokens

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"


@pytest.fixture
def upload_server(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    data = tmp_path / "server-data"
    token = Tokens(data / "tokens.sqlite").create("e2e")
    url, stop = start_server(dist_dir(), data=data)
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
    preset_key(page)
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
    draw_region(page, (0.02, 0.05), (0.7, 0.3))
    check_every_image(page)
    page.locator("tr.series", has_text="images checked").wait_for()
    page.locator("#studies").scroll_into_view_if_needed()
    look_at_every_thumbnail(page)  # the reviewer scrolls past every series
    page.locator("#upload-run:not([disabled])").wait_for(timeout=30_000)
    e2e.screenshot(page, "upload-01-ready")
    page.click("#upload-run")
    page.locator("#upload-text", has_text="Upload finished").wait_for(timeout=120_000)
    text = page.inner_text("#upload-text")
    assert "3 stored" in text and "0 refused" in text, text
    report = page.inner_text("#upload-report")
    assert report.count(" stored (") == 3, "a line per study with what it stored"
    assert "Cine^Carla: study (no description): 1 stored (" in report, "named as in the study list"
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


def _upload_two_files(page: Any, url: str, e2e: Any, until: str) -> None:
    """Open the page, pick two public files, look at both series, click "Upload" and wait for `until`."""
    page.goto(url + "/")
    e2e.wait_state(page, "ready", timeout=60)
    pick_files(page, [TEST_FILES / n for n in ("CT_small.dcm", "MR_small.dcm")], "2 DICOM files in the list")
    look_at_every_thumbnail(page)
    page.locator("#upload-run:not([disabled])").wait_for(timeout=30_000)
    page.click("#upload-run")
    page.locator("#upload-text", has_text=until).wait_for(timeout=120_000)


def _cine_series(tmp_path: Path, count: int, series_count: int = 1) -> Path:
    """A folder of `count` small cine instances in each of `series_count` series of one study, not gated by
    the review (these tests are about the transport)."""
    folder = tmp_path / "cines"
    folder.mkdir()
    for k in range(series_count):
        series = pydicom.uid.generate_uid()
        for number in range(1, count + 1):
            ds = _cine(series, number, rle=False)
            ds.BurnedInAnnotation = "NO"
            ds.Modality = "OT"
            name = f"c{number}.dcm" if k == 0 else f"s{k}c{number}.dcm"
            ds.save_as(folder / name, enforce_file_format=True)
    return folder


@pytest.fixture
def servers() -> Iterator[list[Any]]:
    """Servers a test starts; stopped after the page's teardown (which checks every request went to one)."""
    started: list[Any] = []
    yield started
    for server in started:
        server.stop()


def test_server_killed_mid_upload_then_the_page_resumes(
    servers: list[Any], recorded: Any, e2e: Any, tmp_path: Path
) -> None:
    """The server dies (-9) while the page uploads; restarted on the same origin, the page's next upload sends
    only what is missing, and every instance ends up stored exactly once, whole."""
    import os
    import signal
    import threading

    data = tmp_path / "server-data"
    token = Tokens(data / "tokens.sqlite").create("e2e", per_minute=10_000)
    server = launch_registered(dist_dir(), data=data)
    servers.append(server)
    port = server.port
    folder = _cine_series(tmp_path, 24)
    page = recorded.page
    preset_upload(page, token)
    page.goto(server.url + "/")
    e2e.wait_state(page, "ready", timeout=60)
    e2e.drop_paths(page, "#drop-zone", [folder])
    page.locator("#index-progress", has_text="24 DICOM files in the list").wait_for(timeout=60_000)
    look_at_every_thumbnail(page)
    page.locator("#upload-run:not([disabled])").wait_for(timeout=30_000)

    def kill_when_some_are_stored() -> None:
        for _ in range(600):
            if len(list((data / "instances").rglob("*.dcm"))) >= 4:
                os.kill(server.proc.pid, signal.SIGKILL)
                return
            threading.Event().wait(0.02)

    killer = threading.Thread(target=kill_when_some_are_stored)
    killer.start()
    page.click("#upload-run")
    # The page retries with back-off (~30 s), then stops the whole upload rather than retrying every
    # remaining batch, and says what got through.
    page.locator("#upload-text", has_text="Stopped:").wait_for(timeout=180_000)
    killer.join(30)
    first = page.inner_text("#upload-text")
    # (the tests' recording proxy answers 502 for the dead server; without it, fetch fails outright)
    gone = "the server is unavailable (HTTP 502)" in first or "the server cannot be reached" in first
    assert gone and "not uploaded: upload again to send them" in first, first
    assert " 0 not uploaded" not in first, first
    server.proc.wait(10)
    server = launch_registered(dist_dir(), data=data, port=port)
    servers.append(server)
    assert not list((data / "instances").rglob("*.tmp"))
    page.click("#upload-run")
    page.locator("#upload-text", has_text="0 not sent (errors)").wait_for(timeout=180_000)
    second = page.inner_text("#upload-text")
    e2e.screenshot(page, "upload-03-resumed")
    stored = list((data / "instances").rglob("*.dcm"))
    assert len(stored) == 24, second
    assert "already on the server unchanged" in second and not second.startswith("Upload finished: 24 stored")
    for path in stored:
        assert check_deidentified(path.read_bytes(), Policy()).ok


def test_a_refused_token_stops_the_upload_at_once(upload_server: Any, recorded: Any, e2e: Any) -> None:
    """A wrong token: the first answer (401) stops the upload with what to do, instead of a failure per
    file; nothing is stored."""
    url, _, data = upload_server
    page = recorded.page
    preset_upload(page, "not-the-token")
    _upload_two_files(page, url, e2e, until="Stopped:")
    text = page.inner_text("#upload-text")
    assert "refused the token (401): check it in Settings" in text and "2 not uploaded" in text, text
    assert "Before that" not in text, "nothing got through: no zero counts"
    assert page.locator("#upload-report li").count() == 0, "no failure per file"
    e2e.screenshot(page, "upload-05-bad-token")
    assert not (data / "instances").exists() or not list((data / "instances").rglob("*.dcm"))


def test_cancel_stops_the_upload_and_a_later_upload_sends_the_rest(
    upload_server: Any, recorded: Any, e2e: Any, tmp_path: Path
) -> None:
    """The server holds every request (requests in flight, none answered); "Cancel upload" aborts them and
    says nothing more is sent; uploading again stores everything."""
    url, token, data = upload_server
    folder = _cine_series(tmp_path, 40)
    page = recorded.page
    preset_upload(page, token)
    page.goto(url + "/")
    e2e.wait_state(page, "ready", timeout=60)
    e2e.drop_paths(page, "#drop-zone", [folder])
    page.locator("#index-progress", has_text="40 DICOM files in the list").wait_for(timeout=60_000)
    look_at_every_thumbnail(page)
    held: list[Any] = []
    page.route("**/dicomweb/studies", lambda route: held.append(route))  # never answered
    page.locator("#upload-run:not([disabled])").wait_for(timeout=30_000)
    page.click("#upload-run")
    for _ in range(300):  # the route handler runs while Playwright waits
        if len(held) >= 3:
            break
        page.wait_for_timeout(100)
    page.locator("#upload-text", has_text="32 de-identified").wait_for(timeout=30_000)
    assert len(held) == 3, "3 requests in flight, the page waits for an answer before sending more"
    text = page.inner_text("#upload-text")
    assert text.startswith("0 of 40 files uploaded") and "waiting for the server" in text, text
    assert "32 file(s) de-identified, 0 stored (0 kB)" in page.inner_text("#upload-report")
    # A silent server is said to be silent, with a count that moves (never a stale time left).
    page.locator("#upload-text", has_text="waiting for the server, no answer for").wait_for(timeout=15_000)
    assert " left" not in page.inner_text("#upload-text")
    e2e.screenshot(page, "upload-06-cancelling")
    page.click("#upload-cancel")
    page.locator("#upload-text", has_text="Cancelled.").wait_for(timeout=30_000)
    text = page.inner_text("#upload-text")
    assert "40 not uploaded: upload again to send them" in text, text
    assert page.locator("#upload-cancel").is_hidden()
    assert len(held) == 3, "nothing sent after the cancel"
    page.unroute("**/dicomweb/studies")
    page.click("#upload-run")
    page.locator("#upload-text", has_text="Upload finished").wait_for(timeout=120_000)
    assert "40 stored" in page.inner_text("#upload-text")
    assert len(list((data / "instances").rglob("*.dcm"))) == 40


def test_refusals_are_reported_with_the_servers_reason(
    upload_server: Any, recorded: Any, e2e: Any, tmp_path: Path
) -> None:
    """The legacy Pacsbin profile chosen in Settings; this server does not accept it: every file is refused,
    and the page's report says so, naming each file the user gave, with the server's reason. Nothing is
    stored."""
    url, token, data = upload_server
    page = recorded.page
    settings = json.dumps({"profile": "pacsbin", "options": []})
    page.add_init_script(f"localStorage.setItem('pacsbin-uploader-settings', '{settings}')")
    preset_upload(page, token)
    _upload_two_files(page, url, e2e, until="Upload finished")
    assert "0 stored" in page.inner_text("#upload-text") and "2 refused" in page.inner_text("#upload-text")
    report = page.inner_text("#upload-report")
    refusal = "names the legacy Pacsbin script, whose profile this server does not accept"
    assert report.count(refusal) == 2, report
    assert "refused CT_small.dcm: " in report and "refused MR_small.dcm: " in report, "named by file"
    assert_in_view(page, "#upload-text")  # at 1280x720 the report ended below the window
    assert_in_view(page, "#upload-report")
    e2e.screenshot(page, "upload-04-refused")
    assert not list((data / "instances").rglob("*.dcm"))


def test_a_busy_server_shows_a_countdown_and_the_resume_counts_what_it_holds(
    servers: list[Any], recorded: Any, e2e: Any, tmp_path: Path
) -> None:
    """Issue 11, item 4: a second upload within a minute met the token's rate limit and the progress froze on
    "about 1 s left". Here a token allows 3 requests a minute: the first upload takes all 3 (one resume
    query for its one study, two STOW-RS requests of 8 + 4 files), so the second upload's resume query is
    refused (429). The page says the server is busy and counts down to the server's Retry-After, then
    finishes, counting the 12 files as already on the server (not "0 stored"). The resume asks once per
    study, never per series."""
    import re

    data = tmp_path / "server-data"
    token = Tokens(data / "tokens.sqlite").create("e2e", per_minute=3)
    server = launch_registered(dist_dir(), data=data)
    servers.append(server)
    folder = _cine_series(tmp_path, 6, series_count=2)  # one study, two series
    page = recorded.page
    preset_upload(page, token)
    page.goto(server.url + "/")
    e2e.wait_state(page, "ready", timeout=60)
    e2e.drop_paths(page, "#drop-zone", [folder])
    page.locator("#index-progress", has_text="12 DICOM files in the list").wait_for(timeout=60_000)
    look_at_every_thumbnail(page)
    page.locator("#upload-run:not([disabled])").wait_for(timeout=30_000)
    page.click("#upload-run")
    page.locator("#upload-text", has_text="Upload finished").wait_for(timeout=120_000)
    assert "12 stored" in page.inner_text("#upload-text")

    asked_before = len(recorded.requests)
    page.click("#upload-run")
    busy = page.locator("#upload-text", has_text="server busy, retrying in")
    busy.wait_for(timeout=30_000)
    page.locator("#upload-report").scroll_into_view_if_needed()
    e2e.screenshot(page, "upload-07-server-busy")
    first = page.inner_text("#upload-text")
    match = re.search(r"retrying in (\d+) s", first)
    assert match and "left" not in first, first
    page.wait_for_timeout(2_500)
    later = re.search(r"retrying in (\d+) s", page.inner_text("#upload-text"))
    assert later and int(later.group(1)) < int(match.group(1)), "a live countdown"
    page.locator("#upload-text", has_text="Upload finished").wait_for(timeout=120_000)
    text = page.inner_text("#upload-text")
    assert "0 stored" in text and "12 already on the server" in text and "0 not sent" in text, text
    report = page.inner_text("#upload-report")
    assert "Cine^Carla: study (no description): 12 already on the server" in report, report
    assert "0 stored" not in report, report
    page.locator("#upload-report").scroll_into_view_if_needed()
    e2e.screenshot(page, "upload-08-resumed-after-busy")
    asked = [u for u in recorded.requests[asked_before:] if "/dicomweb/" in u]
    assert not [u for u in asked if "/series" in u], "the resume asks per study, not per series"
    study = {u.split("/studies/")[1].split("/")[0] for u in asked}
    assert len(study) == 1 and all(u.endswith("/instances") for u in asked), asked
    assert len(asked) == 2, "the refused query, then the same query once the server allows it"
    assert len(list((data / "instances").rglob("*.dcm"))) == 12
