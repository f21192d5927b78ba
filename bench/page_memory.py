"""Memory of Chromium's renderer processes (the tab: page, its workers, the service worker), from /proc, for
the page benchmark (bench/page.py)."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator


def descendants(root: int) -> list[int]:
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
    for pid in descendants(os.getpid()):
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
