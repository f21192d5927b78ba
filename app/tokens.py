"""Bearer tokens for uploads: created on the command line, kept hashed in the server's SQLite database.

    python -m app token create --name "Dr Who's laptop" [--data DIR] [--max-request-mb 512] [--per-minute 120]

Only the SHA-256 of a token is stored; the token itself is printed once. Each token carries its own limits:
the largest request body (413 beyond it) and requests per minute (429 beyond it).
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    max_request_bytes INTEGER NOT NULL,
    per_minute INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
)
"""
DEFAULT_MAX_REQUEST_BYTES = 512 * 1024 * 1024
DEFAULT_PER_MINUTE = 120


@dataclass(frozen=True)
class Token:
    id: int
    name: str
    max_request_bytes: int
    per_minute: int


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Tokens:
    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        db_path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(SCHEMA)
        self._recent: dict[int, deque[float]] = {}
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.db_path, timeout=30)

    def create(
        self,
        name: str,
        *,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
        per_minute: int = DEFAULT_PER_MINUTE,
    ) -> str:
        token = secrets.token_urlsafe(32)
        with self._connect() as db:
            db.execute(
                "INSERT INTO tokens (name, sha256, created, max_request_bytes, per_minute) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    name,
                    _hash(token),
                    time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    max_request_bytes,
                    per_minute,
                ),
            )
        return token

    def revoke(self, name: str) -> int:
        with self._connect() as db:
            return db.execute("UPDATE tokens SET revoked = 1 WHERE name = ?", (name,)).rowcount

    def find(self, token: str) -> Token | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT id, name, max_request_bytes, per_minute FROM tokens WHERE sha256 = ? AND revoked = 0",
                (_hash(token),),
            ).fetchone()
        return Token(*row) if row else None

    def allow(self, token: Token, now: float | None = None) -> bool:
        """Sliding one-minute window per token; False once `per_minute` requests were made in it."""
        now = time.monotonic() if now is None else now
        with self._lock:
            recent = self._recent.setdefault(token.id, deque())
            while recent and now - recent[0] > 60:
                recent.popleft()
            if len(recent) >= token.per_minute:
                return False
            recent.append(now)
            return True
