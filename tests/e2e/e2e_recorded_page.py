"""Recorded pages: a fresh browser context and page (:func:`open_recorded_page`) with every request,
CSP violation (documents and workers) and console error recorded, and the check that nothing left
the local servers and no CSP violation happened (:meth:`RecordedPage.assert_clean`).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from e2e_proxy import RecordingProxy
from e2e_servers import local_origins
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Worker

CSP_MARK = "__pacsbin_csp__"

# Runs in every document of the context (frames included) before the page's own scripts.
_DOC_INIT = """
(() => {
  if (window.__cspViolations) return;
  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation", (e) => {
    const v = {where: "document", url: document.URL, directive: e.effectiveDirective || e.violatedDirective,
               blocked: e.blockedURI, disposition: e.disposition, source: e.sourceFile, line: e.lineNumber,
               sample: e.sample};
    window.__cspViolations.push(v);
    try { window.__pacsbinCspViolation(v); } catch (_) {}
  }, true);
})();
"""

# Evaluated in each worker as soon as Playwright reports it (a violation the worker commits before this
# runs is missed: workers get no init scripts). Reported through the worker's console.
_WORKER_INIT = """
(() => {
  if (self.__cspViolations) return 0;
  self.__cspViolations = [];
  self.addEventListener("securitypolicyviolation", (e) => {
    const v = {where: "worker", url: String(self.location),
               directive: e.effectiveDirective || e.violatedDirective, blocked: e.blockedURI,
               disposition: e.disposition, source: e.sourceFile, line: e.lineNumber, sample: e.sample};
    self.__cspViolations.push(v);
    console.error("%s" + JSON.stringify(v));
  });
  return 1;
})()
""".replace("%s", CSP_MARK)

_CSP_CONSOLE = re.compile(r"Content Security Policy|Content-Security-Policy")
_IGNORED_SCHEMES = {"data", "blob", "about"}


@dataclass
class RecordedPage:
    """A fresh context + page with every request, CSP violation and console error recorded."""

    context: BrowserContext
    page: Page
    proxy: RecordingProxy
    requests: list[str] = field(default_factory=list)
    csp_violations: list[dict[str, Any]] = field(default_factory=list)
    csp_console: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    workers: list[str] = field(default_factory=list)

    def offsite_requests(self) -> list[str]:
        """Requests that went anywhere but a server this harness runs, from both recorders."""
        local = local_origins()
        bad = []
        for url in list(self.requests):
            u = urlsplit(url)
            if u.scheme in _IGNORED_SCHEMES:
                continue
            hostport = f"{u.hostname}:{u.port or (443 if u.scheme in ('https', 'wss') else 80)}"
            if u.scheme not in ("http", "ws") or hostport not in local:
                bad.append(f"page request: {url}")
        bad += [f"proxy: {r}" for r in self.proxy.records if not r.forwarded]
        return bad

    def all_csp_violations(self) -> list[str]:
        """Every CSP violation seen: document/worker events, and CSP messages on a console."""
        return [json.dumps(v, sort_keys=True) for v in self.csp_violations] + list(self.csp_console)

    def problems(self) -> list[str]:
        """What the teardown check would fail on (empty when clean)."""
        return [*self.offsite_requests(), *(f"CSP violation: {v}" for v in self.all_csp_violations())]

    def assert_clean(self) -> None:
        problems = self.problems()
        assert not problems, "page left the local origin or violated its CSP:\n  " + "\n  ".join(problems)

    # -- wiring
    def _on_console(self, where: str, msg: ConsoleMessage, from_page: bool = False) -> None:
        if from_page and msg.worker is not None:
            return  # Playwright also hands worker messages to the page; the worker's listener has them
        text = msg.text
        if text.startswith(CSP_MARK):
            with contextlib.suppress(ValueError):
                self.csp_violations.append(json.loads(text[len(CSP_MARK) :]))
            return
        if msg.type == "error":
            self.console_errors.append(f"{where}: {text}")
            if _CSP_CONSOLE.search(text):
                self.csp_console.append(f"{where} console: {text}")

    def _on_worker(self, worker: Worker) -> None:
        self.workers.append(worker.url)
        worker.on("console", lambda m: self._on_console(f"worker {worker.url}", m))
        with contextlib.suppress(Exception):  # the worker may already be gone
            worker.evaluate(_WORKER_INIT)

    def _watch_page(self, page: Page) -> None:
        page.on("console", lambda m: self._on_console(f"page {page.url}", m, from_page=True))
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        page.on("worker", self._on_worker)


@contextlib.contextmanager
def open_recorded_page(
    browser: Browser, check: bool = True, **context_options: Any
) -> Iterator[RecordedPage]:
    """A new context (own recording proxy, accept_downloads) and page; on exit closes both and, when
    ``check``, asserts :meth:`RecordedPage.assert_clean`."""
    proxy = RecordingProxy(name="context-proxy").start()
    context = browser.new_context(accept_downloads=True, proxy={"server": proxy.url}, **context_options)
    context.set_default_timeout(30_000)
    page = context.new_page()
    rec = RecordedPage(context=context, page=page, proxy=proxy)
    context.on("request", lambda r: rec.requests.append(r.url))
    context.expose_binding("__pacsbinCspViolation", lambda _src, v: rec.csp_violations.append(v))
    context.add_init_script(_DOC_INIT)
    context.on("page", rec._watch_page)
    context.on("serviceworker", rec._on_worker)
    rec._watch_page(page)
    try:
        yield rec
    finally:
        with contextlib.suppress(Exception):
            # Let pending console/binding events arrive before closing.
            page.evaluate("0")
        context.close()
        proxy.stop()
    if check:
        rec.assert_clean()
