"""The benchmark's report (bench/run.py): the best run per set and tool, the table against the baseline
(dicognito), the targets as reported figures, and the versions that produced them."""

from __future__ import annotations

import subprocess
from importlib import metadata

from run_tools import ROOT, Run

BASELINE = "dicognito"


def best(runs: list[Run]) -> dict[tuple[str, str], Run]:
    """The fastest run per (set, tool): among clean runs when there are any."""
    chosen: dict[tuple[str, str], Run] = {}
    for run in runs:
        key = (run.set, run.tool)
        cur = chosen.get(key)
        if cur is None or (run.ok, -run.seconds) > (cur.ok, -cur.seconds):
            chosen[key] = run
    return chosen


def table(runs: list[Run], sets: list[str], tools: list[str]) -> tuple[str, list[dict[str, object]]]:
    chosen = best(runs)
    rows: list[dict[str, object]] = []
    lines = []
    head = (
        f"{'set':14s} {'tool':10s} {'files':>6s} {'MB':>8s} {'seconds':>8s} {'files/s':>8s} {'MB/s':>8s} "
        f"{'x ' + BASELINE:>12s} {'CPU s':>7s} {'RSS MB':>7s} {'other':>6s}  check"
    )
    for set_name in sets:
        lines += ["", head, "-" * len(head)]
        base = chosen.get((set_name, BASELINE))
        for tool in tools:
            run = chosen.get((set_name, tool))
            if run is None:
                continue
            secs = max(run.seconds, 1e-9)
            ratio = base.seconds / secs if base is not None and base.ok and run.ok else None
            row: dict[str, object] = {
                "set": set_name,
                "tool": tool,
                "files": run.files_in,
                "mb": round(run.bytes_in / 1e6, 1),
                "seconds": round(run.seconds, 3),
                "files_per_s": round(run.files_in / secs, 2),
                "mb_per_s": round(run.bytes_in / 1e6 / secs, 2),
                "vs_baseline": round(ratio, 2) if ratio is not None else None,
                "cpu_seconds": round(run.cpu_seconds, 2),
                "peak_rss_mb": round(run.peak_rss_mb, 1),
                "other_cpu_seconds": round(run.other_cpu_seconds, 2),
                "ok": run.ok,
                "problems": run.problems,
            }
            rows.append(row)
            ratio_text = f"{ratio:.2f}x" if ratio is not None else "-"
            check = "ok" if run.ok else "PROBLEM: " + "; ".join(run.problems[:2])
            lines.append(
                f"{set_name:14s} {tool:10s} {run.files_in:6d} {run.bytes_in / 1e6:8.0f} {run.seconds:8.2f} "
                f"{run.files_in / secs:8.1f} {run.bytes_in / 1e6 / secs:8.1f} {ratio_text:>12s} "
                f"{run.cpu_seconds:7.1f} {run.peak_rss_mb:7.0f} {run.other_cpu_seconds:6.1f}  {check}"
            )
    return "\n".join(lines), rows


def targets(rows: list[dict[str, object]], ct: str | None, large: str | None) -> list[str]:
    """The goals, reported (not asserted)."""
    out = []
    for row in rows:
        if row["set"] == ct and row["tool"] == "ours-j1" and row["vs_baseline"] is not None:
            out.append(f"CT slices, ours --jobs 1: {row['vs_baseline']}x dicognito files/s (target >= 2x)")
        if row["set"] == ct and row["tool"] == "ours-j2" and row["vs_baseline"] is not None:
            out.append(f"CT slices, ours --jobs 2: {row['vs_baseline']}x dicognito files/s (target >= 2x)")
        if row["set"] == large and row["tool"] == "ours-j2":
            out.append(f"large files, ours --jobs 2: {row['mb_per_s']} MB/s (target >= 100 MB/s)")
    return out


def _versions() -> dict[str, str]:
    found = {}
    for name in ("pydicom", "dicognito", "deid", "numpy"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "anonymizer"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        found["git"] = commit + ("+dirty" if dirty else "")
    except OSError:
        found["git"] = "unknown"
    return found
