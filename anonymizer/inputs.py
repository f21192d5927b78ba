"""Finding the files to de-identify: files, folders (recursively) and zip archives, in a stable order.

Zip members are streamed: nothing is extracted to disk, and a member is read whole only once its first
bytes show it may be DICOM (the reader's own test: preamble and "DICM", or a plausible group 0002/0008
start), so a huge member that is not DICOM costs its first bytes, not its size.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .errors import NotDicomError
from .reading.reader import SNIFF_BYTES, not_dicom_reason


@dataclass(frozen=True)
class Source:
    """One input file: a path on disk, or a member of a zip archive on disk."""

    path: Path
    member: str | None = None

    @property
    def name(self) -> str:
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    def read(self) -> bytes:
        """The whole file, once its first bytes show it may be DICOM; NotDicomError before reading more
        otherwise (a zip member of gigabytes of zeros is decided from 140 bytes, not inflated whole)."""
        if self.member is None:
            # Unbuffered: a buffered reader's read() joins what it holds from the sniff with the rest, a
            # second copy of the whole file (peak memory 2x a 210 MB file); the raw one reads into one buffer.
            with self.path.open("rb", buffering=0) as f:
                self._sniff(f, self.path.stat().st_size)
                f.seek(0)
                return f.readall()
        with zipfile.ZipFile(self.path) as archive, archive.open(self.member) as f:
            prefix = self._sniff(f, archive.getinfo(self.member).file_size)
            return prefix + f.read()

    def _sniff(self, f: IO[bytes], size: int) -> bytes:
        prefix = f.read(SNIFF_BYTES)
        why = not_dicom_reason(prefix, size)
        if why is not None:
            raise NotDicomError(why, path=self.name)
        return prefix


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
