"""Upload benchmark (issue 5): STOW-RS into our server vs a raw POST of the same bytes, on loopback, one run.

    .venv/bin/python bench/upload.py [--files 200]      # or: python3 build.py bench (set "upload")

Both sides use the page's request shape: 8 instances per multipart/related request, 3 requests in flight.
Ours: `python -m app serve` (re-check of every instance by the engine, fsync'd atomic writes, SQLite index).
Peers: the same uvicorn + Starlette stack with one route that reads the body and throws it away (the issue's
"raw POST"; the figure is ours / this peer in MB/s, target >= 0.8), and one that also stores each body as
durably as our store does (temporary file, fsync, rename, fsync of the folder): the second ratio is what the
STOW-RS parsing and the engine's re-check cost on top of receiving and storing the bytes.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pydicom
from pydicom.uid import generate_uid

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from anonymizer.config import Config  # noqa: E402
from anonymizer.engine import deidentify  # noqa: E402
from anonymizer.keys import SecretKey  # noqa: E402
from app.launch import free_port, launch_server  # noqa: E402
from app.multipart import related  # noqa: E402
from app.tokens import Tokens  # noqa: E402

PER_REQUEST, IN_FLIGHT = 8, 3


def corpus(count: int) -> list[bytes]:
    """`count` de-identified 512x512 CT slices (~0.5 MB each), distinct UIDs."""
    from corpus import file  # tests/corpus.py

    base = pydicom.dcmread(file("CT_small.dcm"))
    key = SecretKey(bytes(range(32)))
    study, series = generate_uid(), generate_uid()
    out = []
    for i in range(count):
        ds = base.copy()
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID = study, series, generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.Rows = ds.Columns = 512
        ds.PixelData = np.random.default_rng(i).integers(0, 2000, (512, 512), dtype=np.int16).tobytes()
        buf = io.BytesIO()
        ds.save_as(buf, enforce_file_format=True)
        out.append(deidentify(buf.getvalue(), Config(key=key)).data)
    return out


def send_all(url: str, token: str, files: list[bytes]) -> float:
    import urllib.request

    batches = [files[i : i + PER_REQUEST] for i in range(0, len(files), PER_REQUEST)]
    prepared = [related(b) for b in batches]

    def post(item: tuple[bytes, str]) -> int:
        data, content_type = item
        request = urllib.request.Request(
            url,
            data=data,
            method="POST",
            headers={"Content-Type": content_type, "Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=300) as r:  # noqa: S310 (loopback)
            r.read()
            return int(r.status)

    t = time.perf_counter()
    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        statuses = list(pool.map(post, prepared))
    seconds = time.perf_counter() - t
    assert all(s == 200 for s in statuses), statuses
    return seconds


def sink_server(store: Path | None = None) -> tuple[str, object]:
    """A raw POST route: reads the body (and, with `store`, writes it there durably)."""
    import os

    import uvicorn
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    def durable(body: bytes) -> None:
        assert store is not None
        final = store / f"{time.monotonic_ns()}-{threading.get_ident()}.bin"
        tmp = final.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
        fd = os.open(store, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    async def sink(request: Request) -> Response:
        chunks = [chunk async for chunk in request.stream()]
        if store is not None:
            await run_in_threadpool(durable, b"".join(chunks))
        return Response("{}", media_type="application/json")

    port = free_port()
    config = uvicorn.Config(
        Starlette(routes=[Route("/sink", sink, methods=["POST"])]), port=port, log_level="error"
    )
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}/sink", server


def raw_post(data: list[bytes], store: Path | None = None) -> float:
    url, server = sink_server(store)
    try:
        return send_all(url, "-", data)
    finally:
        server.should_exit = True  # type: ignore[attr-defined]


def run(out: Path, files: int = 200) -> dict[str, object]:
    data = corpus(files)
    mb = sum(len(d) for d in data) / 1e6
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "dist").mkdir()
        (tmp / "dist" / "index.html").write_text("<!doctype html><title>bench</title>")
        token = Tokens(tmp / "data" / "tokens.sqlite").create(
            "bench", per_minute=100_000, max_request_bytes=1 << 30, per_minute_bytes=1 << 40
        )
        server = launch_server(tmp / "dist", data=tmp / "data")
        try:
            ours = send_all(f"{server.url}/dicomweb/studies", token, data)
        finally:
            server.stop()
        raw = raw_post(data)
        (tmp / "raw-store").mkdir()
        raw_stored = raw_post(data, tmp / "raw-store")
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "files": files,
        "mb": round(mb, 1),
        "stow_mb_per_s": round(mb / ours, 1),
        "raw_post_mb_per_s": round(mb / raw, 1),
        "ratio": round(raw / ours, 2),
        "raw_post_stored_mb_per_s": round(mb / raw_stored, 1),
        "ratio_vs_stored": round(raw_stored / ours, 2),
    }
    line = (
        f"upload {files} files ({mb:.0f} MB), 8 per request, 3 in flight: STOW-RS into our server "
        f"{result['stow_mb_per_s']} MB/s, raw POST of the same bytes {result['raw_post_mb_per_s']} MB/s: "
        f"{result['ratio']}x (target >= 0.8); raw POST stored durably {result['raw_post_stored_mb_per_s']} "
        f"MB/s: {result['ratio_vs_stored']}x"
    )
    result["summary"] = [line]
    print("  " + line)
    (out / "upload.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=200)
    args = parser.parse_args()
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    run(out_dir, args.files)
