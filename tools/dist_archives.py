"""Deterministic zip writing for dist/: sorted members, a fixed timestamp (1980-01-01) and fixed
permissions, so the same inputs give the same bytes; wheels get a RECORD that matches their members.

Part of tools/build_dist.py (which see for the layout of dist/); standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from dist_common import BuildError

FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def _zip_entry(name: str, *, is_dir: bool, compress: int) -> zipfile.ZipInfo:
    zi = zipfile.ZipInfo(name, date_time=FIXED_DATE)
    zi.create_system = 3  # unix: external_attr holds the mode
    zi.external_attr = ((0o40755 << 16) | 0x10) if is_dir else (0o644 << 16)
    zi.compress_type = zipfile.ZIP_STORED if is_dir else compress
    return zi


def _write_zip(dest: Path, members: Iterable[tuple[str, bytes | None]], *, compress: int) -> None:
    """Write ``members`` (name, data; data None for a directory entry) in the given order."""
    with zipfile.ZipFile(
        dest, "w", compress, compresslevel=9 if compress == zipfile.ZIP_DEFLATED else None
    ) as z:
        for name, data in members:
            if data is None:
                z.writestr(_zip_entry(name, is_dir=True, compress=compress), b"")
            else:
                z.writestr(_zip_entry(name, is_dir=False, compress=compress), data)


def _read_members(path: Path) -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            if info.filename in out:
                raise BuildError(f"{path}: duplicate member {info.filename}")
            out[info.filename] = None if info.is_dir() else z.read(info)
    return out


def _dist_info_dir(members: Iterable[str], wheel: Path) -> str:
    dirs = sorted({n.split("/", 1)[0] for n in members if n.split("/", 1)[0].endswith(".dist-info")})
    if len(dirs) != 1:
        raise BuildError(f"{wheel}: expected one .dist-info directory, found {dirs or 'none'}")
    return dirs[0]


def _wheel_order(names: Iterable[str], dist_info: str) -> list[str]:
    """Sorted, with the .dist-info directory last and its RECORD the very last member."""
    record = f"{dist_info}/RECORD"
    return sorted(names, key=lambda n: (n.startswith(dist_info + "/"), n == record, n))


def _record(members: Mapping[str, bytes | None], dist_info: str) -> bytes:
    record = f"{dist_info}/RECORD"
    lines = []
    for name in _wheel_order(members, dist_info):
        data = members[name]
        if name == record or data is None:
            continue
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{name},sha256={digest},{len(data)}")
    lines.append(f"{record},,")
    return ("\n".join(lines) + "\n").encode()


def _write_wheel(dest: Path, members: Mapping[str, bytes | None], *, compress: int) -> None:
    """Write a wheel with a RECORD that matches its members (directory entries dropped)."""
    files: dict[str, bytes | None] = {n: d for n, d in members.items() if d is not None}
    dist_info = _dist_info_dir(files, dest)
    files[f"{dist_info}/RECORD"] = _record(files, dist_info)
    _write_zip(dest, ((n, files[n]) for n in _wheel_order(files, dist_info)), compress=compress)
