#!/usr/bin/env python3
"""Fetch the pure-Python wheels the browser (Pyodide) build needs, pinned by sha256.

The pins live in ``tools/wheels.lock.json``::

    {"wheels": [{"name": "pydicom", "version": "3.0.2",
                 "file_name": "pydicom-3.0.2-py3-none-any.whl", "sha256": "..."}]}

Missing wheels are downloaded into ``vendor-wheels/`` (git-ignored) with
``<python> -m pip download --no-deps --only-binary=:all: name==version``; every wheel,
freshly downloaded or already present, is checked against its pinned sha256. A wheel
whose hash does not match is deleted and the run fails.

Standard library only, so it runs with any python3 >= 3.11::

    python3 tools/fetch_wheels.py [--python EXE] [--dest DIR] [--lock FILE]

``build.py`` imports :func:`ensure_wheels`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LOCK = Path(__file__).resolve().with_name("wheels.lock.json")
DEFAULT_DEST = REPO_ROOT / "vendor-wheels"

__all__ = [
    "DEFAULT_DEST",
    "DEFAULT_LOCK",
    "PinnedWheel",
    "WheelError",
    "ensure_wheels",
    "load_lock",
    "sha256_of",
]


class WheelError(RuntimeError):
    """A wheel could not be fetched, or its sha256 does not match the pin."""


@dataclass(frozen=True)
class PinnedWheel:
    name: str
    version: str
    file_name: str
    sha256: str

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


def load_lock(lock_path: Path = DEFAULT_LOCK) -> list[PinnedWheel]:
    """Read and validate the wheel pins."""
    try:
        data = json.loads(Path(lock_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WheelError(f"cannot read wheel lock file {lock_path}: {exc}") from exc
    entries = data.get("wheels") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise WheelError(f"{lock_path}: expected an object with a 'wheels' list")
    pins: list[PinnedWheel] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise WheelError(f"{lock_path}: wheels[{i}] is not an object")
        missing = [k for k in ("name", "version", "file_name", "sha256") if not isinstance(entry.get(k), str)]
        if missing:
            raise WheelError(f"{lock_path}: wheels[{i}] lacks string field(s) {', '.join(missing)}")
        sha = entry["sha256"].lower()
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise WheelError(f"{lock_path}: wheels[{i}] ({entry['name']}): sha256 is not 64 hex digits")
        file_name = entry["file_name"]
        if "/" in file_name or "\\" in file_name or not file_name.endswith(".whl"):
            raise WheelError(
                f"{lock_path}: wheels[{i}]: file_name must be a bare *.whl name, got {file_name!r}"
            )
        pins.append(PinnedWheel(entry["name"], entry["version"], file_name, sha))
    return pins


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _download(python_exe: str, pin: PinnedWheel, dest: Path) -> Path:
    """Download one wheel with pip into a scratch dir inside ``dest``; return its final path."""
    with tempfile.TemporaryDirectory(prefix=".download-", dir=dest) as tmp:
        cmd = [
            python_exe, "-m", "pip", "download",
            "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
            pin.requirement, "-d", tmp,
        ]  # fmt: skip
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        except OSError as exc:
            raise WheelError(f"cannot run {python_exe!r} to download {pin.requirement}: {exc}") from exc
        if proc.returncode != 0:
            raise WheelError(
                f"pip download of {pin.requirement} failed (exit {proc.returncode}):\n"
                f"$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}"
            )
        got = Path(tmp) / pin.file_name
        if not got.is_file():
            found = ", ".join(sorted(p.name for p in Path(tmp).iterdir())) or "nothing"
            raise WheelError(f"pip download of {pin.requirement} produced {found}, expected {pin.file_name}")
        _check_hash(got, pin)
        final = dest / pin.file_name
        os.replace(got, final)
        return final


def _check_hash(path: Path, pin: PinnedWheel) -> None:
    actual = sha256_of(path)
    if actual != pin.sha256:
        path.unlink(missing_ok=True)
        raise WheelError(
            f"sha256 mismatch for {pin.file_name}: expected {pin.sha256}, got {actual}; "
            f"the file was deleted. If the new wheel is intended, update tools/wheels.lock.json."
        )


def ensure_wheels(python_exe: str, dest: Path, lock_path: Path = DEFAULT_LOCK) -> list[Path]:
    """Make sure every pinned wheel is in ``dest`` with the pinned sha256; return their paths.

    Wheels already present are verified, not re-downloaded. Raises :class:`WheelError` on any
    failure (download error, unexpected file, hash mismatch; a mismatching file is deleted).
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for pin in load_lock(lock_path):
        path = dest / pin.file_name
        if path.is_file():
            _check_hash(path, pin)  # a stale or tampered file is deleted and reported
        else:
            path = _download(python_exe, pin, dest)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", default=sys.executable, help="python whose pip downloads (default: this one)")
    ap.add_argument("--dest", type=Path, default=DEFAULT_DEST, help=f"target dir (default: {DEFAULT_DEST})")
    ap.add_argument("--lock", type=Path, default=DEFAULT_LOCK, help=f"pin file (default: {DEFAULT_LOCK})")
    args = ap.parse_args(argv)
    if shutil.which(args.python) is None and not Path(args.python).is_file():
        print(f"fetch_wheels: python {args.python!r} not found", file=sys.stderr)
        return 2
    try:
        paths = ensure_wheels(args.python, args.dest, args.lock)
    except WheelError as exc:
        print(f"fetch_wheels: error: {exc}", file=sys.stderr)
        return 1
    for p in paths:
        print(f"ok  {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
