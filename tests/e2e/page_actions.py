"""What a person does on the page, as several browser tests (and the page benchmark) do it: dropping files,
the key they use, the upload token, drawing a region on the viewer, scrolling past every series'
thumbnail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

KEY_HEX = bytes(range(32)).hex()  # the key the tests' native expectations are computed with


def preset_key(page: Any) -> None:
    """The page starts with KEY_HEX as its secret key (as if imported earlier in this browser)."""
    page.add_init_script(
        f"localStorage.setItem('pacsbin-uploader-key', JSON.stringify({{format: 'pacsbin-uploader-key', "
        f"version: 1, key: '{KEY_HEX}'}}))"
    )


def drop_on(page: Any, selector: str, paths: list[Any]) -> None:
    """Drop files and folders (real paths) on `selector` as a person would from a file manager.

    Uses CDP ``Input.dispatchDragEvent`` (dragEnter, dragOver, drop) at the element's centre, so the
    page sees real entries: ``webkitGetAsEntry()`` gives directories it can walk.
    """
    loc = page.locator(selector)
    loc.scroll_into_view_if_needed()
    box = loc.bounding_box()
    assert box is not None, f"{selector} is not visible"
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    data = {"items": [], "files": [str(Path(p).resolve()) for p in paths], "dragOperationsMask": 1}
    cdp = page.context.new_cdp_session(page)
    try:
        for kind in ("dragEnter", "dragOver", "drop"):
            cdp.send("Input.dispatchDragEvent", {"type": kind, "x": x, "y": y, "data": data})
    finally:
        cdp.detach()


def preset_upload(target: Any, token: str) -> None:
    """The page (or every page of a browser context: `target`) starts as in a browser that has uploaded
    before: this upload token set in Settings, on this server's DICOMweb path (static/upload-ui.mjs keeps
    them in localStorage), and a secret key that is not new (KEY_HEX unless a key is already kept), so the
    page does not stop the first upload to say that this browser just made a new key (settings.mjs)."""
    settings = json.dumps({"endpoint": "/dicomweb", "token": token})
    target.add_init_script(
        f"localStorage.setItem('pacsbin-uploader-upload', {json.dumps(settings)});"
        "if (!localStorage.getItem('pacsbin-uploader-key')) localStorage.setItem('pacsbin-uploader-key', "
        f"JSON.stringify({{format: 'pacsbin-uploader-key', version: 1, key: '{KEY_HEX}'}}));"
    )


def draw_region(page: Any, start: tuple[float, float], end: tuple[float, float], steps: int = 5) -> None:
    """Drag a rectangle on the viewer's canvas with the draw tool; corners as fractions of the canvas."""
    page.select_option("#viewer-tool", "draw")
    box = page.locator("#viewer-canvas").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * start[0], box["y"] + box["height"] * start[1])
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * end[0], box["y"] + box["height"] * end[1], steps=steps)
    page.mouse.up()


def look_at_every_thumbnail(page: Any) -> None:
    """Once every thumbnail is drawn, scroll each into view, and so its row: the page then counts every series
    as seen."""
    thumbs = page.locator("canvas.thumb")
    page.locator("canvas.thumb[data-thumb]").nth(thumbs.count() - 1).wait_for(state="attached")
    for i in range(thumbs.count()):
        thumbs.nth(i).scroll_into_view_if_needed()


def pick_files(page: Any, paths: list[Any], listed: str = "in the list") -> None:
    """Choose files with the file picker and wait until the study list has them (`listed`: the text the
    index progress must show, e.g. "2 DICOM files in the list")."""
    page.set_input_files("#pick-files", [str(p) for p in paths])
    page.locator("#index-progress", has_text=listed).wait_for(timeout=60_000)


def check_every_image(page: Any, limit: int = 400) -> None:
    """In the open review, look at every frame of every image not seen yet ("Show the next image not seen",
    as a person steps through them), then press "I have checked every image of this series"."""
    button = page.locator("#viewer-checked")
    seen = page.locator("#review-seen")
    for _ in range(limit):
        if button.is_enabled() and "I have checked" in button.inner_text():
            break
        nxt = page.locator("#review-seen button", has_text="next image not seen")
        if nxt.count() == 0:
            page.wait_for_timeout(50)  # the frame on screen is still being marked as shown
            continue
        before = seen.get_attribute("data-frames") or "0"
        nxt.click()
        # (a locator, not wait_for_function: the page's CSP forbids eval)
        page.locator(f'#review-seen:not([data-frames="{before}"])').wait_for(timeout=30_000)
    else:
        raise AssertionError(f"still not every image seen: {seen.inner_text()}")
    button.click()


def assert_in_view(page: Any, selector: str) -> None:
    """The element is inside the window and inside every scrolling pane around it: a person sees it."""
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not shown"
    visible = page.locator(selector).evaluate(
        """(el) => {
          const r = el.getBoundingClientRect();
          let top = 0, bottom = window.innerHeight;
          for (let p = el.parentElement; p; p = p.parentElement) {
            const s = getComputedStyle(p);
            if (/(auto|scroll|hidden)/.test(s.overflowY)) {
              const q = p.getBoundingClientRect();
              top = Math.max(top, q.top); bottom = Math.min(bottom, q.bottom);
            }
          }
          return r.top >= top - 1 && Math.min(r.bottom, r.top + 40) <= bottom + 1;
        }"""
    )
    assert visible, f"{selector} is outside the window or scrolled out of its pane: {box}"
