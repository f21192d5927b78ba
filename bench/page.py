"""Page benchmark: the uploader page (dist/) in headless Chromium, timed against the native CLI.

    .venv/bin/python bench/page.py                 # 2,000 CT slices + the first ~210 MB Enhanced CT file
    .venv/bin/python bench/page.py --small         # 200 slices + a ~52 MB file
    .venv/bin/python bench/run.py --sets page      # the same, from the main benchmark (in its default sets)

What is measured (see bench/README.md, "The page"):

1. Cold start to ``body[data-state=ready]`` (the engine is loaded: a dropped file can be de-identified now),
   from navigation start, for a first visit (fresh profile) and a repeat visit (the same profile launched
   again; no ``route()``, which would disable the HTTP cache), median of --page-launches each, and the
   engine's own "engine loaded in X s" from #engine-status.
2. Indexing: drop a folder of K files (CDP drag and drop, as a file manager would) and time from the drop
   event to "... in the list" in #index-progress; the longest main-thread task meanwhile (PerformanceObserver
   "longtask").
3. De-identification: click "De-identify and download zip", time from the click to state "done" and the
   download complete; the zip is checked (K entries + the report). Our CLI (--jobs 1, and --jobs W for
   the page's W engine workers) runs on the same files in the same run: page / CLI ratio.
4. Upload (bench/page_upload.py; --page-no-upload skips it): the same page then uploads the same files to
   its server as a person does (thumbnails scrolled past, "Upload"): click -> "Upload finished", against the
   download run (1.0 = uploading costs the user no more than saving the zip); what the server stored is
   counted and re-checked, and the server's CPU time meanwhile is reported (it shares this machine).
5. Peak memory of the tab: the sum of RSS (and PSS) of Chromium's renderer processes (page, its workers
   and the service worker live there), sampled every 0.2 s from /proc; the page's JS heap from CDP.

Timestamps come from the page itself (performance.now() relative to navigation start), recorded by
scripts injected with add_init_script: MutationObservers on data-state and #index-progress, capture
listeners for the drop and the click, a long-task observer, and a wrapper around Worker that times each
request/reply of the page's RPC. Throughput runs start once every engine worker has loaded: a script
evaluated in each worker over CDP waits for that and times the worker's side (the Python call, file
reads, postMessage) for the "ms per file" profile. The page itself is not changed; nothing leaves
127.0.0.1 (no name resolves in the browser; off-site requests are listed).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gen_corpus
from page_memory import MemorySampler
from page_report import NOTES, TARGETS, fmt, longest_task, median_or_none, profile_of, report, rounded
from page_scripts import PAGE_OBSERVERS, PAGE_RPC_TIMER, PROGRESS, RESOURCES, WORKER_TAKE, WORKER_TIMER
from page_upload import prepare, server_token, upload_run

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PY = sys.executable
VENV_PY = ROOT / ".venv" / "bin" / "python"
CHROMIUM = "/usr/bin/chromium"
SECRET = "bench"

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",  # no name resolves: nothing leaves
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--disable-features=AutofillServerCommunication,OptimizationHints,MediaRouter",
]

# Runs in the page before its own scripts. Only observes: state changes, #index-progress and
# #progress-text texts, the drop and the click on #run, long tasks.
# What shows progress; unchanged for STALL seconds = the page is stuck (reported, the benchmark goes on).
STALL = 120.0

# Small helpers


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def warm_up(paths: list[Path]) -> float:
    start = time.monotonic()
    for path in paths:
        with path.open("rb", buffering=0) as f:
            while f.read(16 << 20):
                pass
    return time.monotonic() - start


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_dist(rebuild: bool = False) -> tuple[Path, list[str]]:
    """dist/ (built when missing or asked); returns it and the page files that differ from static/."""
    dist = ROOT / "dist"
    if rebuild or not (dist / "index.html").is_file():
        print("page: building dist/ (tools/build_dist.py)", flush=True)
        sys.path.insert(0, str(ROOT / "tools"))
        from build_dist import build_dist  # type: ignore[import-not-found]

        dist = Path(build_dist(ROOT, VENV_PY))
    stale = [
        p.name
        for p in sorted((ROOT / "static").glob("*"))
        if p.is_file() and (not (dist / p.name).is_file() or (dist / p.name).read_bytes() != p.read_bytes())
    ]
    return dist, stale


@contextlib.contextmanager
def serve(dist: Path, data: Path, timeout: float = 30.0) -> Iterator[Any]:
    """The product's server (`python -m app serve`: CSP, ETags, immutable pinned assets, DICOMweb
    storing into `data`) on a free port: its app.launch.ServerProcess."""
    from app.launch import launch_server

    python = str(VENV_PY if VENV_PY.exists() else PY)
    server = launch_server(dist, data=data, python=python, timeout=timeout)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Session:
    """One launch of Chromium with a persistent profile, one page on the app."""

    context: Any
    page: Any
    workers: list[Any] = field(default_factory=list)
    offsite: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@contextlib.contextmanager
def launch(pw: Any, profile: Path, *, rpc_timer: bool) -> Iterator[Session]:
    context = pw.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS, accept_downloads=True
    )
    try:
        context.set_default_timeout(60_000)
        context.add_init_script(PAGE_OBSERVERS)
        if rpc_timer:
            context.add_init_script(PAGE_RPC_TIMER)
        page = context.pages[0] if context.pages else context.new_page()
        session = Session(context, page)

        def on_request(request: Any) -> None:
            u = urlsplit(request.url)
            if u.scheme in ("http", "https", "ws", "wss") and u.hostname != "127.0.0.1":
                session.offsite.append(request.url)

        context.on("request", on_request)
        page.on("worker", lambda w: session.workers.append(w))
        page.on("pageerror", lambda e: session.errors.append(f"page error: {e}"))
        yield session
    finally:
        with contextlib.suppress(Exception):
            context.close()


def _poll(locator: Any, timeout: float, tick: Callable[[], None] | None = None) -> None:
    """Wait for `locator` to be attached (seconds), calling `tick` about every 0.25 s meanwhile."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        try:
            locator.wait_for(state="attached", timeout=max(1.0, min(left, 0.25) * 1000))
            return
        except PlaywrightTimeoutError:
            if time.monotonic() >= deadline:
                raise
            if tick is not None:
                tick()


