"""The .pyc compile step of the dist/ build: Pyodide's own CPython under Node (tools/pyc_build.mjs)
compiles each archive, cached in build/pyc-cache/ under the sha256 of its input and a fingerprint
of the compiler; every result is checked to hold only unchecked hash-based .pyc of Pyodide's magic.

Part of tools/build_dist.py (which see for the layout of dist/); standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from dist_common import BuildError, Log, _sha256_file


def _node_exe(node: str | None) -> str:
    exe = node or os.environ.get("PACSBIN_NODE") or shutil.which("node")
    if not exe:
        raise BuildError("node not found on PATH (set $PACSBIN_NODE); the .pyc step runs Pyodide under Node")
    return exe


def _compiler_fingerprint(root: Path, pyodide_dir: Path, versions: dict[str, str]) -> str:
    h = hashlib.sha256()
    h.update(f"pyodide {versions['pyodide']} python {versions['python']}\n".encode())
    h.update(_sha256_file(pyodide_dir / "pyodide.asm.wasm").encode())
    h.update(_sha256_file(root / "tools" / "pyc_build.mjs").encode())
    return h.hexdigest()


@dataclass(frozen=True)
class _Job:
    kind: str  # "stdlib" or "site"
    source: Path
    cached: Path
    meta: Path


def _check_pyc_archive(path: Path, magic: bytes, *, allow_py: bool = False) -> int:
    """Every .pyc has Pyodide's magic and is unchecked hash-based; no .py left. Returns the .pyc count."""
    count = 0
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            if info.filename.endswith(".py") and not allow_py:
                raise BuildError(f"{path}: source file {info.filename} left in the archive")
            if info.filename.endswith(".pyc"):
                head = z.read(info)[:8]
                if head[:4] != magic or int.from_bytes(head[4:8], "little") != 0b01:
                    raise BuildError(
                        f"{path}: {info.filename} is not an unchecked hash-based .pyc, magic {magic.hex()}"
                    )
                count += 1
    return count


def _compile(root: Path, pyodide_dir: Path, jobs: list[_Job], node: str | None, log: Log) -> dict[str, str]:
    """Run pyc_build.mjs for the jobs whose output is not cached. Returns the compiler's report."""
    todo = []
    report: dict[str, str] | None = None
    for job in jobs:
        if job.cached.is_file() and job.meta.is_file():
            try:
                meta = json.loads(job.meta.read_text(encoding="utf-8"))
                _check_pyc_archive(job.cached, bytes.fromhex(meta["magic"]))
                report = report or meta
                log(f"cached: {job.source.name} -> {job.cached.name}")
                continue
            except (BuildError, ValueError, KeyError, zipfile.BadZipFile) as exc:
                log(f"cache entry {job.cached.name} is unusable ({exc}); recompiling")
        todo.append(job)
    if todo:
        cache_dir = todo[0].cached.parent
        cache_dir.mkdir(parents=True, exist_ok=True)
        report_path = cache_dir / f".report-{os.getpid()}.json"
        cmd = [_node_exe(node), str(root / "tools" / "pyc_build.mjs"), "--pyodide", str(pyodide_dir)]
        cmd += ["--report", str(report_path)]
        for job in todo:
            cmd += ["--job", job.kind, str(job.source), str(job.cached)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=root)
        if proc.returncode != 0 or not report_path.is_file():
            raise BuildError(
                f"the .pyc compile step failed (exit {proc.returncode}):\n$ {' '.join(cmd)}\n{proc.stderr}"
            )
        full = json.loads(report_path.read_text(encoding="utf-8"))
        report_path.unlink()
        log(f"compiled {len(todo)} archive(s) under Node in {time.perf_counter() - t0:.1f} s")
        for line in proc.stderr.splitlines():
            log(f"  {line}")
        report = {"pyodide": full["pyodide"], "python": full["python"], "magic": full["magic"]}
        for job in todo:
            _check_pyc_archive(job.cached, bytes.fromhex(report["magic"]))
            job.meta.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    assert report is not None
    return report
