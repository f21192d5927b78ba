"""The page's text suggestions (issue 14), as a reviewer meets them: after the files are listed the page
looks for burned-in text in the background (progress, cancel), flags the series where it found some (also a
CT the review rule does not flag), draws each suggestion dashed in the viewer with what it reads and what it
matches, and will not let a series be confirmed until each suggestion is accepted or dismissed; an accepted
one is blacked out in the written file, a dismissed one is not.

Images are rendered with Pillow (tests/text_images.py): an ultrasound-like RGB cine whose name stays in
place while its time stamp changes, a secondary capture with text, a CT with a name burned in (the review
rule sees no risk in a CT), a clean CT. Needs the built page with the text finder (dist/text/)."""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from page_actions import pick_files, preset_key
from playwright.sync_api import expect
from pydicom.uid import generate_uid

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from text_images import LABELS_CT, Label, ct_picture, dicom_file, draw, series_file, us_picture  # noqa: E402

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
SCAN_TIMEOUT_MS = 240_000
NAME = Label("DOE, JOHN", 12, 10, 18)
SC_TEXT = Label("DOE, JOHN  11.03.2024", 40, 40, 20)


def _us_cine(frames: int = 3) -> bytes:
    """RGB, yellow name and ID at the top of every frame, a time stamp at the bottom that changes."""
    out = []
    for f in range(frames):
        mask, _ = draw(
            (480, 640), [NAME, Label("ID 12345678", 12, 34, 14), Label(f"14:22:0{f}", 520, 450, 16)]
        )
        img = us_picture()
        img[mask] = (230, 220, 40)
        out.append(img)
    return dicom_file(np.stack(out), photometric="RGB", modality="US")


def _ct(text: bool) -> bytes:
    img = ct_picture()
    if text:
        mask, _ = draw((480, 640), LABELS_CT)
        img[mask] = 4095
    return dicom_file(img, photometric="MONOCHROME2", bits_stored=12)


def _sc() -> bytes:
    mask, _ = draw((480, 640), [SC_TEXT])
    img = np.full((480, 640), 30, np.uint8)
    img[120:400, 100:540] = 90  # a screenshot's window
    img[mask] = 235
    return dicom_file(img, photometric="MONOCHROME2", modality="OT")


def _folder(tmp: Path) -> dict[str, Path]:
    tmp.mkdir(parents=True, exist_ok=True)
    study = generate_uid()
    return {
        "us": series_file(tmp / "us.dcm", _us_cine(), study, 1, "US cine with name"),
        "sc": series_file(tmp / "sc.dcm", _sc(), study, 2, "Screenshot"),
        "ct": series_file(
            tmp / "ct_text.dcm", _ct(True), study, 3, "CT with name", SOPClassUID=CT_IMAGE_STORAGE
        ),
        "clean": series_file(
            tmp / "ct_clean.dcm", _ct(False), study, 4, "CT clean", SOPClassUID=CT_IMAGE_STORAGE
        ),
    }


def _open(page: Any, url: str, e2e: Any, size: tuple[int, int] = (1440, 900)) -> None:
    preset_key(page)
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto(url + "/")
    e2e.wait_state(page, "ready", timeout=60)


def _row(page: Any, description: str) -> Any:
    return page.locator("tr.series", has_text=description)


def _see_every_frame(page: Any) -> None:
    """Step through every frame not shown yet ("Show the next image not seen"), as a reviewer does."""
    seen = page.locator("#review-seen")
    for _ in range(50):
        nxt = page.locator("#review-seen button", has_text="next image not seen")
        if nxt.count() == 0:
            text = seen.inner_text()
            if "Shown to you" in text and "next image" not in text:
                return
            page.wait_for_timeout(50)
            continue
        before = seen.get_attribute("data-frames") or "0"
        nxt.click()
        page.locator(f'#review-seen:not([data-frames="{before}"])').wait_for(timeout=30_000)
    raise AssertionError(f"not every frame seen: {seen.inner_text()}")