def _state(page: Any) -> str:
    return str(page.evaluate("() => document.body && document.body.dataset.state"))


def _wait_state(page: Any, state: str, timeout: float, tick: Callable[[], None] | None = None) -> None:
    try:
        _poll(page.locator(f'body[data-state="{state}"]'), timeout, tick)
    except Exception as exc:
        status = page.evaluate("() => document.getElementById('engine-status').textContent")
        raise RuntimeError(f"state {_state(page)!r} after {timeout:.0f} s, not {state!r} ({status})") from exc


def _engine_seconds(page: Any) -> float | None:
    text = page.inner_text("#engine-status")
    m = re.search(r"loaded in ([\d.]+) s", text)
    return float(m.group(1)) if m else None


def _first(marks: list[list[Any]], state: str, after: float = 0.0) -> float | None:
    return next((t for s, t in marks if s == state and t >= after), None)


def drop(page: Any, selector: str, paths: list[Path]) -> None:
    """Drop real files/folders on `selector` as a file manager would (CDP drag events at its centre)."""
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not visible"
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    data = {"items": [], "files": [str(p.resolve()) for p in paths], "dragOperationsMask": 1}
    cdp = page.context.new_cdp_session(page)
    try:
        for kind in ("dragEnter", "dragOver", "drop"):
            cdp.send("Input.dispatchDragEvent", {"type": kind, "x": x, "y": y, "data": data})
    finally:
        cdp.detach()


# ---------------------------------------------------------------------------------------------------------
# 1. Cold start


