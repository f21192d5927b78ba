"""The page's throughput run (bench/page.py): indexing, de-identification and memory in one page (and the
upload, bench/page_upload.py), instrumented in the page and its engine workers; our CLI on the same files."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import subprocess
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import page_cpu
from page_memory import MemorySampler
from page_report import fmt, longest_task, rounded
from page_scripts import PROGRESS, WORKER_TAKE, WORKER_TIMER
from page_session import (
    BENCH,
    PY,
    ROOT,
    VENV_PY,
    Session,
    _engine_workers,
    _first,
    _poll,
    _wait_state,
    drop,
    launch,
)
from page_upload import prepare, upload_run

SECRET = "bench"

# What shows progress; unchanged for STALL seconds = the page is stuck (reported, the benchmark goes on).
STALL = 120.0


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def warm_up(paths: list[Path]) -> float:
    start = time.monotonic()
    for path in paths:
        with path.open("rb", buffering=0) as f:
            while f.read(16 << 20):
                pass
    return time.monotonic() - start


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


def _deidentify_again(s: Session, page: Any, files: int, timeout: float, tick: Any) -> dict[str, Any]:
    """The same files de-identified again by the same page: V8 has compiled Pyodide's hot wasm functions
    with its optimizing tier by now (the first run pays that compilation, ~2 ms of CPU a file on a
    background thread, and runs partly on the baseline tier), so this is the page's steady state."""
    cpu = page_cpu.snapshot()
    wall = time.perf_counter()
    with page.expect_download(timeout=timeout * 1000):
        page.click("#run")
    _wait_state(page, "done", timeout, tick)
    wall = time.perf_counter() - wall
    cpu_ms = page_cpu.split(cpu, page_cpu.snapshot(), files)
    b = page.evaluate("() => window.__bench")
    t_click = b["clicks"][-1] if b["clicks"] else None
    t_done = _first(b["states"], "done", after=t_click or 0.0)
    seconds = (t_done - t_click) / 1000 if t_click is not None and t_done is not None else wall
    print(
        f"  page de-identify again (same page, warmed): {fmt(seconds)} s ({files / seconds:.1f} files/s, "
        f"{seconds * 1000 / files:.2f} ms a file); CPU ms per file: "
        + ", ".join(f"{k} {v}" for k, v in cpu_ms.items()),
        flush=True,
    )
    return {
        "seconds": rounded(seconds),
        "files_per_s": rounded(files / seconds, 2),
        "ms_per_file": rounded(seconds * 1000 / files, 2),
        "cpu_ms_per_file": cpu_ms,
        "worker": _take_workers(s),
    }


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
            cpu = page_cpu.snapshot()
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
            cpu_ms = page_cpu.split(cpu, page_cpu.snapshot(), len(job.files))
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
                "cpu_ms_per_file": cpu_ms,
                "rpc": b["rpc"].get("deidentify"),
                "worker": _take_workers(s),
                "text": page.inner_text("#progress-text"),
                "zip": _zip_check(zip_path, len(job.files)),
            }
            print("  CPU ms per file while de-identifying (process/thread): " + ", ".join(
                f"{k} {v}" for k, v in cpu_ms.items()), flush=True)
            result["deidentify_again"] = _deidentify_again(s, page, len(job.files), timeout, tick)
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
