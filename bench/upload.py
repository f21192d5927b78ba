"""Upload benchmark (issue 13): what the server's re-check and storage cost, in CPU time per instance.

    .venv/bin/python bench/upload.py [--files 200] [--repeat 1] [--against REF,...]
        [--no-profile] [--no-hostile]                 # or: python3 build.py bench (set "upload")

De-identified 512x512 CT slices (~0.5 MB each) are sent as the page sends them (8 instances per
multipart/related request, 3 requests in flight) into `python -m app serve` on loopback. The figure is the
server's CPU time (user + system of its process and its re-check processes, from /proc: page_upload's
`cpu_seconds`) per instance, and instances per second per core (= instances / CPU seconds): what the re-check
and the store cost, which moves less with the machine's other load than wall-clock MB/s does (it still
moves: shared caches, and the CPU's clock). Goal of issue
13: <= 5 ms per instance (about 9 ms before it).

The same corpus goes, in the same command, into the server of other commits (by default BASE_COMMIT, the
server before issue 13; --against REF,REF... for others, e.g. the commit before a change, to measure it),
each extracted with `git archive` into bench/out/tree-REF/ and started from there: the ratio is this
server's CPU per instance over that one's. Each server first takes a few warm-up requests (its re-check
processes start and import on first use), which are not counted. With --repeat N the servers take turns N
times and the lowest CPU time of each is kept.

Then (unless --no-profile) where this server's time goes per instance, stage by stage
(bench/upload_profile.py), and (unless --no-hostile) seven honest clients alone and with a hostile one
(bench/upload_hostile.py). Results: bench/out/upload.json, with a summary.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.uid import generate_uid

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from page_upload import cpu_seconds  # noqa: E402  (the server's CPU, as the page benchmark takes it)

from anonymizer.config import Config  # noqa: E402
from anonymizer.engine import deidentify  # noqa: E402
from anonymizer.keys import SecretKey  # noqa: E402
from app.launch import launch_server  # noqa: E402
from app.multipart import related  # noqa: E402
from app.tokens import Tokens  # noqa: E402

PER_REQUEST, IN_FLIGHT = 8, 3
WARM_UP = 2 * PER_REQUEST * IN_FLIGHT  # instances sent before the clock starts (pool start-up, imports)
BASE_COMMIT = "c3802df"  # the server before issue 13 (the gate, streaming STOW-RS, limits, forwarding)
GOAL_MS = 5.0


def corpus(count: int, seed: int = 0) -> list[bytes]:
    """`count` de-identified 512x512 CT slices (~0.5 MB each), distinct UIDs, one study and series."""
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
        rng = np.random.default_rng(seed * 100_003 + i)
        ds.PixelData = rng.integers(0, 2000, (512, 512), dtype=np.int16).tobytes()
        buf = io.BytesIO()
        ds.save_as(buf, enforce_file_format=True)
        out.append(deidentify(buf.getvalue(), Config(key=key)).data)
    return out


def post(url: str, token: str, body: bytes, content_type: str) -> tuple[int, bytes]:
    """One STOW-RS request; (status, answer)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": content_type, "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as r:  # noqa: S310 (loopback)
            return int(r.status), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def send_all(url: str, token: str, files: list[bytes], in_flight: int = IN_FLIGHT) -> float:
    """`files` in requests of PER_REQUEST, `in_flight` at a time; seconds. Every request must answer 200."""
    prepared = [related(files[i : i + PER_REQUEST]) for i in range(0, len(files), PER_REQUEST)]
    t = time.perf_counter()
    with ThreadPoolExecutor(in_flight) as pool:
        answers = list(pool.map(lambda item: post(url, token, *item), prepared))
    seconds = time.perf_counter() - t
    refused = [(s, a[:300]) for s, a in answers if s != 200]
    if refused:
        raise RuntimeError(f"{len(refused)} of {len(answers)} requests not answered 200: {refused[0]}")
    return seconds


@dataclass(frozen=True)
class Server:
    name: str
    url: str
    token: str
    pid: int
    stop: Callable[[], None]


def start_ours(tmp: Path, dist: Path) -> Server:
    data = tmp / "ours"
    token = Tokens(data / "tokens.sqlite").create(
        "bench", per_minute=100_000, max_request_bytes=1 << 30, per_minute_bytes=1 << 40
    )
    server = launch_server(dist, data=data)
    return Server("ours", f"{server.url}/dicomweb/studies", token, server.proc.pid, server.stop)


def source_tree(ref: str, out: Path) -> Path:
    """The server's source at commit `ref`, under `out` (git-ignored), extracted once."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", f"{ref}^{{commit}}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    tree = out / f"tree-{commit}"
    if not (tree / "app" / "cli.py").is_file():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "archive", commit, "app", "anonymizer", "redaction"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def start_commit(ref: str, tmp: Path, dist: Path, out: Path) -> Server:
    """The server of commit `ref`, with a token made by that commit's own token command."""
    tree = source_tree(ref, out)
    data = tmp / tree.name
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "token",
            "create",
            "--name",
            "bench",
            "--data",
            str(data),
            "--per-minute",
            "100000",
            "--max-request-mb",
            "1024",
        ],
        cwd=tree,
        check=True,
        capture_output=True,
        text=True,
    )  # fmt: skip  (its own token command: the token database of that commit)
    server = launch_server(dist, data=data, source=tree)
    url = f"{server.url}/dicomweb/studies"
    return Server(ref, url, created.stdout.strip(), server.proc.pid, server.stop)