def _see_all_frames_of_the_image(page: Any, frames: int) -> None:
    canvas = page.locator("#viewer-canvas")
    canvas.focus()
    for f in range(2, frames + 1):
        canvas.press("ArrowRight")
        page.wait_for_selector(f"#viewer-canvas[data-shown='{f}']")


def _download(page: Any, e2e: Any, tmp_path: Path) -> dict[int, pydicom.Dataset]:
    """The written files by Series Number (descriptions are removed by the profile)."""
    with page.expect_download(timeout=120_000) as info:
        page.click("#run")
    path = tmp_path / "out.zip"
    info.value.save_as(path)
    e2e.wait_state(page, "done", timeout=60)
    out = {}
    with zipfile.ZipFile(path) as z:
        for entry in z.namelist():
            if entry.endswith(".dcm"):
                ds = pydicom.dcmread(io.BytesIO(z.read(entry)))
                out[int(ds.SeriesNumber)] = ds
    return out


def _viewport_shot(page: Any, e2e: Any, name: str) -> None:
    """What is on screen (not the full page): what matters must be above the fold."""
    page.screenshot(path=str(e2e.screenshot_path(name)))


def _ink(label: Label) -> Any:
    return draw((480, 640), [label])[0]


def _suggestion_boxes(page: Any) -> list[dict[str, Any]]:
    """The accepted regions as the page would export them (Export regions... writes state.regions)."""
    with page.expect_download() as info:
        page.click("#regions-export")
    return list(json.loads(Path(info.value.path()).read_text()))