def visit(pw: Any, base_url: str, profile: Path, timeout: float) -> dict[str, Any]:
    with launch(pw, profile, rpc_timer=False) as s:
        s.page.goto(base_url + "/")
        _wait_state(s.page, "ready", timeout)
        bench = s.page.evaluate("() => window.__bench")
        nav = s.page.evaluate(
            "() => { const n = performance.getEntriesByType('navigation')[0];"
            " return {dcl: n.domContentLoadedEventEnd, origin: performance.timeOrigin,"
            " controlled: !!(navigator.serviceWorker && navigator.serviceWorker.controller)}; }"
        )
        resources = s.page.evaluate(RESOURCES)
        worker_start = None
        engines = _engine_workers(s)
        if engines:  # the first worker: the one the page waits for
            w = engines[0]
            resources += w.evaluate(RESOURCES)
            worker_start = w.evaluate("() => performance.timeOrigin") - nav["origin"]
        ready = _first(bench["states"], "ready")
        return {
            "ready_s": rounded(ready / 1000 if ready is not None else None),
            "engine_s": _engine_seconds(s.page),
            "worker_created_ms": rounded(worker_start, 1),
            "dom_content_loaded_ms": rounded(nav["dcl"], 1),
            "sw_controlled": nav["controlled"],
            "transferred_kb": round(sum(max(0, r["transfer"] or 0) for r in resources) / 1024, 1),
            "resources": len(resources),
            "from_cache": sum(1 for r in resources if r["transfer"] == 0 and r["body"]),
            "offsite_requests": s.offsite,
            "errors": s.errors,
        }


def cold_start(pw: Any, base_url: str, launches: int, work: Path, timeout: float) -> dict[str, Any]:
    """`launches` fresh profiles, each visited twice (first visit, then the same profile relaunched)."""
    first: list[dict[str, Any]] = []
    repeat: list[dict[str, Any]] = []
    for i in range(launches):
        profile = Path(tempfile.mkdtemp(prefix="profile-", dir=work))
        try:
            first.append(visit(pw, base_url, profile, timeout))
            repeat.append(visit(pw, base_url, profile, timeout))
        finally:
            shutil.rmtree(profile, ignore_errors=True)
        a, b = first[-1], repeat[-1]
        print(
            f"  [{i + 1}/{launches}] ready: first {fmt(a['ready_s'])} s (engine "
            f"{fmt(a['engine_s'], '.1f')} s, {a['transferred_kb'] / 1024:.1f} MB over the wire), "
            f"repeat {fmt(b['ready_s'])} s (engine "
            f"{fmt(b['engine_s'], '.1f')} s, {b['from_cache']}/{b['resources']} from cache, "
            f"{b['transferred_kb']:.0f} kB)",
            flush=True,
        )

    def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
        ready = [r["ready_s"] for r in runs if r["ready_s"] is not None]
        engine = [r["engine_s"] for r in runs if r["engine_s"] is not None]
        worker = [r["worker_created_ms"] for r in runs if r["worker_created_ms"] is not None]
        return {
            "ready_s_median": rounded(median_or_none(ready)),
            "ready_s_min": rounded(min(ready, default=None)),
            "ready_s_max": rounded(max(ready, default=None)),
            "engine_s_median": rounded(median_or_none(engine), 2),
            "worker_created_ms_median": rounded(median_or_none(worker), 1),
            "transferred_kb_median": rounded(median_or_none([r["transferred_kb"] for r in runs]), 1),
            "runs": runs,
        }

    return {"launches": launches, "first": summary(first), "repeat": summary(repeat)}


# ---------------------------------------------------------------------------------------------------------
# 2-4. Indexing, de-identification and memory in one page


@dataclass
class Upload:
    """Where the page uploads: the server's data folder, a token for it, the server's process id."""

    data: Path
    token: str
    server_pid: int


@dataclass
class Job:
    """One page run on `paths` (dropped as they are) and the CLI on `cli_inputs`."""

    name: str
    paths: list[Path]
    files: list[Path]

    @property
    def bytes(self) -> int:
        return sum(p.stat().st_size for p in self.files)


