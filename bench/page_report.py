"""The page benchmark's report (bench/page.py): tables of its runs, the "ms per file" profile, the targets."""

from __future__ import annotations

import statistics
from typing import Any

TARGETS = {"first_s": 2.5, "repeat_s": 1.5, "index_files_per_s": 1000.0, "longtask_ms": 200.0, "ratio": 0.6}


def median_or_none(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def fmt(value: float | None, spec: str = ".2f", unit: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{unit}"


def longest_task(index: dict[str, Any]) -> str:
    """The longest main-thread task while indexing; the long-task observer reports only tasks of 50 ms and
    more, so none reported means every task was shorter."""
    if not index.get("tasks_over_50ms"):
        return "< 50 ms"
    return fmt(index.get("longest_task_ms"), ".0f", " ms")


def profile_of(run: dict[str, Any], step: str) -> dict[str, float] | None:
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
                    (fmt(r["ready_s_median"], ".2f", " s"), 8),
                    (fmt(r["ready_s_min"]), 6),
                    (fmt(r["ready_s_max"]), 6),
                    (fmt(r["engine_s_median"], ".1f", " s"), 7),
                    (fmt(r["worker_created_ms_median"], ".0f", " ms"), 10),
                    (fmt(wire / 1024 if wire is not None else None, ".1f"), 8),
                    (f" <= {TARGETS[key + '_s']} s", -10),
                ]
            )
            goals.append(
                f"page cold start, {label}: {fmt(r['ready_s_median'])} s, median of {cs['launches']} "
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
                    (fmt(ix.get("seconds")), 8),
                    (fmt(ix.get("files_per_s"), ".0f"), 8),
                    (fmt(ix.get("walk_s")), 7),
                    (longest_task(ix), 13),
                    (str(ix.get("tasks_over_50ms", 0)), 7),
                    (" >= 1000 files/s, no task > 200 ms", -10),
                ]
            )
        head = ["indexing", "files", "seconds", "files/s", "walk s", "longest task", ">50 ms", " target"]
        lines += _table(list(zip(head, [w for _, w in rows[0]], strict=True)), rows)
        ct = runs[0]
        ix = ct.get("index", {})
        goals.append(
            f"page indexing, {ct['set']}: {fmt(ix.get('files_per_s'), '.0f')} files/s (target >= 1000); "
            f"longest main-thread task {longest_task(ix)} (target <= 200 ms)"
        )
        rows = []
        for run in runs:
            d, cli, mem = run.get("deidentify", {}), run.get("cli", {}), run.get("memory", {})
            peak = max((v.get("rss_mb", 0.0) for k, v in mem.items() if k != "upload"), default=None)
            pss = max((v.get("pss_mb", 0.0) for v in mem.values()), default=None)
            problems = d.get("zip", {}).get("problems", [])
            j1 = cli.get("seconds")
            tools = [
                (f"page-{run.get('workers', '?')}w", d, run.get("page_vs_cli"), peak, problems),
                ("cli-j1", cli, 1.0 if j1 else None, cli.get("peak_rss_mb"), cli.get("problems")),
            ]
            up = run.get("upload")
            if up:
                up_ratio = j1 / up["seconds"] if j1 and up.get("seconds") else None
                up_peak = mem.get("upload", {}).get("rss_mb")
                tools.append(("upload", up, up_ratio, up_peak, up.get("problems")))
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
                        (fmt(r.get("seconds")), 8),
                        (fmt(r.get("files_per_s"), ".1f"), 8),
                        (fmt(r.get("mb_per_s"), ".1f"), 7),
                        (fmt(ratio, ".2f", "x"), 6),
                        (fmt(mb, ".0f"), 8),
                        (" ok" if not check else " PROBLEM: " + "; ".join(check[:2]), -3),
                    ]
                )
            goals.append(
                f"page de-identification, {run['set']}: {fmt(run.get('page_vs_cli'))}x the CLI's files/s "
                f"(--jobs 1; target >= 0.6) with {run.get('workers')} worker(s); peak renderer memory "
                f"{fmt(peak, '.0f')} MB RSS, {fmt(pss, '.0f')} MB PSS"
            )
            if up:
                goals.append(
                    f"page upload, {run['set']}: {fmt(up.get('mb_per_s'), '.1f')} MB/s, "
                    f"{fmt(up.get('vs_download'))}x the download run's speed (de-identify + STOW-RS to "
                    f"the server on this machine vs de-identify + zip); the server used "
                    f"{fmt(up.get('server_cpu_ms_per_file'), '.1f')} ms of CPU a file, "
                    f"{fmt((up.get('server_share_of_cores') or 0) * 100, '.0f')}% of the machine's cores "
                    f"meanwhile (all processes: {fmt((up.get('machine_busy') or 0) * 100, '.0f')}%); "
                    f"stored {up.get('stored')}"
                    + (", problems: " + "; ".join(up["problems"][:2]) if up.get("problems") else "")
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
 engines loaded; page-Nw: N engine workers; upload: the same page then uploads the same files to the server
 (click "Upload" -> "Upload finished": de-identified again, sent by STOW-RS, re-checked and stored by
 the server, which shares this machine's cores); cli-jN: `python -m anonymizer FILES -o OUT --jobs N`, the
 whole command incl. ~0.45 s start-up; x CLI: CLI --jobs 1 seconds / these seconds.
 Peak MB: summed RSS of Chromium's renderer processes (page, workers, service worker); the CLI's peak RSS.
 ms per file (worker parts summed over the workers): python = the Python call minus the file reads
 inside it (reads: WORKERFS); prefix = Blob.arrayBuffer of index prefixes; w.other = the rest of the
 worker's handler (mounts, MEMFS copies); post = its postMessage; queue+msg = the page's round trips
 minus the handlers (waiting in a worker's queue included); main = the main thread's busy time (CDP
 TaskDuration: folder walk and study list, or zip, CRC and the service-worker stream); busy % = worker
 handlers / (wall x workers).)"""
