"""What forwarding did with each stored instance, kept in the store's SQLite index (table `forwarded`) so it
survives restarts and `python -m app forward status` can read it while the server runs.

The store creates the table (app/store.py: it deletes a row when an instance is replaced, so the new content
is delivered again); forwarding adds the columns of its outcome. One row per instance that got an answer:
- delivered: stored by the PACS (rows written before these columns existed were all deliveries);
- failed: final, not sent again (3xx, 4xx but 408/429, a refusal the PACS gives as final); later instances
  go on, also after a restart;
- retrying: the last attempt is to be repeated (408, 429, 5xx, no answer); still queued.
An instance with no row, or a retrying one, is queued.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.store import FORWARDED_SCHEMA
from app.stow_answer import Outcome, Verdict

# Added to the store's table; ALTER TABLE keeps the rows of an older data folder.
_COLUMNS = (
    ("outcome", f"TEXT NOT NULL DEFAULT '{Verdict.DELIVERED.value}'"),
    ("http_status", "INTEGER"),
    ("reason", "TEXT NOT NULL DEFAULT ''"),
    ("attempts", "INTEGER NOT NULL DEFAULT 1"),
)


@contextmanager
def connect(db_path: Path, *, create: bool = True) -> Iterator[sqlite3.Connection]:
    """The index with the forwarding columns; `create=False` refuses to make a new index (status)."""
    if not create and not db_path.is_file():
        raise FileNotFoundError(db_path)
    db = sqlite3.connect(db_path, timeout=30)
    try:
        with db:
            db.execute(FORWARDED_SCHEMA)
            have = {row[1] for row in db.execute("PRAGMA table_info(forwarded)")}
            for name, declaration in _COLUMNS:
                if name not in have:
                    try:
                        db.execute(f"ALTER TABLE forwarded ADD COLUMN {name} {declaration}")
                    except sqlite3.OperationalError as exc:  # the server and `status` at once
                        if "duplicate column" not in str(exc):
                            raise
        yield db
    finally:
        db.close()


def record(db: sqlite3.Connection, sop: str, url: str, outcome: Outcome, attempts: int) -> None:
    with db:
        db.execute(
            "INSERT OR REPLACE INTO forwarded (sop_instance_uid, url, at, outcome, http_status, reason, "
            "attempts) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                sop,
                url,
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                outcome.verdict.value,
                outcome.status,
                outcome.reason,
                attempts,
            ),
        )


def queued(db: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """(SOP, study, series) of every stored instance not delivered nor failed for good, in storing order."""
    rows = db.execute(
        "SELECT i.sop_instance_uid, i.study_instance_uid, i.series_instance_uid FROM instances i "
        "LEFT JOIN forwarded f ON f.sop_instance_uid = i.sop_instance_uid "
        "WHERE f.sop_instance_uid IS NULL OR f.outcome = ? ORDER BY i.rowid",
        (Verdict.RETRYING.value,),
    ).fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


@dataclass(frozen=True)
class Row:
    sop: str
    study: str
    series: str
    verdict: Verdict | None  # None: not tried yet
    url: str
    at: str
    status: int | None
    reason: str
    attempts: int


def rows(db: sqlite3.Connection) -> list[Row]:
    """Every stored instance with what forwarding did with it, in storing order."""
    found = db.execute(
        "SELECT i.sop_instance_uid, i.study_instance_uid, i.series_instance_uid, f.outcome, f.url, f.at, "
        "f.http_status, f.reason, f.attempts FROM instances i "
        "LEFT JOIN forwarded f ON f.sop_instance_uid = i.sop_instance_uid ORDER BY i.rowid"
    ).fetchall()
    return [
        Row(
            sop,
            study,
            series,
            Verdict(outcome) if outcome is not None else None,
            url or "",
            at or "",
            status,
            reason or "",
            attempts or 0,
        )
        for sop, study, series, outcome, url, at, status, reason, attempts in found
    ]
