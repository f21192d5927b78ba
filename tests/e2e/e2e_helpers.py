"""Helpers for the page tests (the ``e2e`` fixture): drop real files and folders on the page, wait for a
page state, take screenshots into tests/e2e/screenshots/.
"""

from __future__ import annotations

import re
from pathlib import Path

from page_actions import drop_on
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


class Helpers:
    """``e2e`` fixture: small helpers that take the page as first argument."""

    screenshots = SCREENSHOTS

    def drop_paths(self, page: Page, selector: str, paths: list[Path]) -> None:
        """Drop files and folders (real paths) on ``selector`` (page_actions.drop_on)."""
        drop_on(page, selector, paths)

    def wait_state(self, page: Page, state: str, timeout: float = 30.0) -> None:
        """Wait (``timeout`` in seconds) until ``document.body.dataset.state == state``."""
        try:
            # A locator, not wait_for_function: that evaluates a string in the page, which a strict CSP
            # (no 'unsafe-eval') blocks and reports as a violation.
            page.locator(f'body[data-state="{state}"]').wait_for(state="attached", timeout=timeout * 1000)
        except PlaywrightTimeoutError:
            now = page.evaluate("() => document.body ? document.body.dataset.state : null")
            why = f"page state still {now!r} after {timeout} s (waited for {state!r})"
            raise AssertionError(why) from None

    def screenshot_path(self, name: str) -> Path:
        """tests/e2e/screenshots/<name>.png (the folder is created)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "page"
        return SCREENSHOTS / (safe if safe.endswith(".png") else f"{safe}.png")

    def screenshot(self, page: Page, name: str) -> Path:
        """Save a full-page PNG as tests/e2e/screenshots/<name>.png; returns the path."""
        path = self.screenshot_path(name)
        page.screenshot(path=str(path), full_page=True)
        # A full-page capture resizes the view and Chromium can keep a stale visual viewport offset after
        # it (clicks then land hundreds of pixels off); setting the size again resets it.
        if page.viewport_size:
            page.set_viewport_size(page.viewport_size)
        return path
