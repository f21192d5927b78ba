"""The server (app/): static files from a dist folder, cache policy, security headers, listen checks."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Message

from app.cli import main as cli_main
from app.headers import CSP
from app.listen import InsecureListenError, check_listen, is_loopback
from app.server import create_app

FILES = {
    "index.html": b"<!doctype html><title>Pacsbin Uploader</title>",
    "main.mjs": b"export const x = 1;\n",
    "worker.js": b"self.onmessage = () => {};\n",
    "style.css": b"body { margin: 0 }\n",
    "icon.png": b"\x89PNG\r\n\x1a\n",
    "logo.svg": b'<svg xmlns="http://www.w3.org/2000/svg"/>',
    "build-info.json": b"{}",
    "pyodide/pyodide.mjs": b"export async function loadPyodide() {}\n",
    "pyodide/pyodide.asm.wasm": b"\x00asm\x01\x00\x00\x00",
    "pyodide/python_stdlib.zip": b"PK\x05\x06" + bytes(18),
    "pyodide/pyodide-lock.json": b'{"packages": {}}',
    "wheels/pydicom-3.0.2-py3-none-any.whl": b"PK\x05\x06" + bytes(18),
    ".hidden": b"secret",
}


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (tmp_path / "outside.txt").write_bytes(b"outside the dist folder")
    return root


@pytest.fixture
def client(dist: Path) -> TestClient:
    return TestClient(create_app(dist))


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/", "text/html; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/main.mjs", "text/javascript; charset=utf-8"),
        ("/worker.js", "text/javascript; charset=utf-8"),
        ("/style.css", "text/css; charset=utf-8"),
        ("/icon.png", "image/png"),
        ("/logo.svg", "image/svg+xml"),
        ("/build-info.json", "application/json"),
        ("/pyodide/pyodide.asm.wasm", "application/wasm"),
        ("/pyodide/python_stdlib.zip", "application/zip"),
        ("/pyodide/pyodide-lock.json", "application/json"),
        ("/wheels/pydicom-3.0.2-py3-none-any.whl", "application/zip"),
    ],
)
def test_media_types(client: TestClient, path: str, media_type: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    name = "index.html" if path == "/" else path.lstrip("/")
    assert response.content == FILES[name]


def _assert_security_headers(headers: Mapping[str, str]) -> None:
    assert headers["content-security-policy"] == CSP
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert headers["cross-origin-resource-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    assert "camera=()" in headers["permissions-policy"]
    assert "microphone=()" in headers["permissions-policy"]
    assert "geolocation=()" in headers["permissions-policy"]


def test_csp_is_strict() -> None:
    directives = dict(d.split(" ", 1) for d in CSP.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self' 'wasm-unsafe-eval'"
    assert directives["worker-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert "'unsafe-inline'" not in CSP
    assert "'unsafe-eval'" not in CSP.replace("'wasm-unsafe-eval'", "")


@pytest.mark.parametrize(
    "path", ["/", "/main.mjs", "/worker.js", "/pyodide/pyodide.asm.wasm", "/missing.js", "/pyodide/"]
)
def test_security_headers_everywhere(client: TestClient, path: str) -> None:
    _assert_security_headers(client.get(path).headers)


def test_security_headers_on_304_and_405(client: TestClient) -> None:
    etag = client.get("/main.mjs").headers["etag"]
    _assert_security_headers(client.get("/main.mjs", headers={"If-None-Match": etag}).headers)
    response = client.post("/main.mjs")
    assert response.status_code == 405
    _assert_security_headers(response.headers)


def test_security_headers_on_server_error(dist: Path) -> None:
    async def boom(request: Request) -> Response:
        raise RuntimeError("boom")

    client = TestClient(create_app(dist, routes=[Route("/boom", boom)]), raise_server_exceptions=False)
    response = client.get("/boom")
    assert response.status_code == 500
    assert "boom" not in response.text
    _assert_security_headers(response.headers)


def test_hsts_only_over_tls_with_a_host_name(dist: Path) -> None:
    app = create_app(dist)
    assert "strict-transport-security" not in TestClient(app).get("/").headers
    tls = TestClient(app, base_url="https://uploader.example.org").get("/")
    assert tls.headers["strict-transport-security"] == "max-age=31536000"
    assert "strict-transport-security" not in TestClient(app, base_url="https://localhost").get("/").headers
    assert "strict-transport-security" not in TestClient(app, base_url="https://127.0.0.1").get("/").headers


def test_etag_is_sha256_and_304(client: TestClient) -> None:
    response = client.get("/pyodide/pyodide.asm.wasm")
    etag = response.headers["etag"]
    assert etag == '"' + hashlib.sha256(FILES["pyodide/pyodide.asm.wasm"]).hexdigest() + '"'
    again = client.get("/pyodide/pyodide.asm.wasm", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == response.headers["cache-control"]
    for listed in (f'"x", W/{etag}', "*"):
        assert client.get("/pyodide/pyodide.asm.wasm", headers={"If-None-Match": listed}).status_code == 304
    assert client.get("/pyodide/pyodide.asm.wasm", headers={"If-None-Match": '"other"'}).status_code == 200


def test_etag_follows_a_rebuild(client: TestClient, dist: Path) -> None:
    etag = client.get("/main.mjs").headers["etag"]
    (dist / "main.mjs").write_bytes(b"export const x = 2; // rebuilt\n")
    os.utime(dist / "main.mjs", ns=(1, 1))
    response = client.get("/main.mjs", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.content == b"export const x = 2; // rebuilt\n"
    assert response.headers["etag"] != etag


def test_html_etag_revalidates(client: TestClient) -> None:
    etag = client.get("/").headers["etag"]
    assert client.get("/", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/index.html", headers={"If-None-Match": etag}).status_code == 304


@pytest.mark.parametrize(
    ("path", "cache_control"),
    [
        ("/", "no-cache"),
        ("/index.html", "no-cache"),
        ("/main.mjs", "no-cache"),
        ("/worker.js", "no-cache"),
        ("/style.css", "no-cache"),
        ("/build-info.json", "no-cache"),
        ("/pyodide/pyodide.mjs", "public, max-age=31536000, immutable"),
        ("/pyodide/pyodide.asm.wasm", "public, max-age=31536000, immutable"),
        ("/pyodide/python_stdlib.zip", "public, max-age=31536000, immutable"),
        ("/wheels/pydicom-3.0.2-py3-none-any.whl", "public, max-age=31536000, immutable"),
    ],
)
def test_cache_control(client: TestClient, path: str, cache_control: str) -> None:
    response = client.get(path)
    assert response.headers["cache-control"] == cache_control
    assert response.headers["etag"].startswith('"')


def _raw_get(app: ASGIApp, path: str) -> tuple[int, bytes]:
    """A GET sent as is: HTTP clients normalise ``..`` and ``.`` segments before sending."""
    messages: list[Message] = []
    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> Message:
        if requests:
            return requests.pop()
        await anyio.sleep_forever()  # the client stays connected until the response is complete
        raise AssertionError

    async def send(message: Message) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8000),
    }
    # Its own thread: the browser tests' sync Playwright keeps an event loop running in the main thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(anyio.run, app, scope, receive, send).result()
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return messages[0]["status"], body


@pytest.mark.parametrize(
    "path",
    [
        "/../outside.txt",
        "/pyodide/../../outside.txt",
        "/pyodide/../index.html",
        "/..\\outside.txt",
        "/pyodide\\..\\..\\outside.txt",
        "//etc/passwd",
        "/./index.html",
        "/index.html\x00.png",
        "/.hidden",
        "/pyodide",
        "/pyodide/",
        "/wheels/",
        "/missing.html",
    ],
)
def test_refused(dist: Path, path: str) -> None:
    status, body = _raw_get(create_app(dist), path)
    assert status == 404
    assert body == b"Not Found"


@pytest.mark.parametrize(
    "path", ["/%2e%2e/outside.txt", "/..%2foutside.txt", "/pyodide%2f..%2f..%2foutside.txt", "/%2fetc/passwd"]
)
def test_encoded_traversal_refused(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.content == b"Not Found"


def test_raw_get_serves_what_exists(dist: Path) -> None:
    assert _raw_get(create_app(dist), "/pyodide/pyodide.mjs") == (200, FILES["pyodide/pyodide.mjs"])


def test_symlink_out_of_dist_refused(client: TestClient, dist: Path) -> None:
    (dist / "link.txt").symlink_to(dist.parent / "outside.txt")
    assert client.get("/link.txt").status_code == 404


def test_head(client: TestClient) -> None:
    get = client.get("/pyodide/pyodide.asm.wasm")
    head = client.head("/pyodide/pyodide.asm.wasm")
    assert head.status_code == 200
    assert head.content == b""
    for name in ("content-type", "content-length", "etag", "cache-control", "content-security-policy"):
        assert head.headers[name] == get.headers[name]
    assert client.head("/", headers={"If-None-Match": get.headers["etag"]}).status_code == 200
    assert client.head("/missing").status_code == 404


def test_routes_come_before_static_files(dist: Path) -> None:
    async def studies(request: Request) -> Response:
        return Response("stored", media_type="text/plain")

    client = TestClient(create_app(dist, routes=[Route("/dicomweb/studies", studies, methods=["POST"])]))
    response = client.post("/dicomweb/studies")
    assert response.text == "stored"
    _assert_security_headers(response.headers)


def test_missing_dist(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        create_app(tmp_path / "nope")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_without_tls_allowed(host: str) -> None:
    assert is_loopback(host)
    check_listen(host, tls=False)


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "::", "", "192.168.1.10", "10.0.0.1", "example.org", "localhost.evil"]
)
def test_non_loopback_without_tls_refused(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(InsecureListenError, match="without TLS"):
        check_listen(host, tls=False)
    check_listen(host, tls=True)


def test_cli_refuses_non_loopback_without_tls(dist: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli_main(["serve", "--host", "0.0.0.0", "--dist", str(dist)])
    assert exc.value.code == 2
    assert "without TLS" in capsys.readouterr().err


def test_cli_needs_both_tls_files(dist: Path, tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    with pytest.raises(SystemExit):
        cli_main(["serve", "--host", "0.0.0.0", "--certfile", str(cert), "--dist", str(dist)])


def test_cli_needs_a_built_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["serve", "--dist", str(tmp_path)]) == 2
    assert "index.html" in capsys.readouterr().err
