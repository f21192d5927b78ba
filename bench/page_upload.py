"""The page's upload, timed (issue 5): does sending to the server slow the user down?

After the download run, the same page (same files, same engine workers) uploads them to the server it came
from, as a person does: every series' thumbnail scrolled past (the upload gate), then "Upload". The upload
de-identifies again and streams the results to `python -m app serve` (STOW-RS, 8 instances a request, 3 in
flight; the server re-checks every instance with the engine and stores it durably); the download run
de-identified the same files into a zip. Figure: download seconds / upload seconds (1.0 = uploading costs
the user nothing more than saving the zip), with what the server stored checked natively.

On loopback the server shares this machine's cores with the page's engine workers, so its re-check and
storage count against the page: a server on another machine would not.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from page_actions import look_at_every_thumbnail, preset_upload  # noqa: E402  (what a person does)

from app.tokens import Tokens  # noqa: E402

# Runs in the page before its own scripts: the click on "Upload" and when "Upload finished" appears.
UPLOAD_OBSERVER = """
(() => {
  const u = window.__benchUpload = {clicks: [], finished: null, text: ""};
  document.addEventListener("click", (e) => {
    if (e.target && e.target.id === "upload-run") u.clicks.push(performance.now());
  }, true);
  document.addEventListener("DOMContentLoaded", () => {
    const el = document.getElementById("upload-text");
    if (el) new MutationObserver(() => {
      if (u.finished === null && el.textContent.startsWith("Upload finished")) {
        u.finished = performance.now();
        u.text = el.textContent;
      }
    }).observe(el, {childList: true, characterData: true, subtree: true});
  });
})();
"""


def server_token(data: Path) -> str:
    """A token in the server's data folder with limits a whole benchmark set stays under."""
    return Tokens(data / "tokens.sqlite").create(
        "bench", per_minute=100_000, max_request_bytes=1 << 30, per_minute_bytes=1 << 40
    )


def prepare(context: Any, token: str) -> None:
    """The page starts with the upload token set (as if typed into Settings earlier) and the observer."""
    preset_upload(context, token)
    context.add_init_script(UPLOAD_OBSERVER)


def _stored(data: Path) -> list[Path]:
    return sorted((data / "instances").rglob("*.dcm")) if (data / "instances").is_dir() else []


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` and its children (the server's re-check processes)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                pids += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
    return total


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores so far (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def upload_run(
    page: Any, job: Any, data: Path, server_pid: int, timeout: float, tick: Callable[[], None]
) -> dict[str, Any]:
    """Review (scroll past every thumbnail), click "Upload", wait for "Upload finished"; times in the
    page's clock, the page's report, what the server stored (counted and re-checked natively) and the
    CPU time the server used meanwhile."""
    from anonymizer.verification.verify import Policy, check_deidentified

    files, mb = len(job.files), job.bytes / 1e6
    before = len(_stored(data))
    cpu = cpu_seconds(server_pid)
    busy = machine_ticks()
    look_at_every_thumbnail(page)
    page.locator("#upload-run:not([disabled])").wait_for(timeout=60_000)
    wall = time.perf_counter()
    page.click("#upload-run")
    deadline = time.monotonic() + timeout
    while page.evaluate("() => window.__benchUpload.finished") is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no 'Upload finished' in {timeout:.0f} s: {page.inner_text('#upload-text')}")
        tick()
        time.sleep(0.25)
    wall = time.perf_counter() - wall
    cpu = cpu_seconds(server_pid) - cpu
    busy = tuple(b - a for a, b in zip(busy, machine_ticks(), strict=True))
    u = page.evaluate("() => window.__benchUpload")
    seconds = (u["finished"] - u["clicks"][-1]) / 1000 if u["clicks"] else None
    stored = _stored(data)
    m = re.search(r"(\d+) stored, (\d+) already.*?(\d+) refused.*?(\d+) not sent", u["text"])
    reported = [int(g) for g in m.groups()] if m else None
    problems = []
    if reported is None:
        problems.append(f"unexpected report: {u['text']!r}")
    elif reported != [files, 0, 0, 0]:
        problems.append(f"report says {u['text']!r} for {files} files")
    if len(stored) - before != files:
        problems.append(f"the server holds {len(stored) - before} new files for {files} uploaded")
    sample = stored[:: max(1, len(stored) // 20)]
    refused = [p.name for p in sample if not check_deidentified(p.read_bytes(), Policy()).ok]
    if refused:
        problems.append(f"stored files that fail the re-check: {refused[:3]}")
    return {
        "seconds": round(seconds, 3) if seconds else None,
        "wall_s": round(wall, 3),
        "files_per_s": round(files / seconds, 2) if seconds else None,
        "mb_per_s": round(mb / seconds, 2) if seconds else None,
        "text": u["text"],
        # The server's share of this machine while the page uploaded (re-check, storage, HTTP).
        "server_cpu_s": round(cpu, 2),
        "server_cpu_ms_per_file": round(cpu / files * 1000, 2),
        "server_share_of_cores": round(cpu / wall / (os.cpu_count() or 1), 3),
        "machine_busy": round(busy[0] / max(1, busy[1]), 3),  # all processes, all cores
        "stored": len(stored) - before,
        "checked": len(sample),
        "problems": problems,
    }