def _zip_check(path: Path, expected: int) -> dict[str, Any]:
    import pydicom

    problems: list[str] = []
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        dicoms = [n for n in names if n.endswith(".dcm")]
        report = (
            json.loads(z.read("deidentification-report.json"))
            if "deidentification-report.json" in names
            else {}
        )
        done = sum(1 for f in report.get("files", []) if f.get("status") == "done")
        for name in dicoms[:: max(1, len(dicoms) // 3)][:3]:
            ds = pydicom.dcmread(io.BytesIO(z.read(name)), stop_before_pixels=True)
            if ds.get("PatientIdentityRemoved") != "YES":
                problems.append(f"{name}: PatientIdentityRemoved is {ds.get('PatientIdentityRemoved')!r}")
    if len(dicoms) != expected:
        problems.append(f"zip holds {len(dicoms)} DICOM entries for {expected} files")
    if "deidentification-report.json" not in names:
        problems.append("no deidentification-report.json in the zip")
    elif done != expected or not report.get("finished"):
        problems.append(f"report: {done} done of {expected}, finished={report.get('finished')}")
    return {
        "entries": len(names),
        "dicom_entries": len(dicoms),
        "report_done": done,
        "zip_mb": round(path.stat().st_size / 1e6, 1),
        "problems": problems,
    }


def _engine_workers(session: Session) -> list[Any]:
    return [w for w in session.workers if w.url.endswith("/worker.mjs")]


def _instrument_workers(session: Session, origin: float) -> list[float]:
    """Install WORKER_TIMER in every engine worker and wait until each has its engine loaded; returns
    when each was ready, in seconds after navigation start."""
    ready = []
    for w in _engine_workers(session):
        info = w.evaluate(WORKER_TIMER)
        if "error" in info:
            raise RuntimeError(f"engine worker {w.url}: {info['error']}")
        ready.append(round((info["timeOrigin"] + info["readyAt"] - origin) / 1000, 3))
    return ready


def _take_workers(session: Session) -> dict[str, Any]:
    """The engine workers' figures, summed, and their counters zeroed."""
    total: dict[str, Any] = {"workers": 0, "cmds": {}}
    for w in _engine_workers(session):
        with contextlib.suppress(Exception):  # a worker replaced meanwhile is gone with its figures
            taken = w.evaluate(WORKER_TAKE)
            total["workers"] += 1
            for key in ("python", "reads", "blobReads", "post"):
                into = total.setdefault(key, {"n": 0, "ms": 0.0, "bytes": 0})
                for k in into:
                    into[k] += taken[key].get(k, 0)
            for cmd, c in taken["cmds"].items():
                into = total["cmds"].setdefault(cmd, {"n": 0, "ms": 0.0})
                into["n"] += c["n"]
                into["ms"] += c["ms"]
    return total


def _main_thread_ms(cdp: Any) -> float:
    """Busy time of the page's main thread so far (CDP Performance.getMetrics TaskDuration), in ms."""
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return float(metrics.get("TaskDuration", 0.0)) * 1000


def page_run(
    pw: Any, base_url: str, job: Job, work: Path, memory: MemorySampler, timeout: float, upload: Upload | None
) -> dict[str, Any]:
    """Fresh profile: load, wait for every engine worker, drop, index, de-identify and download, then
    (with `upload`) upload to the server; times, memory, long tasks and where the time goes."""
    result: dict[str, Any] = {"set": job.name, "files": len(job.files), "mb": round(job.bytes / 1e6, 1)}
    heap = {"page_js_heap_mb": 0.0}
    profile = Path(tempfile.mkdtemp(prefix="profile-", dir=work))
    try:
        with launch(pw, profile, rpc_timer=True) as s:
            page = s.page
            if upload is not None:
                prepare(s.context, upload.token)
            page.goto(base_url + "/")
            _wait_state(page, "ready", timeout)
            origin = page.evaluate("() => performance.timeOrigin")
            time.sleep(0.5)  # the page starts its other workers once the first is ready
            result["workers_ready_by_s"] = _instrument_workers(s, origin)
            result["workers"] = len(result["workers_ready_by_s"])
            cdp = s.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            seen: dict[str, Any] = {"what": None, "since": time.monotonic()}

            def tick() -> None:
                with contextlib.suppress(Exception):
                    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
                    heap["page_js_heap_mb"] = max(heap["page_js_heap_mb"], metrics["JSHeapUsedSize"] / 2**20)
                what = page.evaluate(PROGRESS)
                if what != seen["what"]:
                    seen["what"], seen["since"] = what, time.monotonic()
                elif time.monotonic() - seen["since"] > STALL:
                    raise RuntimeError(f"no progress for {STALL:.0f} s: {what}")

            # Indexing: drop -> "... in the list", then the page goes back to ready.
            busy = _main_thread_ms(cdp)
            with memory.window(f"{job.name}:index"):
                drop(page, "#drop-zone", job.paths)
                _poll(page.locator("#index-progress", has_text="in the list"), timeout, tick)
                _wait_state(page, "ready", timeout, tick)
            busy = _main_thread_ms(cdp) - busy
            b = page.evaluate("() => window.__bench")
            t_drop = b["drops"][-1] if b["drops"] else None
            t_listed = next((t for text, t in b["progress"] if "in the list" in text), None)
            listed = page.inner_text("#index-progress")
            m = re.match(r"(\d+) DICOM files in the list, (\d+) skipped", listed)
            index_s = (t_listed - t_drop) / 1000 if t_drop is not None and t_listed is not None else None
            during = [
                d
                for start, d in b["longtasks"]
                if t_drop is not None and t_listed is not None and t_drop - 1 <= start <= t_listed
            ]
            result["index"] = {
                "seconds": rounded(index_s),
                "files_per_s": rounded(len(job.files) / index_s, 1) if index_s else None,
                "listed": int(m.group(1)) if m else None,
                "skipped": int(m.group(2)) if m else None,
                "longest_task_ms": rounded(max(during, default=0.0), 1),
                "tasks_over_50ms": len(during),
                "tasks_over_200ms": sum(1 for d in during if d > 200),
                "longtask_observer": b.get("longtaskError") or "ok",
                "main_thread_busy_ms": rounded(busy, 1),
                # drop -> the first index request: collecting the dropped folder's File objects
                "walk_s": rounded((b["rpc"]["index"]["first"] - t_drop) / 1000)
                if "index" in b["rpc"] and t_drop is not None
                else None,
                "rpc": b["rpc"].get("index"),
                "worker": _take_workers(s),
            }
            print(
                f"  index {len(job.files)} files: {fmt(index_s)} s (walking the drop "
                f"{fmt(result['index']['walk_s'])} s); longest main-thread task "
                f"{longest_task(result['index'])}",
                flush=True,
            )

            # De-identification: click -> "done" and the download complete.
            busy = _main_thread_ms(cdp)
            with memory.window(f"{job.name}:deidentify"):
                downloads: list[Any] = []
                page.on("download", lambda d: downloads.append(d))
                wall = time.perf_counter()
                page.click("#run")
                _wait_state(page, "done", timeout, tick)
                if not downloads:
                    page.wait_for_event("download", timeout=30_000)
                zip_path = Path(downloads[0].path())
                # streamed through the service worker (".../download/<id>") or built in memory (blob:)
                via = "service worker" if "/download/" in downloads[0].url else downloads[0].url.split(":")[0]
                wall = time.perf_counter() - wall
            busy = _main_thread_ms(cdp) - busy
            b = page.evaluate("() => window.__bench")
            t_click = b["clicks"][-1] if b["clicks"] else None
            t_done = _first(b["states"], "done", after=t_click or 0.0)
            deid_s = (t_done - t_click) / 1000 if t_click is not None and t_done is not None else None
            during = [d for start, d in b["longtasks"] if t_click is not None and start >= t_click - 1]
            result["deidentify"] = {
                "seconds": rounded(deid_s),
                "wall_to_download_s": rounded(wall),
                "download_via": via,
                "files_per_s": rounded(len(job.files) / deid_s, 2) if deid_s else None,
                "mb_per_s": rounded(job.bytes / 1e6 / deid_s, 2) if deid_s else None,
                "longest_task_ms": rounded(max(during, default=0.0), 1),
                "main_thread_busy_ms": rounded(busy, 1),
                "rpc": b["rpc"].get("deidentify"),
                "worker": _take_workers(s),
                "text": page.inner_text("#progress-text"),
                "zip": _zip_check(zip_path, len(job.files)),
            }
            if upload is not None:  # the same files, uploaded to the server by the same page
                with memory.window(f"{job.name}:upload"):
                    up = upload_run(page, job, upload.data, upload.server_pid, timeout, tick)
                if up["seconds"] and deid_s:
                    up["vs_download"] = round(deid_s / up["seconds"], 3)
                result["upload"] = up
            result["page_js_heap_mb"] = round(heap["page_js_heap_mb"], 1)
            result["offsite_requests"] = s.offsite
            result["errors"] = s.errors
            cdp.detach()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    result["memory"] = {
        k.split(":", 1)[1]: v for k, v in memory.peaks.items() if k.startswith(job.name + ":")
    }
    return result


def cli_run(job: Job, work: Path, logs: Path, jobs: int = 1) -> dict[str, Any]:
    """Our CLI (--jobs `jobs`) on the same inputs, timed by bench/timed.py like bench/run.py does."""
    out = work / f"page-cli-{job.name}"
    shutil.rmtree(out, ignore_errors=True)
    log = logs / f"page-cli-j{jobs}-{job.name}.log"
    report = log.with_suffix(".json")
    py = str(VENV_PY if VENV_PY.exists() else PY)
    argv = [py, "-m", "anonymizer", *map(str, job.paths), "-o", str(out), "--secret", SECRET]
    argv += ["--jobs", str(jobs)]
    proc = subprocess.run([py, "-I", str(BENCH / "timed.py"), str(report), str(log), *argv], cwd=ROOT)
    if proc.returncode != 0 or not report.exists():
        return {"problems": [f"the launcher failed (exit {proc.returncode})"]}
    timing = json.loads(report.read_text())
    report.unlink()
    outputs = [p for p in _files(out) if not p.name.startswith(".")] if out.exists() else []
    shutil.rmtree(out, ignore_errors=True)
    problems = [] if timing["exit_code"] == 0 else [f"exit code {timing['exit_code']} (see {log})"]
    if len(outputs) != len(job.files):
        problems.append(f"{len(outputs)} outputs for {len(job.files)} inputs")
    secs = max(timing["seconds"], 1e-9)
    return {
        "jobs": jobs,
        "seconds": rounded(timing["seconds"]),
        "files_per_s": rounded(len(job.files) / secs, 2),
        "mb_per_s": rounded(job.bytes / 1e6 / secs, 2),
        "cpu_seconds": rounded(timing["cpu_seconds"], 2),
        "peak_rss_mb": rounded(timing["peak_rss_mb"], 1),
        "problems": problems,
    }


# ---------------------------------------------------------------------------------------------------------
# Entry points


def run_page_bench(
    *,
    ct: gen_corpus.SetInfo,
    large: gen_corpus.SetInfo | None,
    launches: int,
    out: Path,
    rebuild: bool = False,
    timeout: float = 3600,
    upload: bool = True,
) -> dict[str, Any]:
    """The whole page benchmark; prints progress and the table; returns the results (also saved to
    `out`/page.json and `out`/history/)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        print(f"\n== page: skipped: Playwright is not importable ({exc})", flush=True)
        return {"skipped": str(exc)}
    if not Path(CHROMIUM).exists():
        print(f"\n== page: skipped: {CHROMIUM} is missing", flush=True)
        return {"skipped": f"{CHROMIUM} missing"}
    dist, stale = ensure_dist(rebuild)
    work = out / "work"
    logs = out / "logs"
    work.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    version = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"\n== page: {dist} served by `python -m app serve`; {version}, headless", flush=True)
    if stale:
        print(f"  note: dist/ differs from static/ for {', '.join(stale)} (measuring dist/; --page-rebuild)")
    jobs = [Job(ct.name, [ct.path], _files(ct.path))]
    if large is not None:
        first = _files(large.path)[0]
        jobs.append(Job(f"{large.name}[0]", [first], [first]))
    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "browser": version,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "dist_differs_from_static": stale,
        "targets": TARGETS,
        "runs": [],
    }
    data = work / "server-data"  # what the page uploads (removed at the end)
    shutil.rmtree(data, ignore_errors=True)
    with sync_playwright() as pw, serve(dist, data) as server, MemorySampler() as memory:
        base_url = server.url
        uploading = Upload(data, server_token(data), server.proc.pid) if upload else None
        print(f"  cold start: {launches} launches, each a first visit and a repeat visit", flush=True)
        results["cold_start"] = cold_start(pw, base_url, launches, work, timeout=120)
        for job in jobs:
            print(
                f"  {job.name}: {len(job.files)} files, {job.bytes / 1e6:.0f} MB; warm-up read "
                f"{warm_up(job.files):.1f} s",
                flush=True,
            )
            try:
                run = page_run(pw, base_url, job, work, memory, timeout, uploading)
            except Exception as exc:  # a page that hangs or breaks is a finding: report it, go on
                print(f"  page run on {job.name} failed: {exc}", flush=True)
                results["runs"].append({"set": job.name, "files": len(job.files), "error": str(exc)})
                continue
            d = run["deidentify"]
            print(
                f"  page de-identify: {fmt(d['seconds'])} s ({fmt(d['files_per_s'], '.1f')} files/s); "
                f"running the CLI on the same files",
                flush=True,
            )
            run["cli"] = cli_run(job, work, logs)
            if d.get("seconds") and run["cli"].get("seconds"):
                run["page_vs_cli"] = round(run["cli"]["seconds"] / d["seconds"], 3)
            if run["workers"] > 1 and len(job.files) > 1:  # the page's parallelism, for comparison
                run["cli_same_jobs"] = cli_run(job, work, logs, run["workers"])
            run["profile"] = {step: profile_of(run, step) for step in ("index", "deidentify")}
            results["runs"].append(run)
    shutil.rmtree(data, ignore_errors=True)
    results["runs"] = [r for r in results["runs"] if "error" not in r] + [
        r for r in results["runs"] if "error" in r
    ]
    text, goals = report(results)
    results["summary"] = goals
    print(text)
    print(NOTES)
    for goal in goals:
        print("  " + goal)
    text_json = json.dumps(results, indent=2) + "\n"
    (out / "page.json").write_text(text_json)
    history = out / "history"
    history.mkdir(exist_ok=True)
    (history / f"page-{time.strftime('%Y%m%d-%H%M%S')}-{ct.name}.json").write_text(text_json)
    print(f"\npage results: {out / 'page.json'}")
    return results


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench/page.py", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    p.add_argument("--small", action="store_true", help="200 slices and a ~52 MB large file")
    p.add_argument("--page-files", type=int, help="CT slices dropped (default 2000; 200 with --small)")
    p.add_argument("--page-launches", type=int, default=5, help="launches per cold-start figure (default 5)")
    p.add_argument("--page-no-large", action="store_true", help="skip the large-file run")
    p.add_argument("--page-no-upload", action="store_true", help="skip uploading to the server")
    p.add_argument(
        "--page-rebuild", action="store_true", help="rebuild dist/ first (default: only if missing)"
    )
    p.add_argument("--large-count", type=int, help="files in the large set (default 3; 1 with --small)")
    p.add_argument("--frames", type=int, help="frames per large file (default 400; 100 with --small)")
    p.add_argument("--timeout", type=float, default=3600, help="seconds per page step (default 3600)")
    p.add_argument(
        "--corpus", type=Path, default=BENCH / "corpus", help="corpus folder (default bench/corpus)"
    )
    p.add_argument("--out", type=Path, default=BENCH / "out", help="results folder (default bench/out)")
    args = p.parse_args(argv)
    args.page_files = args.page_files or (200 if args.small else 2000)
    args.large_count = args.large_count if args.large_count is not None else (1 if args.small else 3)
    args.frames = args.frames or (100 if args.small else 400)
    return args


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    args.corpus.mkdir(parents=True, exist_ok=True)
    ct = gen_corpus.ct_slices(args.corpus, args.page_files)
    print("  " + gen_corpus.describe(ct), flush=True)
    large = None
    if not args.page_no_large and args.large_count > 0:
        large = gen_corpus.large_files(args.corpus, args.large_count, args.frames)
        print("  " + gen_corpus.describe(large), flush=True)
    results = run_page_bench(
        ct=ct,
        large=large,
        launches=args.page_launches,
        out=args.out,
        rebuild=args.page_rebuild,
        timeout=args.timeout,
        upload=not args.page_no_upload,
    )
    return 0 if "skipped" not in results else 1


if __name__ == "__main__":
    raise SystemExit(main())
