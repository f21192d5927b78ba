"""The browser-test fixtures themselves, against throwaway sites (no dist/ needed)."""

from __future__ import annotations

import http.client
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

    from e2e_helpers import Helpers
    from e2e_recorded_page import RecordedPage

DROP_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>drop</title></head>
<body>
<div id="drop" style="width:420px;height:180px;border:3px dashed #468;display:grid;place-items:center">
  Drop a folder here</div>
<ul id="files"></ul>
<script src="drop.js"></script>
</body></html>
"""

# Lists every dropped file (directories walked recursively) as "<relative path> <size>".
DROP_JS = """
const zone = document.getElementById("drop");
zone.addEventListener("dragover", (e) => e.preventDefault());
zone.addEventListener("drop", async (e) => {
  e.preventDefault();
  document.body.dataset.state = "reading";
  // Entries must be taken synchronously: the DataTransfer is emptied after the handler yields.
  const entries = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry()).filter(Boolean);
  const out = [];
  async function walk(entry) {
    if (entry.isFile) {
      const f = await new Promise((res, rej) => entry.file(res, rej));
      out.push(entry.fullPath.replace(/^\\//, "") + " " + f.size);
      return;
    }
    const reader = entry.createReader();
    for (;;) {
      const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
      if (!batch.length) break;
      for (const child of batch) await walk(child);
    }
  }
  for (const entry of entries) await walk(entry);
  out.sort();
  for (const line of out) {
    const li = document.createElement("li");
    li.textContent = line;
    document.getElementById("files").append(li);
  }
  document.body.dataset.state = "listed";
});
document.body.dataset.state = "ready";
"""


def _make_tree(root: Path) -> dict[str, int]:
    files = {
        "study/a.dcm": b"a" * 10,
        "study/series1/b.dcm": b"b" * 2000,
        "study/series1/deeper/c.dcm": b"c" * 3,
        "study/series2/DICOMDIR": b"",
        "loose.dcm": b"l" * 7,
    }
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return {rel: len(data) for rel, data in files.items()}


def test_folder_drop_lists_nested_files(
    static_site: Callable[..., str], recorded: RecordedPage, e2e: Helpers, tmp_path: Path
) -> None:
    base = static_site({"index.html": DROP_PAGE, "drop.js": DROP_JS})
    tree = _make_tree(tmp_path / "drop")
    page = recorded.page
    page.goto(base + "/")
    e2e.wait_state(page, "ready", timeout=10)

    e2e.drop_paths(page, "#drop", [tmp_path / "drop" / "study", tmp_path / "drop" / "loose.dcm"])
    e2e.wait_state(page, "listed", timeout=10)

    listed = page.locator("#files li").all_inner_texts()
    assert listed == sorted(f"{rel} {size}" for rel, size in tree.items())
    # Loopback traffic went through the context's recording proxy too.
    paths = [r.path for r in recorded.proxy.records if r.forwarded]
    assert "/" in paths and "/drop.js" in paths
    assert recorded.offsite_requests() == []


def test_offsite_request_is_blocked_and_fails_the_check(
    static_site: Callable[..., str], open_page: Callable[..., Any]
) -> None:
    base = static_site(
        {
            "index.html": '<!doctype html><body><img id="a" src="http://example.com/x.png">'
            '<img id="b" src="https://example.org/y.png"></body>',
        }
    )
    with pytest.raises(AssertionError, match="left the local origin") as failed, open_page() as rec:
        page = rec.page
        page.goto(base + "/")
        page.wait_for_function("() => [...document.images].every((i) => i.complete)", timeout=10_000)
        # Nothing came back: the images are broken.
        assert page.evaluate("() => [...document.images].map((i) => i.naturalWidth)") == [0, 0]
        refused = {(r.method, r.hostport, r.path) for r in rec.proxy.refused()}
        assert ("GET", "example.com:80", "/x.png") in refused
        assert ("CONNECT", "example.org:443", "") in refused
        assert "http://example.com/x.png" in rec.requests
        assert any("example.com" in p for p in rec.offsite_requests())
    message = str(failed.value)
    assert "page request: http://example.com/x.png" in message
    assert "proxy: GET example.com:80/x.png (REFUSED)" in message
    assert "proxy: CONNECT example.org:443 (REFUSED)" in message


def test_inline_script_csp_violation_is_recorded(
    static_site: Callable[..., str], open_page: Callable[..., Any]
) -> None:
    base = static_site(
        {"index.html": "<!doctype html><body><p>csp</p><script>document.title = 'ran'</script></body>"},
        headers={"Content-Security-Policy": "default-src 'self'"},
    )
    with pytest.raises(AssertionError, match="CSP violation") as failed, open_page() as rec:
        page = rec.page
        page.goto(base + "/")
        page.wait_for_function("() => window.__cspViolations.length > 0", timeout=10_000)
        assert page.title() != "ran"  # the inline script was blocked
        page.evaluate("0")  # let the binding calls arrive
        assert [v["directive"] for v in rec.csp_violations] == ["script-src-elem"]
        assert rec.csp_violations[0]["where"] == "document"
        assert rec.offsite_requests() == []
    assert "script-src-elem" in str(failed.value)


WORKER_PAGE = """<!doctype html><body><script src="main.js"></script></body>"""
WORKER_MAIN = """
window.w = new Worker("w.js");
w.onmessage = (e) => { document.body.dataset.state = e.data; };
document.body.dataset.state = "ready";
"""
WORKER_JS = """
onmessage = () => fetch("http://example.com/from-worker").then(
  () => postMessage("fetched"), () => postMessage("blocked"));
"""


def test_worker_csp_violation_is_recorded(
    static_site: Callable[..., str], open_page: Callable[..., Any], e2e: Helpers
) -> None:
    base = static_site(
        {"index.html": WORKER_PAGE, "main.js": WORKER_MAIN, "w.js": WORKER_JS},
        headers={"Content-Security-Policy": "default-src 'self'"},
    )
    with pytest.raises(AssertionError, match="CSP violation"), open_page() as rec:
        page = rec.page
        with page.expect_worker():
            page.goto(base + "/")
        e2e.wait_state(page, "ready", timeout=10)
        page.evaluate("() => w.postMessage('go')")
        e2e.wait_state(page, "blocked", timeout=10)
        page.wait_for_timeout(200)  # the worker's console message travels separately
        worker_v = [v for v in rec.csp_violations if v["where"] == "worker"]
        assert [(v["directive"], v["blocked"]) for v in worker_v] == [
            ("connect-src", "http://example.com/from-worker")
        ]
        # Blocked before the network: the proxy never saw it.
        assert all(r.forwarded for r in rec.proxy.records)


SW_PAGE = """<!doctype html><body><script src="main.js"></script></body>"""
SW_MAIN = """
navigator.serviceWorker.addEventListener("controllerchange", async () => {
  const r = await fetch("/via-sw");
  document.body.dataset.answer = await r.text();
  document.body.dataset.state = "answered";
});
navigator.serviceWorker.register("sw.js");
"""
SW_JS = """
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));
self.addEventListener("fetch", (e) => {
  if (new URL(e.request.url).pathname === "/via-sw")
    e.respondWith(fetch("/inner.txt?from=sw").then((r) => r.text()).then((t) => new Response("sw:" + t)));
});
"""


def test_service_worker_requests_are_recorded(
    static_site: Callable[..., str], recorded: RecordedPage, e2e: Helpers
) -> None:
    base = static_site({"index.html": SW_PAGE, "main.js": SW_MAIN, "sw.js": SW_JS, "inner.txt": "inner"})
    page = recorded.page
    page.goto(base + "/")
    e2e.wait_state(page, "answered", timeout=15)
    assert page.evaluate("() => document.body.dataset.answer") == "sw:inner"
    assert ("GET", "/inner.txt?from=sw") in {(r.method, r.path) for r in recorded.proxy.records}


def test_screenshot_is_a_png(static_site: Callable[..., str], page: Any, e2e: Helpers) -> None:
    base = static_site({"index.html": DROP_PAGE, "drop.js": DROP_JS})
    page.goto(base + "/")
    e2e.wait_state(page, "ready", timeout=10)
    path = e2e.screenshot(page, "infrastructure drop page")
    assert path == e2e.screenshots / "infrastructure_drop_page.png"
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 420 and height >= 180


def test_wait_state_reports_the_state_it_saw(
    static_site: Callable[..., str], page: Any, e2e: Helpers
) -> None:
    base = static_site({"index.html": DROP_PAGE, "drop.js": DROP_JS})
    page.goto(base + "/")
    with pytest.raises(AssertionError, match="still 'ready'"):
        e2e.wait_state(page, "never", timeout=0.3)


def _get(base: str, path: str) -> tuple[int, str, bytes]:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", path)
    resp = conn.getresponse()
    out = (resp.status, resp.getheader("Content-Type") or "", resp.read())
    conn.close()
    return out


def test_start_server_mime_types(tmp_path: Path) -> None:
    from e2e_servers import local_origins, start_server

    (tmp_path / "index.html").write_text("<!doctype html><title>x</title>")
    (tmp_path / "a.mjs").write_text("export const a = 1;")
    (tmp_path / "b.wasm").write_bytes(b"\0asm\1\0\0\0")
    base, stop = start_server(tmp_path)
    try:
        assert base.removeprefix("http://") in local_origins()
        status, ctype, _ = _get(base, "/a.mjs")
        assert status == 200 and ctype.split(";")[0] == "text/javascript"
        status, ctype, body = _get(base, "/b.wasm")
        assert status == 200 and ctype == "application/wasm" and body == b"\0asm\1\0\0\0"
    finally:
        stop()
    assert base.removeprefix("http://") not in local_origins()


def test_proxy_forwards_only_to_local_servers(static_site: Callable[..., str]) -> None:
    from e2e_proxy import RecordingProxy

    base = static_site({"index.html": "hello"})
    proxy = RecordingProxy().start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        conn.request("GET", base + "/index.html?q=1")
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (200, b"hello")
        conn.request("POST", "http://example.com/upload", body=b"x" * 100)  # same keep-alive connection
        resp = conn.getresponse()
        assert resp.status == 403
        resp.read()
        conn.close()

        tunnel = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        tunnel.set_tunnel("example.org", 443)
        with pytest.raises(OSError, match="403"):
            tunnel.connect()
        tunnel.close()
    finally:
        proxy.stop()
    port = int(base.rsplit(":", 1)[1])
    assert [(r.method, r.hostport, r.path, r.forwarded) for r in proxy.records] == [
        ("GET", f"127.0.0.1:{port}", "/index.html?q=1", True),
        ("POST", "example.com:80", "/upload", False),
        ("CONNECT", "example.org:443", "", False),
    ]
