"""Machinery behind tests/e2e/conftest.py: a local server, a recording proxy, recorded pages, helpers.

Network isolation (measured with Playwright 1.65.2 and Debian's Chromium 156):

* The browser is launched with ``--proxy-server=<browser proxy>`` and ``--proxy-bypass-list=<-loopback>``
  (so even 127.0.0.1 goes through the proxy) and
  ``--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1`` (no name resolves; belt and braces for
  anything not proxied). The browser proxy forwards nothing: it refuses and records Chromium's own
  background chatter (with Debian's build: update.googleapis.com and accounts.google.com, whatever the
  flags), so that chatter never leaves the machine and is never blamed on a page.
* Every recorded page gets a browser context of its own with its own :class:`RecordingProxy`
  (``new_context(proxy=...)``; Playwright adds ``<-loopback>`` itself). That proxy sees every request of
  the context, service workers included (``page.route`` does not), forwards only to the servers this
  harness started (:func:`local_origins`) and refuses and records everything else, CONNECT included.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import http.server
import json
import os
import re
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Worker
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"

BASE_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # No name resolves in the browser (the proxies do the connecting, by address).
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    # WebRTC's UDP is not proxied: forbid it.
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    # Chromium's own form-autofill queries (browser chrome, not the page) would otherwise go out through
    # the context's proxy whenever a page has input fields.
    "--disable-features=AutofillServerCommunication,OptimizationHints,MediaRouter",
]


def launch_args(proxy_port: int) -> list[str]:
    return [
        *BASE_ARGS,
        f"--proxy-server=http://127.0.0.1:{proxy_port}",
        "--proxy-bypass-list=<-loopback>",
    ]


# ---------------------------------------------------------------------------------------------------------
# Local servers. Every server started here registers its origin; proxies forward only to those.

_LOCAL: set[str] = set()  # "127.0.0.1:PORT"
_LOCAL_LOCK = threading.Lock()


def local_origins() -> set[str]:
    """``host:port`` of every server this harness is running now."""
    with _LOCAL_LOCK:
        return set(_LOCAL)


def _register(hostport: str) -> Callable[[], None]:
    with _LOCAL_LOCK:
        _LOCAL.add(hostport)

    def unregister() -> None:
        with _LOCAL_LOCK:
            _LOCAL.discard(hostport)

    return unregister


MIME = {
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".wasm": "application/wasm",
    ".json": "application/json",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".html": "text/html",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}


class _StaticHandler(http.server.SimpleHTTPRequestHandler):
    extra_headers: dict[str, str] = {}
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME}

    def end_headers(self) -> None:
        for k, v in self.extra_headers.items():
            self.send_header(k, v)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        pass


def serve_static(root: Path, headers: dict[str, str] | None = None) -> tuple[str, Callable[[], None]]:
    """Serve ``root`` on a free loopback port with Python's http.server; ``headers`` go on every response.

    Returns ``(base_url, stop)``; the origin is registered as local until ``stop()``.
    """
    handler = type("Handler", (_StaticHandler,), {"extra_headers": dict(headers or {})})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    httpd.daemon_threads = True
    port = httpd.server_address[1]
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"static:{port}", daemon=True
    )
    thread.start()
    unregister = _register(f"127.0.0.1:{port}")

    def stop() -> None:
        unregister()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)

    return f"http://127.0.0.1:{port}", stop


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_app_server(
    dist: Path, timeout: float = 30.0, data: Path | None = None
) -> tuple[str, Callable[[], None]]:
    """The product's server (app.launch), its origin registered so the proxies forward to it."""
    from app.launch import start_server_process

    url, stop_server = start_server_process(dist, data=data, timeout=timeout)
    unregister = _register(url.removeprefix("http://"))

    def stop() -> None:
        unregister()
        stop_server()

    return url, stop


def launch_registered(dist: Path, *, data: Path | None = None, port: int | None = None) -> Any:
    """``app.launch.launch_server`` (the process is there to be killed), its origin registered with the
    proxies; ``.stop()`` also unregisters it. Restarting on the same ``port`` keeps the page's origin."""
    from app.launch import launch_server

    server = launch_server(dist, data=data, port=port)
    unregister = _register(server.url.removeprefix("http://"))
    stop_server = server.stop

    def stop() -> None:
        unregister()
        stop_server()

    server.stop = stop
    return server


def start_server(dist: Path, data: Path | None = None) -> tuple[str, Callable[[], None]]:
    """Serve ``dist`` on a free loopback port with the product's own server (`python -m app serve`),
    so the tests see its CSP and headers; returns ``(base_url, stop)``. ``data``: its uploads and tokens
    (a temporary folder when not given)."""
    return _start_app_server(dist, data=data)


# ---------------------------------------------------------------------------------------------------------
# The recording proxy.

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
}


@dataclass(frozen=True)
class ProxyRecord:
    method: str
    host: str
    port: int
    path: str  # path + query; "" for CONNECT
    forwarded: bool
    t: float = field(default_factory=time.monotonic, compare=False)

    @property
    def hostport(self) -> str:
        return f"{self.host}:{self.port}"

    def __str__(self) -> str:
        verdict = "forwarded" if self.forwarded else "REFUSED"
        return f"{self.method} {self.hostport}{self.path} ({verdict})"


