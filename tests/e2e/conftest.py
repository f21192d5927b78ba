"""Browser tests: headless Debian Chromium driven by Playwright, with the network recorded and fenced.

Fixtures
    browser_proxy (session)  the proxy the browser itself is launched with; forwards nothing, records
                             Chromium's own background requests (refused).
    browser       (session)  Playwright Chromium (/usr/bin/chromium), launched through browser_proxy.
    server        (session)  base URL ("http://127.0.0.1:PORT") of a server serving dist/ (or
                             $PACSBIN_DIST). Skips when dist/index.html is missing; fails under CI.
    recorded      (function) RecordedPage: a new context (accept_downloads, its own recording proxy) and
                             page, recording requests (context "request" events AND the proxy), CSP
                             violations (documents and workers) and console errors. Teardown asserts no
                             request left the local servers and no CSP violation happened.
    page          (function) recorded.page.
    e2e           (session)  Helpers: drop_paths(page, selector, paths: list[Path]),
                             wait_state(page, state, timeout=30.0) (seconds),
                             screenshot(page, name) -> Path (tests/e2e/screenshots/<name>.png).
    open_page     (function) open_recorded_page(check=True, **context_options): the context manager
                             behind `recorded`, for tests that inspect the check itself.
    static_site   (function) make(files: {relpath: str|bytes}, headers=None) -> base_url: a throwaway
                             site in tmp_path served with http.server.

The build (build.py) makes dist/ and installs Chromium + Playwright (tools/install_browser.py) first.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

IN_CI = bool(os.environ.get("CI"))
INSTALL_HINT = "run: python3 tools/install_browser.py --python .venv/bin/python"

try:
    from e2e_browser import CHROMIUM, launch_args
    from e2e_helpers import Helpers
    from e2e_proxy import RecordingProxy
    from e2e_recorded_page import open_recorded_page
    from e2e_servers import dist_dir, serve_static, start_server
    from playwright.sync_api import sync_playwright

    _IMPORT_ERROR: ImportError | None = None
except ImportError as e:  # Playwright not installed
    _IMPORT_ERROR = e

if TYPE_CHECKING:
    from e2e_recorded_page import RecordedPage
    from playwright.sync_api import Browser, Page


def _unavailable(why: str) -> None:
    """Skip (a developer without the browser bits) or fail (CI must run the browser tests)."""
    if IN_CI:
        pytest.fail(f"e2e under CI: {why}", pytrace=False)
    pytest.skip(f"e2e: {why}")


def _need_harness() -> None:
    if _IMPORT_ERROR is not None:
        _unavailable(f"playwright is not importable ({_IMPORT_ERROR}); {INSTALL_HINT}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep


@pytest.fixture(scope="session")
def browser_proxy() -> Iterator[RecordingProxy]:
    _need_harness()
    proxy = RecordingProxy(allowed=lambda hostport: False, name="browser-proxy").start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="session")
def browser(browser_proxy: RecordingProxy) -> Iterator[Browser]:
    _need_harness()
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is missing; {INSTALL_HINT}")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=launch_args(browser_proxy.port))
        yield b
        b.close()


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    _need_harness()
    dist = dist_dir()
    if not (dist / "index.html").is_file():
        _unavailable(f"{dist / 'index.html'} is missing: build the page first (python3 build.py test)")
    base_url, stop = start_server(dist)
    yield base_url
    stop()


@pytest.fixture
def open_page(browser: Browser) -> Callable[..., Any]:
    return functools.partial(open_recorded_page, browser)


@pytest.fixture
def recorded(browser: Browser, request: pytest.FixtureRequest) -> Iterator[RecordedPage]:
    with open_recorded_page(browser) as rec:
        yield rec
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            try:
                Helpers().screenshot(rec.page, f"FAILED-{request.node.name}")
            except Exception as e:  # noqa: BLE001 (best effort)
                print(f"no failure screenshot: {e}")


@pytest.fixture
def page(recorded: RecordedPage) -> Page:
    return recorded.page


@pytest.fixture(scope="session")
def e2e() -> Helpers:
    _need_harness()
    return Helpers()


@pytest.fixture
def static_site(tmp_path: Path) -> Iterator[Callable[..., str]]:
    _need_harness()
    stops: list[Callable[[], None]] = []

    def make(files: dict[str, str | bytes], headers: dict[str, str] | None = None) -> str:
        root = tmp_path / f"site{len(stops)}"
        for rel, content in files.items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                p.write_bytes(content)
            else:
                p.write_text(content)
        base_url, stop = serve_static(root, headers)
        stops.append(stop)
        return base_url

    yield make
    for stop in stops:
        stop()
