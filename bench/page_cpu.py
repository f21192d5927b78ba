"""Where the machine's CPU goes while the page works: CPU time of every Chromium process descended from
the benchmark (and of the server), split by process kind and thread name, from /proc, for the page
benchmark (bench/page.py).

Wall times measured inside the page (performance.now() around a Python call) include the time a thread
waited for a core; on a 2-core machine the two engine workers share the cores with the renderer's main
thread, the browser process (file reads, the download) and the other helpers. CPU seconds per thread say
which of them the time really goes to."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from page_memory import descendants

_TICK = os.sysconf("SC_CLK_TCK")


def _kind(pid: int) -> str:
    """Chromium's process kind from its command line (browser, renderer, gpu-process, utility:<service>)."""
    try:
        # a zygote-forked child rewrites its command line as one string: split on spaces too
        args = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").split()
    except OSError:
        return "gone"
    kind = "browser"
    for arg in args:
        if arg.startswith(b"--type="):
            kind = arg[7:].decode()
        elif arg.startswith(b"--utility-sub-type="):
            return "utility:" + arg.rsplit(b".", 1)[-1].decode()
    if kind == "browser" and args and not args[0].endswith(b"chromium") and b"chrom" not in args[0]:
        return Path(args[0].decode(errors="replace")).name or "other"
    return kind


def _thread_cpu(pid: int) -> Counter[str]:
    """CPU seconds of the threads of `pid` by thread name (pool threads summed; each worker apart)."""
    out: Counter[str] = Counter()
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        if name == "DedicatedWorker":
            name += f" {tid}"  # each worker apart: the engine workers, the text finder and its threads
        fields = stat[stat.rindex(")") + 2 :].split()
        out[name] += (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime
    return out


def snapshot(extra: tuple[int, ...] = ()) -> Counter[str]:
    """CPU seconds so far, keyed "kind/thread" for the benchmark's descendants and `extra` processes."""
    total: Counter[str] = Counter()
    for pid in {*descendants(os.getpid()), *extra}:
        kind = _kind(pid)
        for thread, seconds in _thread_cpu(pid).items():
            total[f"{kind}/{thread}"] += seconds
    return total


def split(before: Counter[str], after: Counter[str], files: int, top: int = 12) -> dict[str, float]:
    """ms of CPU per file between two snapshots, the largest `top` entries and the rest; a process that
    ended in between is not counted (its CPU is gone from /proc)."""
    diff = {k: (after[k] - before.get(k, 0.0)) * 1000 / max(files, 1) for k in after}
    ranked = sorted(((v, k) for k, v in diff.items() if v > 0), reverse=True)
    out = {k: round(v, 2) for v, k in ranked[:top]}
    out["(rest)"] = round(sum(v for v, _ in ranked[top:]), 2)
    out["(total)"] = round(sum(v for v, _ in ranked), 2)
    return out
