"""Load and faults on loopback, bounded: 8 clients uploading at once; the server killed (-9) mid-upload and
restarted: nothing half-written, the client resumes (QIDO-RS content hashes) and every instance ends up stored
exactly once."""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import signal
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pydicom
from conftest import TEST_KEY, stow_post
from corpus import file
from pydicom.uid import generate_uid

from anonymizer.config import Config
from anonymizer.engine import deidentify
from app.launch import launch_server
from app.multipart import related
from app.tokens import Tokens


def _instances(count: int, size: int = 64) -> list[bytes]:
    """`count` distinct de-identified CT instances (new UIDs; each carries `size`x`size` random pixels)."""
    base = pydicom.dcmread(file("CT_small.dcm"))
    out = []
    study = generate_uid()
    for i in range(count):
        ds = base.copy()
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID = study, generate_uid(), generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = i + 1
        ds.Rows = ds.Columns = size
        ds.PixelData = np.random.default_rng(i).integers(0, 2000, (size, size), dtype=np.int16).tobytes()
        buf = io.BytesIO()
        ds.save_as(buf, enforce_file_format=True)
        out.append(deidentify(buf.getvalue(), Config(key=TEST_KEY)).data)
    return out


def _held(url: str, token: str, study: str) -> dict[str, str]:
    """sop -> sha256 the server holds for a study (the resume question the page asks)."""

    def get(path: str) -> list[dict[str, dict[str, list[str]]]]:
        req = urllib.request.Request(url + path, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310 (loopback)
            return json.loads(r.read()) if r.status == 200 else []

    out = {}
    for s in get(f"/dicomweb/studies/{study}/series"):
        series = s["0020000E"]["Value"][0]
        for i in get(f"/dicomweb/studies/{study}/series/{series}/instances"):
            out[i["00080018"]["Value"][0]] = i["00091001"]["Value"][0]
    return out


def _children(pid: int) -> set[int]:
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _dist(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><title>t</title>")
    return dist


def test_eight_clients_at_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    tokens = [Tokens(data / "tokens.sqlite").create(f"client {i}", per_minute=1000) for i in range(8)]
    server = launch_server(_dist(tmp_path), data=data)
    try:
        work = [_instances(12) for _ in range(8)]
        statuses: list[int] = []
        errors: list[BaseException] = []

        def client(i: int) -> None:
            try:
                for start in range(0, 12, 3):
                    statuses.append(stow_post(server.url, tokens[i], work[i][start : start + 3]))
            except BaseException as exc:  # noqa: BLE001 (reported below)
                errors.append(exc)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors and statuses == [200] * 32
        stored = list((data / "instances").rglob("*.dcm"))
        assert len(stored) == 96 and not list((data / "instances").rglob("*.tmp"))
        expected = {hashlib.sha256(b).hexdigest() for w in work for b in w}
        assert {hashlib.sha256(p.read_bytes()).hexdigest() for p in stored} == expected
    finally:
        server.stop()


def test_killed_mid_upload_then_resumed_stores_everything_exactly_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    token = Tokens(data / "tokens.sqlite").create("resume", per_minute=1000)
    instances = _instances(40, size=256)  # ~170 kB each
    study = str(pydicom.dcmread(io.BytesIO(instances[0])).StudyInstanceUID)
    dist = _dist(tmp_path)
    server = launch_server(dist, data=data)
    port = server.port
    try:
        assert stow_post(server.url, token, instances[:10]) == 200  # the first requests went through
        # A big request sent slowly; the server dies (-9) while it is receiving and storing it.
        body, content_type = related(instances[10:])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.putrequest("POST", "/dicomweb/studies")
        for key, value in (
            ("Content-Type", content_type),
            ("Authorization", f"Bearer {token}"),
            ("Content-Length", str(len(body))),
        ):
            conn.putheader(key, value)
        conn.endheaders()
        sent = 0
        try:
            for start in range(0, len(body), 64 * 1024):
                conn.send(body[start : start + 64 * 1024])
                sent += 64 * 1024
                if sent > len(body) // 2 and server.proc.poll() is None:
                    workers = _children(server.proc.pid)  # the re-check processes
                    os.kill(server.proc.pid, signal.SIGKILL)
                    server.proc.wait(10)
                time.sleep(0.001)
        except OSError:
            pass  # the connection died with the server
        finally:
            conn.close()
    finally:
        server.stop()
    # The server's re-check processes do not outlive it, even killed (-9).
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert workers and not any(_alive(p) for p in workers)

    # Nothing half-written: every stored file is whole (and passes the re-check), no temporary files remain
    # once the server starts again.
    server = launch_server(dist, data=data, port=port)
    try:
        assert not list((data / "instances").rglob("*.tmp"))
        held = _held(server.url, token, study)
        for path in (data / "instances").rglob("*.dcm"):
            assert hashlib.sha256(path.read_bytes()).hexdigest() == held[path.stem]
        assert len(held) >= 10
        # The client resumes: it sends only what the server does not hold with the same content.
        digests = {
            str(pydicom.dcmread(io.BytesIO(b)).SOPInstanceUID): hashlib.sha256(b).hexdigest()
            for b in instances
        }
        missing = [
            b
            for b in instances
            if held.get(str(pydicom.dcmread(io.BytesIO(b)).SOPInstanceUID)) != hashlib.sha256(b).hexdigest()
        ]
        assert missing and len(missing) <= 30
        for start in range(0, len(missing), 10):
            assert stow_post(server.url, token, missing[start : start + 10]) == 200
        held = _held(server.url, token, study)
        assert held == digests  # every instance, each once, with its exact bytes
        assert len(list((data / "instances").rglob("*.dcm"))) == len(instances)
    finally:
        server.stop()
