"""Where accepted instances are kept: files by Study/Series/SOP Instance UID under a data folder, and an
SQLite index (for QIDO-RS and duplicate detection).

Writes are atomic: a temporary file in the same folder, fsync, rename, fsync of the folder; a crash leaves
the old file or the new one, never half of one (temporary files are removed on start). Same SOP Instance UID:
- same bytes: stored once (the upload is answered as stored);
- different bytes from the same token (e.g. re-redacted): the new file replaces the old;
- different bytes from another token: refused (409 in the response's failure reason), nothing replaced.
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
_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")


class StoreConflict(Exception):
    """The SOP Instance UID is held with different bytes uploaded by another token."""


@dataclass(frozen=True)
class Stored:
    outcome: str  # "stored", "duplicate", "replaced"
    path: Path
    sha256: str


def _valid_uid(uid: str) -> str:
    if not _UID.match(uid) or len(uid) > 64:
        raise ValueError(f"not a valid UID: {uid[:80]!r}")
    return uid


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "instances").mkdir(parents=True, exist_ok=True)
        self.db_path = root / "index.sqlite"
        self._local = threading.local()
        with self._connect() as db:
            db.executescript(SCHEMA)
            db.execute(FORWARDED_SCHEMA)
        for stale in (root / "instances").rglob(".*.tmp"):
            stale.unlink(missing_ok=True)  # a crash mid-write: the temporary file, never the stored one

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
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
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
                if row is not None and (row[2], row[3]) != (study, series):
                    old = self.path_for(row[2], row[3], sop)
                    if old != path:
                        old.unlink(missing_ok=True)
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
        finally:
            tmp.unlink(missing_ok=True)  # gone already when renamed
        return Stored("replaced" if row is not None else "stored", path, digest)

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