def _own_cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` alone (all its threads, not its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(server: Server, warm: list[bytes], files: list[bytes]) -> dict[str, float]:
    """The server's CPU time (all of it, and its main process's) and the wall time for `files`, after
    `warm` (not counted)."""
    send_all(server.url, server.token, warm)
    cpu, own = cpu_seconds(server.pid), _own_cpu_seconds(server.pid)
    seconds = send_all(server.url, server.token, files)
    cpu, own = cpu_seconds(server.pid) - cpu, _own_cpu_seconds(server.pid) - own
    mb, n = sum(len(f) for f in files) / 1e6, len(files)
    return {
        "seconds": round(seconds, 3),
        "mb_per_s": round(mb / seconds, 1),
        "cpu_s": round(cpu, 3),
        "cpu_ms_per_instance": round(cpu / n * 1000, 2),
        # HTTP, multipart, the store; the rest is the re-check processes'
        "main_process_ms_per_instance": round(own / n * 1000, 2),
        "recheck_processes_ms_per_instance": round((cpu - own) / n * 1000, 2),
        "instances_per_core_s": round(n / cpu, 1) if cpu else 0.0,
    }


def _dist(tmp: Path) -> Path:
    """A page folder for the server to serve (the benchmark does not load it)."""
    (tmp / "dist").mkdir(exist_ok=True)
    (tmp / "dist" / "index.html").write_text("<!doctype html><title>bench</title>")
    return tmp / "dist"


def measure_ours(files: list[bytes]) -> dict[str, float]:
    """This server's figures for `files` (after its warm-up), in a fresh data folder."""
    with tempfile.TemporaryDirectory() as tmp_name:
        server = start_ours(Path(tmp_name), _dist(Path(tmp_name)))
        try:
            return measure(server, corpus(WARM_UP, seed=7), files)
        finally:
            server.stop()


def compare(out: Path, files: int, repeat: int, against: list[str]) -> dict[str, Any]:
    """This server and those of the commits `against` on the same instances, taking turns `repeat` times."""
    rounds = [(corpus(WARM_UP, seed=1 + 2 * r), corpus(files, seed=2 + 2 * r)) for r in range(repeat)]
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in ["ours", *against]}
    for warm, data in rounds:
        for name in runs:
            with tempfile.TemporaryDirectory() as tmp_name:
                tmp = Path(tmp_name)
                dist = _dist(tmp)
                server = start_ours(tmp, dist) if name == "ours" else start_commit(name, tmp, dist, out)
                try:
                    runs[name].append(measure(server, warm, data))
                finally:
                    server.stop()
    best = {name: min(r, key=lambda m: m["cpu_s"]) for name, r in runs.items()}
    return {"mb": round(sum(len(f) for f in rounds[0][1]) / 1e6, 1), "runs": runs, "best": best}


def summary(result: dict[str, Any]) -> list[str]:
    ours = result["best"]["ours"]
    lines = [
        f"upload {result['files']} instances ({result['mb']:.0f} MB), 8 per request, 3 in flight: "
        f"this server {ours['cpu_ms_per_instance']} ms of CPU an instance (re-check included; goal "
        f"<= {GOAL_MS:g}; {ours['main_process_ms_per_instance']} ms in its main process), "
        f"{ours['instances_per_core_s']} instances/s per core, {ours['mb_per_s']} MB/s"
    ]
    for ref, ratio in result["cpu_ratio"].items():
        o = result["best"][ref]
        label = f"{ref} (before issue 13)" if ref == BASE_COMMIT else ref
        lines.append(
            f"  server of {label}: {o['cpu_ms_per_instance']} ms ({o['main_process_ms_per_instance']} in its "
            f"main process), {o['instances_per_core_s']}/s per core, {o['mb_per_s']} MB/s; this server uses "
            f"{ratio}x its CPU"
        )
    return lines


def run(
    out: Path,
    files: int = 200,
    repeat: int = 1,
    against: tuple[str, ...] = (BASE_COMMIT,),
    profile: bool = True,
    hostile: bool = True,
) -> dict[str, Any]:
    measured = compare(out, files, repeat, list(against))
    result: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cores": os.cpu_count(),
        "files": files,
        **measured,
    }
    best = measured["best"]
    result["cpu_ratio"] = {ref: round(best["ours"]["cpu_s"] / best[ref]["cpu_s"], 2) for ref in against}
    result["summary"] = summary(result)
    if profile:
        import upload_profile

        result["profile"] = upload_profile.run(
            files, server_ms=measured["best"]["ours"]["cpu_ms_per_instance"]
        )
        result["summary"] += result["profile"]["summary"]
    if hostile:
        import upload_hostile

        result["hostile"] = upload_hostile.run()
        result["summary"] += result["hostile"]["summary"]
    for line in result["summary"]:
        print("  " + line, flush=True)
    (out / "upload.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=200, help="instances timed per server (default 200)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds, servers alternating; lowest CPU kept")
    parser.add_argument(
        "--against",
        default=BASE_COMMIT,
        help=f"commits whose servers are run too, comma-separated ({BASE_COMMIT}); '' none",
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the split of the server's time")
    parser.add_argument(
        "--no-hostile", action="store_true", help="skip 7 honest clients with and without a hostile one"
    )
    args = parser.parse_args()
    out_dir = BENCH / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    against = tuple(ref.strip() for ref in args.against.split(",") if ref.strip())
    run(out_dir, args.files, args.repeat, against, not args.no_profile, not args.no_hostile)
