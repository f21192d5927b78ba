"""Finding the files to de-identify: files, folders (recursively) and zip archives, in a stable order."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Source:
    """One input file: a path on disk, or a member of a zip archive on disk."""

    path: Path
    member: str | None = None

    @property
    def name(self) -> str:
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    def read(self) -> bytes:
        if self.member is None:
            return self.path.read_bytes()
        with zipfile.ZipFile(self.path) as archive:
            return archive.read(self.member)


def _zip_members(path: Path) -> Iterator[Source]:
    with zipfile.ZipFile(path) as archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            if not info.is_dir():
                yield Source(path, info.filename)


def discover(inputs: list[Path]) -> Iterator[Source | tuple[Path, str]]:
    """Every input file; (path, reason) for inputs that cannot be read at all."""
    for top in inputs:
        if not top.exists():
            yield top, "no such file or directory"
            continue
        files = sorted(p for p in top.rglob("*") if p.is_file()) if top.is_dir() else [top]
        for path in files:
            if zipfile.is_zipfile(path) and path.suffix.lower() == ".zip":
                try:
                    yield from _zip_members(path)
                except (zipfile.BadZipFile, OSError) as exc:
                    yield path, f"unreadable zip archive: {exc}"
            else:
                yield Source(path)
