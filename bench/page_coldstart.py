"""Cold start of the page (bench/page.py): navigation start to ``body[data-state=ready]`` for a first visit
(fresh profile) and a repeat visit (the same profile launched again), and what came over the wire."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from page_report import fmt, median_or_none, rounded
from page_scripts import RESOURCES
from page_session import _engine_seconds, _engine_workers, _first, _wait_state, launch


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
