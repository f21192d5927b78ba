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
from dataclasses import dataclass
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


@dataclass
class ServerProcess:
    url: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path  # the server's stdout and stderr
    stop: Callable[[], None]


def launch_server(
    dist: Path,
    *,
    data: Path | None = None,
    extra: Sequence[str] = (),
    port: int | None = None,
    python: str = sys.executable,
    timeout: float = 30.0,
    source: Path = ROOT,
) -> ServerProcess:
    """`python -m app serve` for `dist` on 127.0.0.1 (a free port unless given), once it answers.

    `data`: the server's data folder (uploads, tokens); a temporary one, removed at stop, when not given.
    Its output goes to a log file (a pipe nobody reads would block a busy server). `source`: the tree whose
    `app` is run (the benchmark runs an older commit's server beside this one)."""
    port = port or free_port()
    scratch = tempfile.mkdtemp(prefix="pacsbin-server-")
    folder = data if data is not None else Path(scratch) / "data"
    log = Path(scratch) / "server.log"
    cmd = [python, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port), "--dist", str(dist)]
    cmd += ["--data", str(folder), *extra]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=source, stdout=out, stderr=subprocess.STDOUT)

    def stop() -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        shutil.rmtree(scratch, ignore_errors=True)

    deadline = time.monotonic() + timeout
    while not _answers(port):
        if proc.poll() is not None:
            text = log.read_text(errors="replace")
            stop()
            raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode}:\n{text}")
        if time.monotonic() > deadline:
            stop()
            raise RuntimeError(f"{' '.join(cmd)} did not answer on port {port} in {timeout:.0f} s")
        time.sleep(0.1)
    return ServerProcess(f"http://127.0.0.1:{port}", port, proc, log, stop)


def start_server_process(
    dist: Path,
    *,
    data: Path | None = None,
    extra: Sequence[str] = (),
    python: str = sys.executable,
    timeout: float = 30.0,
) -> tuple[str, Callable[[], None]]:
    """`launch_server`, as (base URL, stop)."""
    server = launch_server(dist, data=data, extra=extra, python=python, timeout=timeout)
    return server.url, server.stop
