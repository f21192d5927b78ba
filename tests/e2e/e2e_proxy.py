"""The recording proxy: a tiny threaded HTTP proxy that records every request and forwards only to
allowed origins (by default the local servers of e2e_servers). The browser is launched through one
that forwards nothing; every recorded page's context gets one of its own (see e2e_browser).
"""

from __future__ import annotations

import http.client
import http.server
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from e2e_servers import local_origins

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
