"""Start the server in a child process on a free loopback port and wait until it answers.

For the browser tests and the page benchmark, which must see the product's own server (its CSP, ETags and
caching), not a stand-in.
"""

from __future__ import annotations

import http.client
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/")
        conn.getresponse().read()
        conn.close()
    except OSError:
        return False
    return True


def start_server_process(
    dist: Path,
    *,
    data: Path | None = None,
    extra: Sequence[str] = (),
    python: str = sys.executable,
    timeout: float = 30.0,
) -> tuple[str, Callable[[], None]]:
    """`python -m app serve` for `dist` on 127.0.0.1; returns its base URL and a function that stops it.

    `data`: the server's data folder (uploads, tokens); a temporary one, removed at stop, when not given."""
    port = free_port()
    scratch = None if data is not None else tempfile.mkdtemp(prefix="pacsbin-server-")
    folder = data if data is not None else Path(str(scratch))
    cmd = [python, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port), "--dist", str(dist)]
    cmd += ["--data", str(folder), *extra]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def stop() -> None:
        _stop()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    def _stop() -> None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if proc.stdout:
            proc.stdout.close()

    deadline = time.monotonic() + timeout
    while not _answers(port):
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode}:\n{out}")
        if time.monotonic() > deadline:
            stop()
            raise RuntimeError(f"{' '.join(cmd)} did not answer on port {port} in {timeout:.0f} s")
        time.sleep(0.1)
    return f"http://127.0.0.1:{port}", stop
