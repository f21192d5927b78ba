"""The page benchmark's browser session (bench/page.py): Chromium launched by Playwright with a persistent
profile and nothing resolving off 127.0.0.1, the page's state waited for, files dropped on it."""

from __future__ import annotations

import contextlib
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from page_scripts import PAGE_OBSERVERS, PAGE_RPC_TIMER

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))
from e2e_browser import BASE_ARGS, CHROMIUM  # noqa: E402  (the browser tests' Chromium and flags)
from page_actions import drop_on  # noqa: E402  (what a person does on the page)

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PY = sys.executable
VENV_PY = ROOT / ".venv" / "bin" / "python"

LAUNCH_ARGS = BASE_ARGS  # the browser tests' flags: nothing resolves off 127.0.0.1, no background chatter


@dataclass
class Session:
    """One launch of Chromium with a persistent profile, one page on the app."""

    context: Any
    page: Any
    workers: list[Any] = field(default_factory=list)
    offsite: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@contextlib.contextmanager
def launch(pw: Any, profile: Path, *, rpc_timer: bool) -> Iterator[Session]:
    context = pw.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS, accept_downloads=True
    )
    try:
        context.set_default_timeout(60_000)
        context.add_init_script(PAGE_OBSERVERS)
        if rpc_timer:
            context.add_init_script(PAGE_RPC_TIMER)
        page = context.pages[0] if context.pages else context.new_page()
        session = Session(context, page)

        def on_request(request: Any) -> None:
            u = urlsplit(request.url)
            if u.scheme in ("http", "https", "ws", "wss") and u.hostname != "127.0.0.1":
                session.offsite.append(request.url)

        context.on("request", on_request)
        page.on("worker", lambda w: session.workers.append(w))
        page.on("pageerror", lambda e: session.errors.append(f"page error: {e}"))
        yield session
    finally:
        with contextlib.suppress(Exception):
            context.close()


def _poll(locator: Any, timeout: float, tick: Callable[[], None] | None = None) -> None:
    """Wait for `locator` to be attached (seconds), calling `tick` about every 0.25 s meanwhile."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        try:
            locator.wait_for(state="attached", timeout=max(1.0, min(left, 0.25) * 1000))
            return
        except PlaywrightTimeoutError:
            if time.monotonic() >= deadline:
                raise
            if tick is not None:
                tick()


def _state(page: Any) -> str:
    return str(page.evaluate("() => document.body && document.body.dataset.state"))


def _wait_state(page: Any, state: str, timeout: float, tick: Callable[[], None] | None = None) -> None:
    try:
        _poll(page.locator(f'body[data-state="{state}"]'), timeout, tick)
    except Exception as exc:
        status = page.evaluate("() => document.getElementById('engine-status').textContent")
        raise RuntimeError(f"state {_state(page)!r} after {timeout:.0f} s, not {state!r} ({status})") from exc


def _engine_seconds(page: Any) -> float | None:
    text = page.inner_text("#engine-status")
    m = re.search(r"loaded in ([\d.]+) s", text)
    return float(m.group(1)) if m else None


def _first(marks: list[list[Any]], state: str, after: float = 0.0) -> float | None:
    return next((t for s, t in marks if s == state and t >= after), None)


def drop(page: Any, selector: str, paths: list[Path]) -> None:
    """Drop real files/folders on `selector` as a file manager would (tests/e2e/page_actions.drop_on)."""
    drop_on(page, selector, paths)


def _engine_workers(session: Session) -> list[Any]:
    return [w for w in session.workers if w.url.endswith("/worker.mjs")]
