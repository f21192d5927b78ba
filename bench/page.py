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
4. Peak memory of the tab: the sum of RSS (and PSS) of Chromium's renderer processes (page, its workers
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
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gen_corpus

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PY = sys.executable
VENV_PY = ROOT / ".venv" / "bin" / "python"
CHROMIUM = "/usr/bin/chromium"
SECRET = "bench"
TARGETS = {"first_s": 2.5, "repeat_s": 1.5, "index_files_per_s": 1000.0, "longtask_ms": 200.0, "ratio": 0.6}

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
PAGE_OBSERVERS = """
(() => {
  if (window.__bench) return;
  const b = window.__bench = {states: [], progress: [], drops: [], clicks: [], longtasks: [], rpc: {}};
  const now = () => performance.now();
  new MutationObserver(() => {
    const s = document.body && document.body.dataset.state;
    const last = b.states.length ? b.states[b.states.length - 1][0] : null;
    if (s && s !== last) b.states.push([s, now()]);
  }).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-state"]});
  document.addEventListener("DOMContentLoaded", () => {
    const el = document.getElementById("index-progress");
    if (el) new MutationObserver(() => b.progress.push([el.textContent, now()]))
      .observe(el, {childList: true, characterData: true, subtree: true});
  });
  document.addEventListener("drop", () => b.drops.push(now()), true);
  document.addEventListener("click", (e) => {
    if (e.target && e.target.id === "run") b.clicks.push(now());
  }, true);
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longtasks.push([e.startTime, e.duration]);
    }).observe({type: "longtask", buffered: true});
  } catch (e) { b.longtaskError = String(e); }
})();
"""

# Throughput runs only: times each request/reply of the page's worker RPC from the page's side.
PAGE_RPC_TIMER = """
(() => {
  const NativeWorker = window.Worker;
  if (!NativeWorker || NativeWorker.__bench) return;
  const b = window.__bench;
  class BenchWorker extends NativeWorker {
    constructor(...args) {
      super(...args);
      this.__sent = new Map();
      this.addEventListener("message", (e) => {
        const d = e.data;
        const s = d && this.__sent.get(d.id);
        if (!s) return;
        this.__sent.delete(d.id);
        const t = performance.now(), dt = t - s[1];
        const r = b.rpc[s[0]] || (b.rpc[s[0]] = {n: 0, ms: 0, max: 0, first: s[1], last: t});
        r.n += 1; r.ms += dt; r.max = Math.max(r.max, dt);
        r.first = Math.min(r.first, s[1]); r.last = Math.max(r.last, t);
      });
    }
    postMessage(msg, ...rest) {
      if (msg && msg.id !== undefined) this.__sent.set(msg.id, [msg.cmd, performance.now()]);
      return super.postMessage(msg, ...rest);
    }
  }
  BenchWorker.__bench = true;
  window.Worker = BenchWorker;
})();
"""