class RecordingProxy:
    """A tiny threaded HTTP proxy that records every request's host:port and path.

    Plain-HTTP requests (absolute URI) and CONNECT tunnels to an allowed ``host:port`` are forwarded;
    everything else gets a 403 and is recorded as refused. ``allowed`` is asked per request (default:
    :func:`local_origins`); ``allowed=lambda hp: False`` makes a proxy that forwards nothing.
    """

    def __init__(self, allowed: Callable[[str], bool] | None = None, name: str = "proxy") -> None:
        self.name = name
        self._allowed = allowed or (lambda hp: hp in local_origins())
        self._records: list[ProxyRecord] = []
        self._lock = threading.Lock()
        self._httpd: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle
    def start(self) -> RecordingProxy:
        handler = type("Handler", (_ProxyHandler,), {"proxy": self})
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=self.name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(5)

    @property
    def port(self) -> int:
        assert self._httpd is not None, "proxy not started"
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- records
    def allowed(self, hostport: str) -> bool:
        return self._allowed(hostport)

    def record(self, rec: ProxyRecord) -> None:
        with self._lock:
            self._records.append(rec)

    @property
    def records(self) -> list[ProxyRecord]:
        with self._lock:
            return list(self._records)

    def refused(self) -> list[ProxyRecord]:
        return [r for r in self.records if not r.forwarded]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    proxy: RecordingProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        pass

    def _refuse(self, status: int, why: str) -> None:
        body = f"refused by the test proxy: {why}\n".encode()
        self.send_response_only(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_CONNECT(self) -> None:  # noqa: N802 (stdlib naming)
        host, _, port_s = self.path.rpartition(":")
        host = host.strip("[]")
        port = int(port_s) if port_s.isdigit() else 443
        ok = self.proxy.allowed(f"{host}:{port}")
        self.proxy.record(ProxyRecord("CONNECT", host, port, "", ok))
        if not ok:
            self.close_connection = True
            self._refuse(403, f"CONNECT {self.path}")
            return
        try:
            upstream = socket.create_connection((host, port), timeout=10)
        except OSError as e:
            self.close_connection = True
            self._refuse(502, str(e))
            return
        self.send_response_only(200, "Connection Established")
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        _pipe(self.connection, upstream)

    def _any(self) -> None:
        u = urlsplit(self.path)
        if u.scheme != "http" or not u.hostname:
            self.proxy.record(ProxyRecord(self.command, "?", 0, self.path, False))
            self.close_connection = True
            self._refuse(400, f"not an absolute http URL: {self.path}")
            return
        host, port = u.hostname, u.port or 80
        path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        ok = self.proxy.allowed(f"{host}:{port}")
        self.proxy.record(ProxyRecord(self.command, host, port, path, ok))
        body = self._read_body()
        if not ok:
            self._refuse(403, f"{self.command} {self.path}")
            return
        self._forward(host, port, path, body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _any

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else None

    def _forward(self, host: str, port: int, path: str, body: bytes | None) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=120)
        try:
            conn.putrequest(self.command, path, skip_host=True, skip_accept_encoding=True)
            for k, v in self.headers.items():
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                    conn.putheader(k, v)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            resp = conn.getresponse()
        except OSError as e:
            conn.close()
            self._refuse(502, f"upstream {host}:{port}: {e}")
            return
        try:
            self.send_response_only(resp.status, resp.reason)
            length = resp.getheader("Content-Length")
            no_body = self.command == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200
            for k, v in resp.getheaders():
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                    self.send_header(k, v)
            if no_body:
                if length is not None:
                    self.send_header("Content-Length", length)
                self.end_headers()
                return
            if length is not None and resp.getheader("Transfer-Encoding") is None:
                self.send_header("Content-Length", length)
                self.end_headers()
                while chunk := resp.read(1 << 16):
                    self.wfile.write(chunk)
            else:  # chunked or close-delimited upstream: buffer, then send with a length
                data = resp.read()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
        except OSError:
            self.close_connection = True
        finally:
            conn.close()


def _pipe(a: socket.socket, b: socket.socket) -> None:
    socks = [a, b]
    try:
        while True:
            readable, _, broken = select.select(socks, [], socks, 60)
            if broken or not readable:
                return
            for s in readable:
                data = s.recv(1 << 16)
                if not data:
                    return
                (b if s is a else a).sendall(data)
    except OSError:
        return
    finally:
        b.close()


# ---------------------------------------------------------------------------------------------------------
# Recorded pages.

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


# ---------------------------------------------------------------------------------------------------------
# Helpers for the page tests.


class Helpers:
    """``e2e`` fixture: small helpers that take the page as first argument."""

    screenshots = SCREENSHOTS

    def drop_paths(self, page: Page, selector: str, paths: list[Path]) -> None:
        """Drop files and folders (real paths) on ``selector`` as a person would from a file manager.

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


def dist_dir() -> Path:
    return Path(os.environ.get("PACSBIN_DIST") or ROOT / "dist").resolve()