def test_text_is_found_flagged_suggested_gated_and_blacked_out_when_accepted(
    recorded: Any, server: str, e2e: Any, tmp_path: Path
) -> None:
    files = _folder(tmp_path / "in")
    page = recorded.page
    _open(page, server, e2e)
    pick_files(page, list(files.values()), listed="4 DICOM files in the list")
    status = page.locator("#text-scan")
    expect(status).to_contain_text("Looking for text in images", timeout=60_000)
    e2e.screenshot(page, "text-01-scanning")
    page.locator("#text-scan[data-status='done']").wait_for(timeout=SCAN_TIMEOUT_MS)
    assert "found in 3" in status.inner_text(), status.inner_text()
    assert "s a frame" in status.inner_text()

    # The list: text flagged on the three with text, also on the CT the review rule does not flag.
    for description in ("US cine with name", "Screenshot", "CT with name"):
        expect(_row(page, description)).to_contain_text("text found in 1 image(s)")
    expect(_row(page, "CT clean")).not_to_contain_text("text found")
    ct_row = _row(page, "CT with name")
    expect(ct_row).to_contain_text("check the images before including")
    assert ct_row.get_by_role("checkbox").is_disabled()
    e2e.screenshot(page, "text-02-list-flags")

    # The US cine: the name on three frames is one suggestion for every frame; the changing time stamp too.
    _row(page, "US cine with name").get_by_role("button", name="Review").click()
    page.wait_for_selector("#viewer-canvas[data-shown='1']")
    items = page.locator("#viewer-suggestions li.text-suggestion")
    expect(items.first).to_be_visible()
    texts = items.all_inner_texts()
    assert len(texts) >= 2 and all("every frame" in t for t in texts), texts
    # Recognition reads the text in the page, and the header match says what it spells (issue 14).
    assert any("matches Patient's Name" in t for t in texts), texts
    _see_all_frames_of_the_image(page, 3)
    check = page.locator("#viewer-checked")
    expect(check).to_be_disabled()
    expect(check).to_contain_text("Accept or dismiss every text suggestion first")
    expect(page.locator("#review-text")).to_contain_text("to accept or dismiss")
    _viewport_shot(page, e2e, "text-03-viewer-suggestions-1440x900")
    page.set_viewport_size({"width": 1280, "height": 720})
    _viewport_shot(page, e2e, "text-04-viewer-suggestions-1280x720")
    assert check.is_visible() and check.bounding_box()["y"] + check.bounding_box()["height"] <= 720 + 1
    page.set_viewport_size({"width": 1440, "height": 900})

    # Keys: S goes to the next suggestion, A accepts it; the rest with "Accept all".
    page.locator("#viewer-canvas").focus()
    page.keyboard.press("s")
    expect(page.locator("#viewer-suggestions li.text-suggestion.current")).to_have_count(1)
    page.keyboard.press("a")
    expect(items).to_have_count(len(texts) - 1)
    page.click("#viewer-accept-all")
    expect(items).to_have_count(0)
    expect(check).to_be_enabled()
    expect(check).to_have_text("I have checked every image of this series")
    check.click()
    expect(check).to_contain_text("undo")

    # The CT with a name: dismissed with X (nothing is written for it), then checked.
    page.keyboard.press("Escape")
    ct_row.get_by_role("button", name="Review").click()
    page.wait_for_selector("#viewer-canvas[data-shown='1']")
    ct_items = page.locator("#viewer-suggestions li.text-suggestion")
    n = ct_items.count()
    assert n >= 1
    page.locator("#viewer-canvas").focus()
    for left in range(n, 0, -1):
        expect(ct_items).to_have_count(left)
        page.keyboard.press("x")
    expect(ct_items).to_have_count(0)
    expect(check).to_be_enabled()
    check.click()

    # The screenshot: every suggestion accepted with Shift+A.
    page.keyboard.press("Escape")
    _row(page, "Screenshot").get_by_role("button", name="Review").click()
    page.wait_for_selector("#viewer-canvas[data-shown='1']")
    page.locator("#viewer-canvas").focus()
    page.keyboard.press("Shift+A")
    expect(page.locator("#viewer-suggestions li.text-suggestion")).to_have_count(0)
    check.click()
    expect(check).to_contain_text("undo")
    _viewport_shot(page, e2e, "text-05-accepted")

    regions = _suggestion_boxes(page)
    us_sop = str(pydicom.dcmread(files["us"]).SOPInstanceUID)
    us_regions = [r for r in regions if r["sop_instance_uid"] == us_sop]
    assert us_regions and all(r["frames"] is None and "text" in r and "matches" in r for r in us_regions)
    ct_sop = str(pydicom.dcmread(files["ct"]).SOPInstanceUID)
    assert not [r for r in regions if r["sop_instance_uid"] == ct_sop]  # dismissed: nothing

    out = _download(page, e2e, tmp_path)
    assert set(out) == {1, 2, 3, 4}
    us = out[1].pixel_array  # (frames, rows, columns, 3)
    for r in us_regions:
        assert (us[:, r["y"] : r["y"] + r["height"], r["x"] : r["x"] + r["width"]] == 0).all(), r
    assert us[:, _ink(NAME)].max() == 0  # the name's ink, on every frame
    assert out[2].pixel_array[_ink(SC_TEXT)].max() == 0
    ct = out[3].pixel_array
    assert ct[_ink(LABELS_CT[0])].min() == 4095  # dismissed: the name is still there (the reviewer said so)


def test_the_scan_can_be_cancelled_and_resumed(recorded: Any, server: str, e2e: Any, tmp_path: Path) -> None:
    tmp_path.mkdir(exist_ok=True)
    study = generate_uid()
    paths = [
        series_file(
            tmp_path / f"ct{i}.dcm",
            _ct(False),
            study,
            10 + i,
            f"Clean series {i}",
            SOPClassUID=CT_IMAGE_STORAGE,
        )
        for i in range(8)
    ]
    page = recorded.page
    _open(page, server, e2e)
    pick_files(page, paths, listed="8 DICOM files in the list")
    cancel = page.locator("#text-scan button", has_text="Cancel")
    cancel.click(timeout=60_000)
    page.locator("#text-scan[data-status='cancelled']").wait_for(timeout=60_000)
    status = page.locator("#text-scan").inner_text()
    assert "not looked at" in status, status
    left = int(status.split("cancelled: ")[1].split(" ")[0])
    assert 1 <= left <= 8
    flagged = page.locator("tr.series", has_text="not looked at for text")
    expect(flagged).to_have_count(left)
    e2e.screenshot(page, "text-06-cancelled")
    page.click("#text-scan button:has-text('Look for text again')")
    page.locator("#text-scan[data-status='done']").wait_for(timeout=SCAN_TIMEOUT_MS)
    expect(page.locator("tr.series", has_text="not looked at for text")).to_have_count(0)
    assert "found in 0" in page.locator("#text-scan").inner_text()


