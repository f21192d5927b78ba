#!/usr/bin/env python3
"""Install what the browser tests (tests/e2e/) need: Debian's Chromium and a pinned Playwright.

Idempotent; standard library only, so it runs with any python3 >= 3.11::

    python3 tools/install_browser.py [--python .venv/bin/python]

* ``/usr/bin/chromium`` missing -> ``apt-get update`` then ``apt-get install -y chromium``
  (DEBIAN_FRONTEND=noninteractive; through ``sudo`` only when not root).
* Playwright not importable in the given interpreter, or not the pinned version ->
  ``<python> -m pip install playwright==PLAYWRIGHT_VERSION``.

Never ``playwright install``: that downloads a browser build of Playwright's own, which cannot be fetched
here. The tests drive Debian's Chromium over CDP (``executable_path="/usr/bin/chromium"``); Playwright
1.65.2 was checked against Debian's Chromium 156.0.8078.108.

``build.py`` imports :func:`ensure_browser`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["CHROMIUM", "PLAYWRIGHT_VERSION", "chromium_version", "ensure_browser"]

PLAYWRIGHT_VERSION = "1.65.2"
CHROMIUM = Path("/usr/bin/chromium")


def _run(cmd: list[str], env: dict[str, str] | None = None) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, env=env)


def ensure_chromium() -> None:
    if CHROMIUM.exists():
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    _run([*sudo, "apt-get", "update", "-qq"], env=env)
    _run([*sudo, "apt-get", "install", "-y", "-qq", "chromium"], env=env)
    if not CHROMIUM.exists():
        raise RuntimeError(f"apt-get installed chromium but {CHROMIUM} is still missing")


def installed_playwright(python: Path) -> str | None:
    """The Playwright version importable by ``python``, or None."""
    probe = "import importlib.metadata, playwright.sync_api; print(importlib.metadata.version('playwright'))"
    res = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
    return res.stdout.strip() if res.returncode == 0 else None


def ensure_playwright(python: Path) -> None:
    if installed_playwright(python) == PLAYWRIGHT_VERSION:
        return
    # The Python package never downloads a browser at install time; the variable is belt and braces.
    env = dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1")
    _run([str(python), "-m", "pip", "install", "--quiet", f"playwright=={PLAYWRIGHT_VERSION}"], env=env)
    got = installed_playwright(python)
    if got != PLAYWRIGHT_VERSION:
        raise RuntimeError(f"playwright {PLAYWRIGHT_VERSION} wanted in {python}, found {got}")


def chromium_version() -> str:
    # Debian's /usr/bin/chromium is a shell wrapper that prints a harmless "[: ... unexpected operator"
    # on stderr on some machines; only stdout matters.
    res = subprocess.run([str(CHROMIUM), "--version"], capture_output=True, text=True)
    return res.stdout.strip()


def ensure_browser(python: Path) -> None:
    """Make ``/usr/bin/chromium`` exist and ``python`` import the pinned Playwright. Idempotent."""
    ensure_chromium()
    ensure_playwright(Path(python))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--python",
        type=Path,
        default=Path(sys.executable),
        help="interpreter (venv) to install Playwright into (default: this one)",
    )
    args = ap.parse_args(argv)
    ensure_browser(args.python)
    print(f"{chromium_version()}; playwright {installed_playwright(args.python)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
