"""Bearer tokens for uploads: created on the command line, kept hashed in the server's SQLite database.

    python -m app token create --name "Dr Who's laptop" [--data DIR] [--max-request-mb 512]
        [--per-minute 6000]

Only the SHA-256 of a token is stored; the token itself is printed once. Each token carries its own limits:
the largest request body (413 beyond it) and requests per minute (429 beyond it, with Retry-After: when
the next request will be allowed).
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

# The default rate is sized so that a large upload never meets it, even when it is resumed within the same
# minute (the freeze of issue 11: 120 a minute was met by a second upload of a few hundred files). The page
# (static/upload.mjs) sends 8 instances per STOW-RS request (3 in flight) and, to resume, asks QIDO-RS once
# per study (GET /studies/{study}/instances). An upload of LARGE_UPLOAD_FILES files in up to
# LARGE_UPLOAD_STUDIES studies therefore makes at most
#     20,000 / 8 = 2,500 STOW-RS requests + 500 QIDO-RS requests = 3,000 requests,
# and its resume at most as many again (it sends only what the server lacks, and asks once per study):
# 6,000 in all. Counting every request of both, rather than a request rate, makes the bound hold however
# fast the machine is: even an upload and its resume that both fit into one minute stay under it. (The
# server's own pace is far below it anyway: it re-checks about 100-200 instances a second on two cores,
# i.e. 12-25 STOW-RS requests a second.) The limit is there against runaway clients, not to pace
# uploads; the size limit above bounds the bytes. (tests/test_tokens.py recomputes this bound from the
# page's constant.)
LARGE_UPLOAD_FILES = 20_000
LARGE_UPLOAD_STUDIES = 500
DEFAULT_PER_MINUTE = 6_000
WINDOW_SECONDS = 60.0

# The rate limit's clock (a module attribute so tests can move time).
_clock = time.monotonic


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

    def admit(self, token: Token, now: float | None = None) -> float:
        """Sliding one-minute window per token. 0 when this request is admitted (and counted); otherwise
        the seconds until the oldest request in the window leaves it, i.e. when the token may ask again
        (a refused request is not counted)."""
        now = _clock() if now is None else now
        with self._lock:
            recent = self._recent.setdefault(token.id, deque())
            while recent and now - recent[0] >= WINDOW_SECONDS:
                recent.popleft()
            if len(recent) >= token.per_minute:
                return recent[0] + WINDOW_SECONDS - now
            recent.append(now)
            return 0.0

    def allow(self, token: Token, now: float | None = None) -> bool:
        """Whether this request is admitted (see admit)."""
        return self.admit(token, now) == 0.0
