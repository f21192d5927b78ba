"""Run one command and report its wall time, CPU time and peak memory as JSON (stdlib only).

    python -I bench/timed.py RESULT.json LOG COMMAND...

Why a separate, tiny process: on Linux a child's ru_maxrss starts from its parent's resident size at fork,
so timing from the benchmark process (pydicom and numpy loaded) would report >= ~160 MB for every tool.
This launcher is small, starts the command with posix_spawn and reads the command's own rusage by wait4
(which covers its whole process tree: the workers of --jobs N included). The clock starts just before the
spawn, so the launcher's own start-up is not counted.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time


def main(argv: list[str]) -> int:
    result, log, command = argv[0], argv[1], argv[2:]
    program = shutil.which(command[0]) or command[0]
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    actions = [(os.POSIX_SPAWN_DUP2, fd, 1), (os.POSIX_SPAWN_DUP2, fd, 2)]
    start = time.perf_counter()
    pid = os.posix_spawn(program, command, os.environ, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    os.close(fd)
    report = {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # KiB on Linux: the largest single process of the tree
        "exit_code": os.waitstatus_to_exitcode(status),
    }
    with open(result, "w") as f:
        json.dump(report, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