@pytest.mark.parametrize("size", [(1440, 900)])
def test_an_image_that_cannot_be_looked_at_is_named(
    recorded: Any, server: str, e2e: Any, tmp_path: Path, size: tuple[int, int]
) -> None:
    """A 12-bit JPEG (no exact decoder in the page) is listed as not looked at for text, with the reason."""
    src = Path(pydicom.__file__).parent / "data" / "test_files" / "JPEG-lossy.dcm"
    page = recorded.page
    _open(page, server, e2e, size)
    pick_files(page, [src], listed="1 DICOM files in the list")
    page.locator("#text-scan[data-status='done']").wait_for(timeout=SCAN_TIMEOUT_MS)
    row = page.locator("tr.series")
    expect(row).to_contain_text("1 image(s) could not be looked at for text")
    row.get_by_role("button", name="Review").click()
    expect(page.locator("#review-text-failed")).to_contain_text(
        "JPEG-lossy.dcm: could not be looked at for text:"
    )


# Logs, in the order they happen, the scan's frame reads (engine workers, slot "scan", 0-based frames) and
# the text worker's finds and their replies. An init script: nothing is evaluated by the page itself.
SCAN_LOG = """
(() => {
  const log = (window.__scanLog = []);
  const Base = window.Worker;
  window.Worker = class extends Base {
    constructor(url, options) {
      super(url, options);
      const text = String(url).includes("text_worker");
      const finds = new Set();
      const post = this.postMessage.bind(this);
      this.postMessage = (message, transfer) => {
        const cmd = message && message.cmd;
        if (!text && cmd === "image" && message.slot === "scan") log.push(["read", message.frame]);
        if (text && cmd === "find") finds.add(message.id);
        return post(message, transfer);
      };
      if (!text) return;
      this.addEventListener("message", ({ data }) => { if (finds.delete(data.id)) log.push(["found"]); });
    }
  };
})();
"""


def test_the_engine_reads_the_next_frame_while_a_frame_is_searched(
    recorded: Any, server: str, e2e: Any, tmp_path: Path
) -> None:
    """The scan's own overhead (brief T): the engine worker reads frame f + 1 of a cine while the text worker
    looks at frame f, rather than after it (bench/page_text.py: 42-54 -> 8-10 ms a frame)."""
    tmp_path.mkdir(exist_ok=True)
    path = series_file(tmp_path / "us.dcm", _us_cine(4), generate_uid(), 1, "US cine")
    page = recorded.page
    page.context.add_init_script(SCAN_LOG)
    _open(page, server, e2e)
    pick_files(page, [path], listed="1 DICOM files in the list")
    page.locator("#text-scan[data-status='done']").wait_for(timeout=SCAN_TIMEOUT_MS)
    log = [tuple(e) for e in page.evaluate("() => window.__scanLog")]
    reads = [e[1] for e in log if e[0] == "read"]
    assert sorted(set(reads)) == [0, 1, 2, 3], log  # every frame read (the viewer's reads are another slot)
    found_at = [i for i, e in enumerate(log) if e[0] == "found"]
    assert len(found_at) == 4, log
    for f in range(3):
        asked = log.index(("read", f + 1))
        assert asked < found_at[f], f"frame {f + 1} was read only after frame {f} was searched: {log}"
