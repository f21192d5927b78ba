"""Run Python scripts from this repo under Node-hosted Pyodide (helper for tests; not a test module).

    from pyodide_host import run_in_pyodide
    proc = run_in_pyodide(script, mount_dir, "arg1", "arg2")
    assert proc.returncode == 0, proc.stderr

Inside Pyodide the script runs as ``__main__`` with ``sys.argv = ["/script/<name>", *args]``;
``mount_dir`` is the read-write directory ``/mnt``; the repo's ``anonymizer`` and ``redaction``
packages are importable (copied into ``/src``), and pydicom is installed from ``vendor-wheels/``.
Start-up costs several seconds, so hand one script a whole folder rather than one file per call.

Set-up is automatic: ``npm ci`` if ``node_modules/pyodide`` is missing, and
``tools/fetch_wheels.py``'s ``ensure_wheels`` (pinned sha256) for the wheels. ``python3 build.py test``
does the same. Needs ``node`` (>= 18; ``$PACSBIN_NODE`` overrides) and, for the first set-up, ``npm``.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parent.parent
HARNESS = REPO_ROOT / "tools" / "pyodide_run.mjs"
WHEELS_DIR = REPO_ROOT / "vendor-wheels"
PYODIDE_DIR = REPO_ROOT / "node_modules" / "pyodide"

__all__ = [
    "HARNESS",
    "PyodideSetupError",
    "REPO_ROOT",
    "WHEELS_DIR",
    "ensure_pyodide_setup",
    "run_in_pyodide",
]


class PyodideSetupError(RuntimeError):
    """Node, npm, node_modules/pyodide or the pinned wheels could not be set up."""


def _fetch_wheels_module() -> ModuleType:
    path = REPO_ROOT / "tools" / "fetch_wheels.py"
    spec = importlib.util.spec_from_file_location("_pacsbin_fetch_wheels", path)
    if spec is None or spec.loader is None:
        raise PyodideSetupError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses needs the module registered
    spec.loader.exec_module(module)
    return module


def _node() -> str:
    node = os.environ.get("PACSBIN_NODE") or shutil.which("node")
    if not node:
        raise PyodideSetupError("node not found on PATH (set $PACSBIN_NODE); Pyodide tests need Node >= 18")
    return node


@functools.cache
def ensure_pyodide_setup() -> str:
    """Install node_modules/pyodide and the pinned wheels if needed; return the node executable."""
    node = _node()
    if not (PYODIDE_DIR / "pyodide.mjs").is_file():
        npm = shutil.which("npm")
        if not npm:
            raise PyodideSetupError(
                f"{PYODIDE_DIR} is missing and npm is not on PATH; run `npm ci` (or `python3 build.py test`)"
            )
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=REPO_ROOT, capture_output=True, text=True
        )
        if proc.returncode != 0 or not (PYODIDE_DIR / "pyodide.mjs").is_file():
            raise PyodideSetupError(f"`npm ci` failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")
    fetch_wheels = _fetch_wheels_module()
    try:
        fetch_wheels.ensure_wheels(sys.executable, WHEELS_DIR)
    except fetch_wheels.WheelError as exc:
        raise PyodideSetupError(f"fetching the pinned wheels failed: {exc}") from exc
    return node


def run_in_pyodide(
    script: Path, mount: Path, *args: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` under Pyodide with ``mount`` at ``/mnt``; return the finished process.

    ``returncode`` is the script's exit status (1 plus a traceback on stderr for an uncaught
    exception); 70 means the harness itself failed, 64 a usage error. Raises
    ``subprocess.TimeoutExpired`` after ``timeout`` seconds.
    """
    node = ensure_pyodide_setup()
    cmd = [
        node, str(HARNESS),
        "--wheels", str(WHEELS_DIR),
        "--src", str(REPO_ROOT),
        "--mount", str(Path(mount).resolve()),
        str(Path(script).resolve()),
        *map(str, args),
    ]  # fmt: skip
    return subprocess.run(
        cmd,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="backslashreplace",
        timeout=timeout,
        check=False,
    )