# Evaluated in the engine's worker once it is ready: per command, the handler's time, the Python call
# (JSON.stringify of the request .. JSON.parse of the reply: worker.mjs's call()), WORKERFS reads
# (FileReaderSync, inside the Python call) and Blob.arrayBuffer (the index prefix), and postMessage.
WORKER_TIMER = """
async () => {
  const now = () => performance.now();
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  for (let i = 0; typeof self.onmessage !== "function"; i++) {  // the module has not run yet
    if (i > 1200) return {error: "the worker never set onmessage"};
    await sleep(50);
  }
  const PROBE = "__bench_ready";
  if (!self.__bench) {
    const b = self.__bench = {cmds: {}, python: {n: 0, ms: 0}, reads: {n: 0, ms: 0, bytes: 0},
                              blobReads: {n: 0, ms: 0, bytes: 0}, post: {n: 0, ms: 0}};
    const add = (o, ms, bytes) => { o.n += 1; o.ms += ms; if (bytes !== undefined) o.bytes += bytes; };
    const readSync = FileReaderSync.prototype.readAsArrayBuffer;
    FileReaderSync.prototype.readAsArrayBuffer = function (blob) {
      const t = now(); const r = readSync.call(this, blob); add(b.reads, now() - t, r.byteLength); return r;
    };
    const readAsync = Blob.prototype.arrayBuffer;
    Blob.prototype.arrayBuffer = async function () {
      const t = now(); const r = await readAsync.call(this);
      add(b.blobReads, now() - t, r.byteLength); return r;
    };
    const stringify = JSON.stringify, parse = JSON.parse;
    let callStart = null;
    JSON.stringify = function (...a) {
      const r = stringify.apply(this, a);
      if (a[0] && typeof a[0] === "object" && "cmd" in a[0]) callStart = now();
      return r;
    };
    JSON.parse = function (...a) {
      if (callStart !== null) { add(b.python, now() - callStart); callStart = null; }
      return parse.apply(this, a);
    };
    const starts = new Map();
    const handler = self.onmessage;
    self.onmessage = (e) => {
      const id = e.data && e.data.id;
      if (id !== undefined && id !== PROBE) starts.set(id, [e.data.cmd, now()]);
      return handler.call(self, e);
    };
    const post = self.postMessage.bind(self);
    self.postMessage = (msg, ...rest) => {
      if (msg && msg.id === PROBE) { b.readyAt = now(); if (b.onReady) b.onReady(); return; }
      const t = now();
      const s = msg && starts.get(msg.id);
      if (s) {
        starts.delete(msg.id);
        const c = b.cmds[s[0]] || (b.cmds[s[0]] = {n: 0, ms: 0});
        add(c, t - s[1]);
      }
      const r = post(msg, ...rest);
      add(b.post, now() - t);
      return r;
    };
  }
  // Wait until the engine is loaded: an "init" of our own, answered once it is (and not passed on).
  const b = self.__bench;
  if (b.readyAt === undefined) {
    const answered = new Promise((resolve) => { b.onReady = resolve; });
    self.onmessage(new MessageEvent("message", {data: {id: PROBE, cmd: "init"}}));
    if (await Promise.race([answered.then(() => true), sleep(180000).then(() => false)]) !== true) {
      return {error: "the engine did not load in 180 s"};
    }
  }
  return {readyAt: b.readyAt, timeOrigin: performance.timeOrigin};
}
"""

# The worker's figures so far, and zeroed counters for the next step.
WORKER_TAKE = """
() => {
  const b = self.__bench, taken = JSON.parse(JSON.stringify(b));
  for (const k of ["python", "reads", "blobReads", "post"]) b[k] = {n: 0, ms: 0, bytes: 0};
  b.cmds = {};
  return taken;
}
"""

# What shows progress; unchanged for STALL seconds = the page is stuck (reported, the benchmark goes on).
STALL = 120.0
PROGRESS = """
() => ({state: document.body.dataset.state, index: document.getElementById("index-progress").textContent,
        progress: document.getElementById("progress-text").textContent,
        engine: document.getElementById("engine-status").textContent,
        serviceWorker: !!(navigator.serviceWorker && navigator.serviceWorker.controller),
        frames: [...document.querySelectorAll("iframe")].map((f) => f.src),
        rpc: window.__bench && window.__bench.rpc})
"""

RESOURCES = """
() => performance.getEntriesByType("resource").concat(performance.getEntriesByType("navigation"))
  .map((e) => ({name: e.name, transfer: e.transferSize, body: e.decodedBodySize}))
"""


