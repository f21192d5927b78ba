"""Local servers for the browser tests: a static file server (:func:`serve_static`), the product's own
server (:func:`start_server`, :func:`launch_registered`) and :func:`dist_dir`, the built site it serves.

Every server started here registers its origin; proxies forward only to those (:func:`local_origins`).
"""

from __future__ import annotations

import functools
import http.server
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

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


def dist_dir() -> Path:
    return Path(os.environ.get("PACSBIN_DIST") or ROOT / "dist").resolve()
