"""Where accepted instances are kept: files by Study/Series/SOP Instance UID under a data folder, and an
SQLite index (for QIDO-RS and duplicate detection).

Writes are atomic: a temporary file in the same folder, fsync, rename, fsync of the folder; a crash leaves
the old file or the new one, never half of one. A write that fails (disk full) removes its temporary file at
once; a crash mid-write leaves it, and it is removed at the next start. Same SOP Instance UID:
- same bytes: stored once (the upload is answered as stored);
- different bytes from the same token (e.g. re-redacted): the new file replaces the old;
- different bytes from another token: refused (409 in the response's failure reason), nothing replaced.

A replacement into another study or series renames the new file into place, commits the index, and only
then deletes the old file: a crash at any point leaves the index naming a file that exists (at worst the
old copy stays behind unlisted). A replacement at the same path renames over the old file before the index
is committed; a crash between the two leaves the new bytes under the old digest, which QIDO-RS reports and
a resuming uploader therefore sends again.

The data folder is private to the server's user (app/private.py: folders 0700, files 0600).
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.private import create_private_file, private_database, private_folder

SCHEMA = """
CREATE TABLE IF NOT EXISTS instances (
    sop_instance_uid TEXT PRIMARY KEY,
    study_instance_uid TEXT NOT NULL,
    series_instance_uid TEXT NOT NULL,
    sop_class_uid TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    token_id INTEGER NOT NULL,
    stored_at TEXT NOT NULL,
    attributes TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS by_study ON instances (study_instance_uid, series_instance_uid);
CREATE INDEX IF NOT EXISTS by_token ON instances (token_id);
"""
# Deliveries to a --forward PACS (app/forward.py); a replaced instance is delivered again.
FORWARDED_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS forwarded (sop_instance_uid TEXT PRIMARY KEY, url TEXT, at TEXT)"
)
# What query() returns of each instance.
_LISTED = (
    "sop_instance_uid",
    "study_instance_uid",
    "series_instance_uid",
    "sop_class_uid",
    "sha256",
    "size",
    "attributes",
)
_UID = re.compile(r"[0-9]+(\.[0-9]+)*")  # matched whole (fullmatch: `$` would let a final newline in)


class StoreConflict(Exception):
    """The SOP Instance UID is held with different bytes uploaded by another token."""


@dataclass(frozen=True)
class Stored:
    outcome: str  # "stored", "duplicate", "replaced"
    path: Path
    sha256: str


def is_uid(uid: str) -> bool:
    """A UID's syntax (PS3.5 9.1: digits and dots, at most 64 characters), the whole value."""
    return len(uid) <= 64 and _UID.fullmatch(uid) is not None


def _valid_uid(uid: str) -> str:
    if not is_uid(uid):
        raise ValueError(f"not a valid UID: {uid[:80]!r}")
    return uid


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root
        private_folder(root, existing_too=True)
        private_folder(root / "instances")
        self.db_path = root / "index.sqlite"
        private_database(self.db_path)
        self._local = threading.local()
        with self._connect() as db:
            db.executescript(SCHEMA)
            db.execute(FORWARDED_SCHEMA)
        for stale in (root / "instances").rglob(".*.tmp"):
            stale.unlink(missing_ok=True)  # a crash mid-write: the temporary file, never the stored one
        self._reconcile()

    def _reconcile(self) -> None:
        """After a crash, the files and the index agree again. A file is renamed into place inside the
        index's transaction, before its commit (parts are stored while the body still streams in, so a
        crash can land there): a killed server may leave a stored file the index does not name (a new
        instance: removed, the client sends it again, QIDO never listed it), or a replaced file whose index
        row still holds the old SHA-256 (found by its modification time, later than the row's; the row is
        corrected to the file, which passed the re-check before it was renamed)."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT sop_instance_uid, study_instance_uid, series_instance_uid, sha256, stored_at "
                "FROM instances"
            ).fetchall()
        named = {self.path_for(study, series, sop): (sop, sha, at) for sop, study, series, sha, at in rows}
        for path in (self.root / "instances").rglob("*.dcm"):
            row = named.get(path)
            if row is None:
                path.unlink(missing_ok=True)
                continue
            sop, sha, stored_at = row
            try:
                stored = time.mktime(time.strptime(stored_at, "%Y%m%d%H%M%S"))
            except ValueError:
                stored = 0.0
            if path.stat().st_mtime <= stored + 2:  # written before its row, as every complete store is
                continue
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if digest != sha:
                with self._connect() as db:
                    db.execute(
                        "UPDATE instances SET sha256 = ?, size = ? WHERE sop_instance_uid = ?",
                        (digest, len(data), sop),
                    )

    def _connect(self) -> sqlite3.Connection:
        """This thread's connection to the index, opened once: the server stores from a pool of threads,
        and opening a connection costs more than the transaction it is for."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(self.db_path, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
        return db

    def path_for(self, study: str, series: str, sop: str) -> Path:
        return self.root / "instances" / _valid_uid(study) / _valid_uid(series) / f"{_valid_uid(sop)}.dcm"

    def _write_temporary(self, path: Path, data: bytes) -> Path:
        """The bytes on disk (fsync'd) under a temporary name beside `path`; renamed into place later."""
        private_folder(path.parent)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.{time.monotonic_ns()}.tmp")
        fd = create_private_file(tmp)
        try:
            with open(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)  # a failed write (disk full): removed now, not at the next start
            raise
        return tmp

    @staticmethod
    def _fsync_dir(folder: Path) -> None:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def put(
        self,
        data: bytes,
        *,
        study: str,
        series: str,
        sop: str,
        sop_class: str,
        token_id: int,
        attributes: str,
        digest: str | None = None,
    ) -> Stored:
        """Store `data` by the duplicate rule; `digest`: its SHA-256 when the caller has it already."""
        digest = digest or hashlib.sha256(data).hexdigest()
        path = self.path_for(study, series, sop)
        # Written and fsync'd before the index is locked: uploads store in parallel, and only the decision
        # (duplicate, conflict, replace) and the rename are serialised.
        tmp = self._write_temporary(path, data)
        try:
            with self._connect() as db:
                db.execute("BEGIN IMMEDIATE")
                row = db.execute(
                    "SELECT sha256, token_id, study_instance_uid, series_instance_uid FROM instances "
                    "WHERE sop_instance_uid = ?",
                    (sop,),
                ).fetchone()
                if row is not None and row[0] == digest and path.is_file():
                    return Stored("duplicate", path, digest)
                if row is not None and row[0] != digest and row[1] != token_id:
                    raise StoreConflict(
                        f"SOP Instance UID {sop} is already stored with different content by another uploader"
                    )
                os.replace(tmp, path)
                self._fsync_dir(path.parent)
                db.execute("DELETE FROM forwarded WHERE sop_instance_uid = ?", (sop,))
                db.execute(
                    "INSERT OR REPLACE INTO instances VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        sop,
                        study,
                        series,
                        sop_class,
                        digest,
                        len(data),
                        token_id,
                        time.strftime("%Y%m%d%H%M%S"),
                        attributes,
                    ),
                )
            # Committed (the `with` above): only now is the old file, at another path, no longer named by
            # the index and safe to delete. A crash before the deletion leaves an unlisted copy, never an
            # index naming a missing file.
            if row is not None and (row[2], row[3]) != (study, series):
                self._remove_unlisted(self.path_for(row[2], row[3], sop), sop, row[2], row[3])
        finally:
            tmp.unlink(missing_ok=True)  # gone already when renamed
        return Stored("replaced" if row is not None else "stored", path, digest)

    def _remove_unlisted(self, old: Path, sop: str, study: str, series: str) -> None:
        """Delete the file a replacement moved away from, under the index's lock and only if the index
        does not name it again (another upload of the instance may have moved it back meanwhile)."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            named = db.execute(
                "SELECT 1 FROM instances WHERE sop_instance_uid = ? AND study_instance_uid = ? "
                "AND series_instance_uid = ?",
                (sop, study, series),
            ).fetchone()
            if named is None:
                old.unlink(missing_ok=True)
                self._fsync_dir(old.parent)

    def query(self, token_id: int, **where: str) -> list[dict[str, Any]]:
        """Instances this token uploaded, filtered by exact UIDs (study/series/sop_instance_uid)."""
        sql = f"SELECT {', '.join(_LISTED)} FROM instances WHERE token_id = ?"
        args: list[Any] = [token_id]
        for column in ("study_instance_uid", "series_instance_uid", "sop_instance_uid"):
            if where.get(column):
                sql += f" AND {column} = ?"
                args.append(where[column])
        with self._connect() as db:
            rows = db.execute(
                sql + " ORDER BY study_instance_uid, series_instance_uid, sop_instance_uid", args
            ).fetchall()
        return [dict(zip(_LISTED, row, strict=True)) for row in rows]