# ---------------------------------------------------------------------------------------------------------
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


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _fmt(value: float | None, spec: str = ".2f", unit: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{unit}"


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
def serve(dist: Path, timeout: float = 30.0) -> Iterator[str]:
    """The product's server (`python -m app serve`: CSP, ETags, immutable pinned assets) on a free port."""
    from app.launch import start_server_process

    python = str(VENV_PY if VENV_PY.exists() else PY)
    url, stop = start_server_process(dist, python=python, timeout=timeout)
    try:
        yield url
    finally:
        stop()


# ---------------------------------------------------------------------------------------------------------
# Memory of Chromium's renderer processes (the tab: page, its worker, the service worker), from /proc


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        except (OSError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _renderers() -> list[int]:
    found = []
    for pid in _descendants(os.getpid()):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"--type=renderer" in f.read():
                    found.append(pid)
        except OSError:
            continue
    return found


def _rss_pss_kb(pid: int) -> tuple[int, int]:
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


class MemorySampler:
    """Samples the summed RSS/PSS of the renderer processes every `interval` s in a thread; the peak of
    the current window (``window(name)``) is kept per name."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peaks: dict[str, dict[str, float]] = {}
        self._name: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="renderer-memory", daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    @contextlib.contextmanager
    def window(self, name: str) -> Iterator[None]:
        with self._lock:
            self._name = name
            self.peaks[name] = {"rss_mb": 0.0, "pss_mb": 0.0, "processes": 0, "samples": 0}
        self.sample()
        try:
            yield
        finally:
            self.sample()
            with self._lock:
                self._name = None

    def sample(self) -> None:
        with self._lock:
            name = self._name
        if name is None:
            return
        pids = _renderers()
        rss = pss = 0
        for pid in pids:
            r, p = _rss_pss_kb(pid)
            rss, pss = rss + r, pss + p
        with self._lock:
            peak = self.peaks.get(name)
            if peak is None:
                return
            peak["samples"] += 1
            if rss / 1024 > peak["rss_mb"]:
                peak["rss_mb"], peak["processes"] = round(rss / 1024, 1), len(pids)
            peak["pss_mb"] = max(peak["pss_mb"], round(pss / 1024, 1))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()


# ---------------------------------------------------------------------------------------------------------
# The browser


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
            "ready_s": _r(ready / 1000 if ready is not None else None),
            "engine_s": _engine_seconds(s.page),
            "worker_created_ms": _r(worker_start, 1),
            "dom_content_loaded_ms": _r(nav["dcl"], 1),
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
            f"  [{i + 1}/{launches}] ready: first {_fmt(a['ready_s'])} s (engine "
            f"{_fmt(a['engine_s'], '.1f')} s, {a['transferred_kb'] / 1024:.1f} MB over the wire), "
            f"repeat {_fmt(b['ready_s'])} s (engine "
            f"{_fmt(b['engine_s'], '.1f')} s, {b['from_cache']}/{b['resources']} from cache, "
            f"{b['transferred_kb']:.0f} kB)",
            flush=True,
        )

    def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
        ready = [r["ready_s"] for r in runs if r["ready_s"] is not None]
        engine = [r["engine_s"] for r in runs if r["engine_s"] is not None]
        worker = [r["worker_created_ms"] for r in runs if r["worker_created_ms"] is not None]
        return {
            "ready_s_median": _r(_median(ready)),
            "ready_s_min": _r(min(ready, default=None)),
            "ready_s_max": _r(max(ready, default=None)),
            "engine_s_median": _r(_median(engine), 2),
            "worker_created_ms_median": _r(_median(worker), 1),
            "transferred_kb_median": _r(_median([r["transferred_kb"] for r in runs]), 1),
            "runs": runs,
        }

    return {"launches": launches, "first": summary(first), "repeat": summary(repeat)}


# ---------------------------------------------------------------------------------------------------------
# 2-4. Indexing, de-identification and memory in one page


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
    pw: Any, base_url: str, job: Job, work: Path, memory: MemorySampler, timeout: float
) -> dict[str, Any]:
    """Fresh profile: load, wait for every engine worker, drop, index, de-identify and download; times,
    memory, long tasks and where the time goes."""
    result: dict[str, Any] = {"set": job.name, "files": len(job.files), "mb": round(job.bytes / 1e6, 1)}
    heap = {"page_js_heap_mb": 0.0}
    profile = Path(tempfile.mkdtemp(prefix="profile-", dir=work))
    try:
        with launch(pw, profile, rpc_timer=True) as s:
            page = s.page
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
                "seconds": _r(index_s),
                "files_per_s": _r(len(job.files) / index_s, 1) if index_s else None,
                "listed": int(m.group(1)) if m else None,
                "skipped": int(m.group(2)) if m else None,
                "longest_task_ms": _r(max(during, default=0.0), 1),
                "tasks_over_50ms": len(during),
                "tasks_over_200ms": sum(1 for d in during if d > 200),
                "longtask_observer": b.get("longtaskError") or "ok",
                "main_thread_busy_ms": _r(busy, 1),
                # drop -> the first index request: collecting the dropped folder's File objects
                "walk_s": _r((b["rpc"]["index"]["first"] - t_drop) / 1000)
                if "index" in b["rpc"] and t_drop is not None
                else None,
                "rpc": b["rpc"].get("index"),
                "worker": _take_workers(s),
            }
            print(
                f"  index {len(job.files)} files: {_fmt(index_s)} s (walking the drop "
                f"{_fmt(result['index']['walk_s'])} s); longest main-thread task "
                f"{_longest(result['index'])}",
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
                "seconds": _r(deid_s),
                "wall_to_download_s": _r(wall),
                "download_via": via,
                "files_per_s": _r(len(job.files) / deid_s, 2) if deid_s else None,
                "mb_per_s": _r(job.bytes / 1e6 / deid_s, 2) if deid_s else None,
                "longest_task_ms": _r(max(during, default=0.0), 1),
                "main_thread_busy_ms": _r(busy, 1),
                "rpc": b["rpc"].get("deidentify"),
                "worker": _take_workers(s),
                "text": page.inner_text("#progress-text"),
                "zip": _zip_check(zip_path, len(job.files)),
            }
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
        "seconds": _r(timing["seconds"]),
        "files_per_s": _r(len(job.files) / secs, 2),
        "mb_per_s": _r(job.bytes / 1e6 / secs, 2),
        "cpu_seconds": _r(timing["cpu_seconds"], 2),
        "peak_rss_mb": _r(timing["peak_rss_mb"], 1),
        "problems": problems,
    }


def _longest(index: dict[str, Any]) -> str:
    """The longest main-thread task while indexing; the long-task observer reports only tasks of 50 ms and
    more, so none reported means every task was shorter."""
    if not index.get("tasks_over_50ms"):
        return "< 50 ms"
    return _fmt(index.get("longest_task_ms"), ".0f", " ms")


def _profile(run: dict[str, Any], step: str) -> dict[str, float] | None:
    """Where the time of `step` ("index" or "deidentify") goes, in ms per file. The worker parts are
    summed over the engine workers (they run in parallel): busy % = their sum / (wall x workers)."""
    d = run.get(step) or {}
    w, rpc, n = d.get("worker"), d.get("rpc"), run["files"]
    if not w or not w.get("workers") or not rpc or not d.get("seconds") or not n:
        return None
    wall = d["seconds"] * 1000
    handler = w["cmds"].get(step, {}).get("ms", 0.0)
    python, reads, prefix, post = (w[k]["ms"] for k in ("python", "reads", "blobReads", "post"))
    parts = {
        "wall": wall,
        "python": python - reads,
        "file_reads": reads,
        "prefix_reads": prefix,
        "worker_rest": handler - python - prefix,
        "postmessage": post,
        "queue_and_messaging": rpc["ms"] - handler - post,
        "main_thread": d.get("main_thread_busy_ms") or 0.0,
    }
    out = {k: round(v / n, 2) for k, v in parts.items()}
    out["workers"] = w["workers"]
    out["worker_busy_pct"] = round(100 * (handler + post) / (wall * w["workers"]), 1)
    return out


# ---------------------------------------------------------------------------------------------------------
# Report


def _row(cells: list[tuple[str, int]]) -> str:
    """Cells right-aligned to their widths (a negative width: left-aligned)."""
    return " ".join(f"{text:<{-w}s}" if w < 0 else f"{text:>{w}s}" for text, w in cells).rstrip()


def _table(head: list[tuple[str, int]], rows: list[list[tuple[str, int]]]) -> list[str]:
    line = _row(head)
    return ["", line, "-" * len(line), *(_row(r) for r in rows)]


PROFILE_LABELS = {
    "wall": "wall",
    "python": "python",
    "file_reads": "reads",
    "prefix_reads": "prefix",
    "worker_rest": "w.other",
    "postmessage": "post",
    "queue_and_messaging": "queue+msg",
    "main_thread": "main",
    "workers": "workers",
    "worker_busy_pct": "busy %",
}


def report(results: dict[str, Any]) -> tuple[str, list[str]]:
    """The tables (text) and the targets as reported figures."""
    lines: list[str] = []
    goals: list[str] = []
    cs = results.get("cold_start")
    if cs:
        rows = []
        for key, label in (("first", "first visit"), ("repeat", "repeat visit")):
            r = cs[key]
            wire = r["transferred_kb_median"]
            rows.append(
                [
                    (label, -20),
                    (_fmt(r["ready_s_median"], ".2f", " s"), 8),
                    (_fmt(r["ready_s_min"]), 6),
                    (_fmt(r["ready_s_max"]), 6),
                    (_fmt(r["engine_s_median"], ".1f", " s"), 7),
                    (_fmt(r["worker_created_ms_median"], ".0f", " ms"), 10),
                    (_fmt(wire / 1024 if wire is not None else None, ".1f"), 8),
                    (f" <= {TARGETS[key + '_s']} s", -10),
                ]
            )
            goals.append(
                f"page cold start, {label}: {_fmt(r['ready_s_median'])} s, median of {cs['launches']} "
                f"(target <= {TARGETS[key + '_s']} s)"
            )
        head = ["cold start to ready", "median", "min", "max", "engine", "worker at", "MB wire", " target"]
        lines += _table(list(zip(head, [w for _, w in rows[0]], strict=True)), rows)
    runs = [r for r in results.get("runs", []) if "error" not in r]
    if runs:
        rows = []
        for run in runs:
            ix = run.get("index", {})
            rows.append(
                [
                    (run["set"], -20),
                    (str(run["files"]), 6),
                    (_fmt(ix.get("seconds")), 8),
                    (_fmt(ix.get("files_per_s"), ".0f"), 8),
                    (_fmt(ix.get("walk_s")), 7),
                    (_longest(ix), 13),
                    (str(ix.get("tasks_over_50ms", 0)), 7),
                    (" >= 1000 files/s, no task > 200 ms", -10),
                ]
            )
        head = ["indexing", "files", "seconds", "files/s", "walk s", "longest task", ">50 ms", " target"]
        lines += _table(list(zip(head, [w for _, w in rows[0]], strict=True)), rows)
        ct = runs[0]
        ix = ct.get("index", {})
        goals.append(
            f"page indexing, {ct['set']}: {_fmt(ix.get('files_per_s'), '.0f')} files/s (target >= 1000); "
            f"longest main-thread task {_longest(ix)} (target <= 200 ms)"
        )
        rows = []
        for run in runs:
            d, cli, mem = run.get("deidentify", {}), run.get("cli", {}), run.get("memory", {})
            peak = max((v.get("rss_mb", 0.0) for v in mem.values()), default=None)
            pss = max((v.get("pss_mb", 0.0) for v in mem.values()), default=None)
            problems = d.get("zip", {}).get("problems", [])
            j1 = cli.get("seconds")
            tools = [
                (f"page-{run.get('workers', '?')}w", d, run.get("page_vs_cli"), peak, problems),
                ("cli-j1", cli, 1.0 if j1 else None, cli.get("peak_rss_mb"), cli.get("problems")),
            ]
            same = run.get("cli_same_jobs")
            if same:
                ratio = j1 / same["seconds"] if j1 and same.get("seconds") else None
                tools.append(
                    (f"cli-j{same['jobs']}", same, ratio, same.get("peak_rss_mb"), same.get("problems"))
                )
            for tool, r, ratio, mb, check in tools:
                rows.append(
                    [
                        (run["set"] if tool.startswith("page") else "", -20),
                        (tool, -8),
                        (str(run["files"]), 6),
                        (f"{run['mb']:.0f}", 6),
                        (_fmt(r.get("seconds")), 8),
                        (_fmt(r.get("files_per_s"), ".1f"), 8),
                        (_fmt(r.get("mb_per_s"), ".1f"), 7),
                        (_fmt(ratio, ".2f", "x"), 6),
                        (_fmt(mb, ".0f"), 8),
                        (" ok" if not check else " PROBLEM: " + "; ".join(check[:2]), -3),
                    ]
                )
            goals.append(
                f"page de-identification, {run['set']}: {_fmt(run.get('page_vs_cli'))}x the CLI's files/s "
                f"(--jobs 1; target >= 0.6) with {run.get('workers')} worker(s); peak renderer memory "
                f"{_fmt(peak, '.0f')} MB RSS, {_fmt(pss, '.0f')} MB PSS"
            )
        head = [
            "de-identify",
            "tool",
            "files",
            "MB",
            "seconds",
            "files/s",
            "MB/s",
            "x CLI",
            "peak MB",
            " check",
        ]
        lines += _table(list(zip(head, [w for _, w in rows[0]], strict=True)), rows)
        profiles = [
            (f"{run['set']} {step}", prof)
            for run in runs
            for step, prof in (run.get("profile") or {}).items()
            if prof and not (step == "index" and run["files"] < 10)
        ]
        if profiles:
            keys = list(profiles[0][1])
            labels = [PROFILE_LABELS.get(k, k) for k in keys]
            widths = [max(7, len(label)) for label in labels]
            head = [("ms per file", -26), *zip(labels, widths, strict=True)]
            rows = [
                [
                    (name, -26),
                    *(
                        (str(p[k]) if isinstance(p[k], int) else f"{p[k]:.2f}", w)
                        for k, w in zip(keys, widths, strict=True)
                    ),
                ]
                for name, p in profiles
            ]
            lines += _table(head, rows)
    for run in results.get("runs", []):
        if "error" in run:
            lines.append(f"\n{run['set']}: the page run failed: {run['error']}")
    return "\n".join(lines), goals


NOTES = """\
(cold start: navigation start -> body[data-state=ready], median of N fresh launches; repeat: the same
 profile launched again, HTTP cache and service worker kept; engine: the page's own "engine loaded in";
 worker at: when the page created its first worker. The throughput runs start once every engine worker
 is loaded. Indexing: drop event -> "... in the list"; walk: drop -> first index request (collecting
 the dropped folder's files). De-identify: click -> state "done" (zip streamed to the download),
 engines loaded; page-Nw: N engine workers; cli-jN: `python -m anonymizer FILES -o OUT --jobs N`, the
 whole command incl. ~0.45 s start-up; x CLI: CLI --jobs 1 seconds / these seconds.
 Peak MB: summed RSS of Chromium's renderer processes (page, workers, service worker); the CLI's peak RSS.
 ms per file (worker parts summed over the workers): python = the Python call minus the file reads
 inside it (reads: WORKERFS); prefix = Blob.arrayBuffer of index prefixes; w.other = the rest of the
 worker's handler (mounts, MEMFS copies); post = its postMessage; queue+msg = the page's round trips
 minus the handlers (waiting in a worker's queue included); main = the main thread's busy time (CDP
 TaskDuration: folder walk and study list, or zip, CRC and the service-worker stream); busy % = worker
 handlers / (wall x workers).)"""


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
    with sync_playwright() as pw, serve(dist) as base_url, MemorySampler() as memory:
        print(f"  cold start: {launches} launches, each a first visit and a repeat visit", flush=True)
        results["cold_start"] = cold_start(pw, base_url, launches, work, timeout=120)
        for job in jobs:
            print(
                f"  {job.name}: {len(job.files)} files, {job.bytes / 1e6:.0f} MB; warm-up read "
                f"{warm_up(job.files):.1f} s",
                flush=True,
            )
            try:
                run = page_run(pw, base_url, job, work, memory, timeout)
            except Exception as exc:  # a page that hangs or breaks is a finding: report it, go on
                print(f"  page run on {job.name} failed: {exc}", flush=True)
                results["runs"].append({"set": job.name, "files": len(job.files), "error": str(exc)})
                continue
            d = run["deidentify"]
            print(
                f"  page de-identify: {_fmt(d['seconds'])} s ({_fmt(d['files_per_s'], '.1f')} files/s); "
                f"running the CLI on the same files",
                flush=True,
            )
            run["cli"] = cli_run(job, work, logs)
            if d.get("seconds") and run["cli"].get("seconds"):
                run["page_vs_cli"] = round(run["cli"]["seconds"] / d["seconds"], 3)
            if run["workers"] > 1 and len(job.files) > 1:  # the page's parallelism, for comparison
                run["cli_same_jobs"] = cli_run(job, work, logs, run["workers"])
            run["profile"] = {step: _profile(run, step) for step in ("index", "deidentify")}
            results["runs"].append(run)
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
    )
    return 0 if "skipped" not in results else 1


if __name__ == "__main__":
    raise SystemExit(main())
