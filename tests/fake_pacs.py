"""A PACS that answers as a test scripts it: a small HTTP server on loopback for the forwarding tests
(redirects, refusals, busy answers, DICOM JSON with a Failed SOP Sequence). Each request is recorded."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def stored(sop: str) -> Answer:
    """What a conforming PACS answers when it stored `sop` (PS3.18 10.5.3)."""
    item = {"00081155": {"vr": "UI", "Value": [sop]}}
    return dicom_json(200, {"00081199": {"vr": "SQ", "Value": [item]}})


def refused(status: int, sop: str, reason: int, comment: str = "") -> Answer:
    item: dict[str, Any] = {
        "00081155": {"vr": "UI", "Value": [sop]},
        "00081197": {"vr": "US", "Value": [reason]},
    }
    if comment:
        item["00000902"] = {"vr": "LO", "Value": [comment]}
    return dicom_json(status, {"00081198": {"vr": "SQ", "Value": [item]}})


def dicom_json(status: int, dataset: dict[str, Any]) -> Answer:
    return Answer(status, json.dumps(dataset).encode(), {"Content-Type": "application/dicom+json"})


class FakePacs:
    def __init__(self) -> None:
        self.script: list[Answer] = []  # answers to POSTs, in order; the last one repeats
        self.rule: Callable[[bytes], Answer] | None = None  # or an answer chosen by the request's body
        self.get_answer = Answer(200, b"<html>a page</html>", {"Content-Type": "text/html"})
        self.requests: list[Request] = []
        self.url = ""

    def answer(self, *answers: Answer) -> None:
        self.script = list(answers)

    def posts(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST"]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        pacs = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                pacs.requests.append(Request(method, self.path, dict(self.headers.items()), body))
                if method == "POST" and pacs.rule is not None:
                    answer = pacs.rule(body)
                elif method == "POST":
                    answer = pacs.script.pop(0) if len(pacs.script) > 1 else pacs.script[0]
                else:
                    answer = pacs.get_answer
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                self._handle("POST")

            def do_GET(self) -> None:  # noqa: N802
                self._handle("GET")

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


@contextmanager
def fake_pacs() -> Iterator[FakePacs]:
    pacs = FakePacs()
    server = ThreadingHTTPServer(("127.0.0.1", 0), pacs.handler())
    pacs.url = f"http://127.0.0.1:{server.server_address[1]}/dicom-web"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield pacs
    finally:
        server.shutdown()
        server.server_close()
