"""app/static.py: ``X.gz`` beside ``X`` is sent as X's gzip form to a client that accepts gzip, with its own
ETag and ``Vary: Accept-Encoding``; the plain file otherwise, for a range, and when the .gz is not X's."""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from app.server import create_app
from app.static import accepts_gzip

WASM = b"\x00asm\x01\x00\x00\x00" + bytes(range(256)) * 64  # 16 KiB, compressible
MODEL = b"onnx model bytes " * 1000


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    files = {
        "index.html": b"<!doctype html>",
        "text/ort/ort-wasm-simd-threaded.wasm": WASM,
        "text/ort/ort-wasm-simd-threaded.wasm.gz": _gz(WASM),
        "text/models/det.onnx": MODEL,
        "text/models/det.onnx.gz": _gz(MODEL),
        "main.mjs": b"export const x = 1;\n",
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


@pytest.fixture
def client(dist: Path) -> TestClient:
    return TestClient(create_app(dist))


def _sha(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest() + '"'


def _raw(client: TestClient, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """The answer's status, headers and body as sent (httpx would inflate a gzip body)."""
    with client.stream("GET", path, headers=headers) as response:
        return response.status_code, dict(response.headers), b"".join(response.iter_raw())


@pytest.mark.parametrize(
    "accept", ["gzip", "gzip, deflate, br, zstd", "br;q=1.0, gzip;q=0.8", "x-gzip", "*", "identity, *;q=0.5"]
)
def test_gzip_accepted(accept: str) -> None:
    assert accepts_gzip(accept)


@pytest.mark.parametrize("accept", ["", "identity", "br", "gzip;q=0", "*;q=0", "gzip;q=0, *", "gzip;q=x"])
def test_gzip_not_accepted(accept: str) -> None:
    assert not accepts_gzip(accept)


@pytest.mark.parametrize("path", ["/text/ort/ort-wasm-simd-threaded.wasm", "/text/models/det.onnx"])
def test_gzip_form_sent_when_accepted(client: TestClient, dist: Path, path: str) -> None:
    plain = (dist / path.lstrip("/")).read_bytes()
    status, headers, body = _raw(client, path, **{"Accept-Encoding": "gzip, deflate, br"})
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert headers["vary"] == "Accept-Encoding"
    assert body == _gz(plain) and gzip.decompress(body) == plain
    assert headers["content-length"] == str(len(body))
    assert headers["etag"] == _sha(body) != _sha(plain)  # a representation of its own
    assert (
        headers["content-type"]
        == client.get(path, headers={"Accept-Encoding": "identity"}).headers["content-type"]
    )
    assert "accept-ranges" not in headers


def test_plain_form_otherwise(client: TestClient) -> None:
    status, headers, body = _raw(
        client, "/text/ort/ort-wasm-simd-threaded.wasm", **{"Accept-Encoding": "identity"}
    )
    assert status == 200
    assert body == WASM
    assert "content-encoding" not in headers
    assert headers["vary"] == "Accept-Encoding"  # the same URL has another form
    assert headers["etag"] == _sha(WASM)
    assert headers["content-type"] == "application/wasm"


def test_files_without_gz_do_not_vary(client: TestClient) -> None:
    status, headers, body = _raw(client, "/main.mjs", **{"Accept-Encoding": "gzip"})
    assert (status, body) == (200, b"export const x = 1;\n")
    assert "content-encoding" not in headers and "vary" not in headers


def test_304_per_form(client: TestClient) -> None:
    path = "/text/models/det.onnx"
    gz_etag, plain_etag = _sha(_gz(MODEL)), _sha(MODEL)
    status, headers, body = _raw(client, path, **{"Accept-Encoding": "gzip", "If-None-Match": gz_etag})
    assert (status, body) == (304, b"")
    assert headers["etag"] == gz_etag and headers["vary"] == "Accept-Encoding"
    # the other form's tag does not validate this one
    assert _raw(client, path, **{"Accept-Encoding": "gzip", "If-None-Match": plain_etag})[0] == 200
    assert _raw(client, path, **{"Accept-Encoding": "identity", "If-None-Match": plain_etag})[0] == 304
    assert _raw(client, path, **{"Accept-Encoding": "identity", "If-None-Match": gz_etag})[0] == 200


def test_head_matches_get(client: TestClient) -> None:
    path = "/text/ort/ort-wasm-simd-threaded.wasm"
    get = _raw(client, path, **{"Accept-Encoding": "gzip"})[1]
    head = client.head(path, headers={"Accept-Encoding": "gzip"})
    assert head.status_code == 200 and head.content == b""
    for name in ("content-encoding", "content-length", "etag", "vary", "content-type"):
        assert head.headers[name] == get[name]


def test_a_range_is_cut_from_the_plain_file(client: TestClient) -> None:
    status, headers, body = _raw(
        client, "/text/ort/ort-wasm-simd-threaded.wasm", **{"Accept-Encoding": "gzip", "Range": "bytes=0-7"}
    )
    assert status == 206
    assert body == WASM[:8]
    assert "content-encoding" not in headers
    assert headers["content-range"] == f"bytes 0-7/{len(WASM)}"


def test_a_gz_that_is_not_the_file_is_never_sent(dist: Path) -> None:
    """A stale .gz (the plain file rebuilt alone) or a broken one: the plain file is sent."""
    (dist / "text/models/det.onnx.gz").write_bytes(_gz(b"an older model"))
    (dist / "text/ort/ort-wasm-simd-threaded.wasm.gz").write_bytes(b"\x1f\x8b not gzip")
    client = TestClient(create_app(dist))
    for path, plain in (("/text/models/det.onnx", MODEL), ("/text/ort/ort-wasm-simd-threaded.wasm", WASM)):
        status, headers, body = _raw(client, path, **{"Accept-Encoding": "gzip"})
        assert (status, body) == (200, plain)
        assert "content-encoding" not in headers


def test_a_rebuilt_file_is_checked_again(client: TestClient, dist: Path) -> None:
    path = "/text/models/det.onnx"
    assert _raw(client, path, **{"Accept-Encoding": "gzip"})[1]["content-encoding"] == "gzip"
    (dist / "text/models/det.onnx").write_bytes(b"a new model")
    os.utime(dist / "text/models/det.onnx", ns=(1, 1))
    status, headers, body = _raw(client, path, **{"Accept-Encoding": "gzip"})
    assert (status, body) == (200, b"a new model")  # the old .gz no longer matches
    assert "content-encoding" not in headers
    (dist / "text/models/det.onnx.gz").write_bytes(_gz(b"a new model"))
    os.utime(dist / "text/models/det.onnx.gz", ns=(2, 2))
    status, headers, body = _raw(client, path, **{"Accept-Encoding": "gzip"})
    assert headers["content-encoding"] == "gzip" and gzip.decompress(body) == b"a new model"
