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
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gen_corpus
from page_coldstart import cold_start
from page_memory import MemorySampler
from page_report import NOTES, TARGETS, fmt, profile_of, report
from page_run import Job, Upload, _files, cli_run, page_run, warm_up
from page_session import BENCH, CHROMIUM, PY, ROOT, VENV_PY
from page_upload import server_token

# ---------------------------------------------------------------------------------------------------------
# Setting up: the page's files (dist/) and the server that serves them


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_dist(rebuild: bool = False) -> tuple[Path, list[str]]:
    """dist/ (built when missing or asked); returns it and the page files that differ from static/."""
    sys.path.insert(0, str(ROOT / "tools"))
    from build_dist import BUNDLED_SOURCES, build_dist  # type: ignore[import-not-found]

    dist = ROOT / "dist"
    if rebuild or not (dist / "index.html").is_file():
        print("page: building dist/ (tools/build_dist.py)", flush=True)
        dist = Path(build_dist(ROOT, VENV_PY))
    stale = [
        p.name
        for p in sorted((ROOT / "static").glob("*"))
        if p.is_file()
        and p.name not in BUNDLED_SOURCES  # built into something else (codecs.mjs -> codecs.js)
        and (not (dist / p.name).is_file() or (dist / p.name).read_bytes() != p.read_bytes())
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
