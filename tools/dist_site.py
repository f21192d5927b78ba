"""Assembling dist/: the page's static files, the lock entries of our wheels and the file table and
timestamp of build-info.json.

Part of tools/build_dist.py (which see for the layout of dist/); standard library only.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
from pathlib import Path

from dist_common import BuildError, Log, _sha256_file
from dist_wheels import _Wheel

BUILD_INFO = "build-info.json"
RESERVED_TOP = {"pyodide", "wheels", "text", BUILD_INFO}


def _copy_static(static: Path, dest: Path, log: Log) -> int:
    if not static.is_dir():
        log(f"warning: {static} does not exist; dist/ has no page files")
        return 0
    count = 0
    for dirpath, dirnames, filenames in os.walk(static, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel_dir = Path(dirpath).relative_to(static)
        for fname in sorted(filenames):
            if fname.startswith(".") or fname in BUNDLED_SOURCES:
                continue
            rel = rel_dir / fname
            if rel.parts[0] in RESERVED_TOP:
                raise BuildError(f"static/{rel.as_posix()} collides with the generated dist/{rel.parts[0]}")
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(dirpath) / fname, dest / rel)
            count += 1
    return count


# Sources in static/ that are bundled (tools/bundle_codecs.py) rather than copied.
BUNDLED_SOURCES = {"codecs.mjs"}


def _lock_entry(wheel: _Wheel, path: Path) -> dict[str, object]:
    return {
        "name": wheel.name,
        "version": wheel.version,
        "file_name": f"../wheels/{path.name}",
        "install_dir": "site",
        "sha256": _sha256_file(path),
        "package_type": "package",
        "imports": wheel.imports,
        "depends": wheel.depends,
        "unvendored_tests": False,
        "shared_library": False,
    }


def _built_at() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = _dt.datetime.fromtimestamp(int(epoch), _dt.UTC) if epoch else _dt.datetime.now(_dt.UTC)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _file_table(dist: Path) -> dict[str, dict[str, object]]:
    table: dict[str, dict[str, object]] = {}
    for p in sorted(dist.rglob("*")):
        if p.is_file():
            rel = p.relative_to(dist).as_posix()
            if rel != BUILD_INFO:
                table[rel] = {"sha256": _sha256_file(p), "size": p.stat().st_size}
    return table
