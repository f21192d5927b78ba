"""Bearer tokens for uploads: created on the command line, kept hashed in the server's SQLite database.

    python -m app token create --name "Dr Who's laptop" [--data DIR] [--max-request-mb 512]
        [--per-minute 6000] [--per-minute-mb 2048] [--expires-days N]
    python -m app token list [--data DIR]
    python -m app token revoke ID [--data DIR]

Only the SHA-256 of a token is stored; the token itself is printed once (and never listed). Each token
carries its own limits: the largest request body (413 beyond it), and per sliding minute a number of
requests and of bytes (429 beyond either, with Retry-After: when the token may ask again). A token may
expire (401 saying so). When a token was last used is written at most once a minute per token, not on
every request.
"""

from __future__ import annotations

import calendar
import hashlib
import math
import secrets
import sqlite3
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from app.private import private_database, private_folder

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
# Columns added after the first version, with their definitions (added to an older database at start).
ADDED_COLUMNS = {
    "per_minute_bytes": "INTEGER",  # NULL: the default of the server that reads it
    "expires": "TEXT",  # UTC, TIME_FORMAT; NULL: never
    "last_used": "TEXT",  # UTC, TIME_FORMAT, to the minute (see LAST_USED_SECONDS); NULL: never used
}
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
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
# uploads. (tests/test_tokens.py recomputes this bound from the page's constant.)
#
# A request is counted once per INSTANCES_PER_REQUEST instances it carries (the page's batch size), so that
# one request of thousands of parts is not one request's worth of re-checks: the page's requests count one
# each, and for any client the bound above is one of instances: 6,000 x 8 = 48,000 a minute.
#
# Bytes are counted too, per sliding minute (DEFAULT_PER_MINUTE_BYTES): the size limit bounds one request,
# not how many a token sends (nor the disk it fills). The default, 2 GB a minute, paces one token at about
# 35 MB/s (280 Mbit/s): above what most uploaders' internet links carry, so an honest upload over one is
# paced by its network, not by this limit. On a LAN or loopback a client can go faster (the server
# re-checks 100-200 instances of 0.5 MB a second on two cores, 3-6 GB a minute): give such a token a
# larger --per-minute-mb. A token's bytes a minute are at least its largest request (checked at
# creation), so any request it may send fits into an empty minute.
LARGE_UPLOAD_FILES = 20_000
LARGE_UPLOAD_STUDIES = 500
DEFAULT_PER_MINUTE = 6_000
INSTANCES_PER_REQUEST = 8
DEFAULT_PER_MINUTE_BYTES = 2 * 1024 * 1024 * 1024
WINDOW_SECONDS = 60.0
# Last used is written when a token is found and its last write is older than this (per server process).
LAST_USED_SECONDS = 60.0


# The rate limit's clock (a module attribute so tests can move time), and the wall clock for expiry and
# last use (likewise).
_clock = time.monotonic
_wall = time.time


class TokenExpired(Exception):
    """The token is known and not revoked, but its expiry has passed."""


@dataclass(frozen=True)
class Token:
    id: int
    name: str
    max_request_bytes: int
    per_minute: int
    per_minute_bytes: int = DEFAULT_PER_MINUTE_BYTES


@dataclass(frozen=True)
class TokenInfo:
    """What `token list` shows of a token: never its secret (which is not kept) nor its hash."""

    id: int
    name: str
    created: str
    last_used: str | None
    expires: str | None
    max_request_bytes: int
    per_minute: int
    per_minute_bytes: int
    revoked: bool

    def expired(self, now: float | None = None) -> bool:
        return self.expires is not None and _epoch(self.expires) <= (_wall() if now is None else now)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _timestamp(seconds: float) -> str:
    return time.strftime(TIME_FORMAT, time.gmtime(seconds))


def _epoch(timestamp: str) -> float:
    return float(calendar.timegm(time.strptime(timestamp, TIME_FORMAT)))


def request_units(instances: int) -> int:
    """How many requests a request of `instances` parts counts as: one per INSTANCES_PER_REQUEST begun."""
    return max(1, math.ceil(instances / INSTANCES_PER_REQUEST))


class _Window:
    """One token's usage over the last WINDOW_SECONDS: (time, requests, bytes) entries and their sums."""

    def __init__(self) -> None:
        self.entries: deque[tuple[float, int, int]] = deque()
        self.requests = 0
        self.nbytes = 0

    def expire(self, now: float) -> None:
        while self.entries and now - self.entries[0][0] >= WINDOW_SECONDS:
            _, requests, nbytes = self.entries.popleft()
            self.requests -= requests
            self.nbytes -= nbytes

    def add(self, now: float, requests: int, nbytes: int) -> None:
        self.entries.append((now, requests, nbytes))
        self.requests += requests
        self.nbytes += nbytes

    def wait(self, token: Token, now: float, requests: int = 0, nbytes: int = 0) -> float:
        """0 when the window plus (`requests`, `nbytes`) is within the token's limits; otherwise the seconds
        until enough of the oldest entries have left it (all of them when even that is not enough)."""

        def fits(held_requests: int, held_bytes: int) -> bool:
            return (
                held_requests + requests <= token.per_minute and held_bytes + nbytes <= token.per_minute_bytes
            )

        held_requests, held_bytes = self.requests, self.nbytes
        if fits(held_requests, held_bytes):
            return 0.0
        for at, entry_requests, entry_bytes in self.entries:
            held_requests -= entry_requests
            held_bytes -= entry_bytes
            if fits(held_requests, held_bytes):
                return at + WINDOW_SECONDS - now
        return (self.entries[-1][0] if self.entries else now) + WINDOW_SECONDS - now


class Tokens:
    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        private_folder(db_path.parent, existing_too=True)
        private_database(db_path)
        self._local = threading.local()
        with self._connect() as db:
            db.execute(SCHEMA)
            present = {row[1] for row in db.execute("PRAGMA table_info(tokens)")}
            for column, definition in ADDED_COLUMNS.items():
                if column not in present:
                    db.execute(f"ALTER TABLE tokens ADD COLUMN {column} {definition}")
        self._windows: dict[int, _Window] = {}
        self._touched: dict[int, float] = {}  # token id -> _clock() of its last last_used write
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        """This thread's connection, opened once: every request looks its token up."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(self.db_path, timeout=30)
        return db

    def create(
        self,
        name: str,
        *,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
        per_minute: int = DEFAULT_PER_MINUTE,
        per_minute_bytes: int = DEFAULT_PER_MINUTE_BYTES,
        expires_days: float | None = None,
    ) -> str:
        if per_minute_bytes < max_request_bytes:
            raise ValueError(
                f"the bytes a minute ({per_minute_bytes}) must be at least the largest request "
                f"({max_request_bytes}): a request that large could never be admitted"
            )
        if expires_days is not None and expires_days <= 0:
            raise ValueError(f"a token must be valid for some days, not {expires_days}")
        token = secrets.token_urlsafe(32)
        now = _wall()
        expires = None if expires_days is None else _timestamp(now + expires_days * 86400)
        with self._connect() as db:
            db.execute(
                "INSERT INTO tokens (name, sha256, created, max_request_bytes, per_minute, per_minute_bytes, "
                "expires) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    _hash(token),
                    _timestamp(now),
                    max_request_bytes,
                    per_minute,
                    per_minute_bytes,
                    expires,
                ),
            )
        return token

    def revoke(self, token_id: int) -> bool:
        """Revoke the token with this id (as `list` shows it); False when there is none or it was already."""
        with self._connect() as db:
            changed = db.execute("UPDATE tokens SET revoked = 1 WHERE id = ? AND revoked = 0", (token_id,))
            return changed.rowcount > 0

    def revoke_named(self, name: str) -> int:
        """Revoke every token with this name; how many were."""
        with self._connect() as db:
            return db.execute(
                "UPDATE tokens SET revoked = 1 WHERE name = ? AND revoked = 0", (name,)
            ).rowcount

    def list(self) -> list[TokenInfo]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, name, created, last_used, expires, max_request_bytes, per_minute, "
                "per_minute_bytes, revoked FROM tokens ORDER BY id"
            ).fetchall()
        return [
            TokenInfo(
                id=token_id,
                name=name,
                created=created,
                last_used=last_used,
                expires=expires,
                max_request_bytes=max_request_bytes,
                per_minute=per_minute,
                per_minute_bytes=per_minute_bytes or DEFAULT_PER_MINUTE_BYTES,
                revoked=bool(revoked),
            )
            for (
                token_id,
                name,
                created,
                last_used,
                expires,
                max_request_bytes,
                per_minute,
                per_minute_bytes,
                revoked,
            ) in rows
        ]

    def find(self, token: str) -> Token | None:
        """The token's limits; None for an unknown or revoked token; TokenExpired when it has expired."""
        with self._connect() as db:
            row = db.execute(
                "SELECT id, name, max_request_bytes, per_minute, per_minute_bytes, expires FROM tokens "
                "WHERE sha256 = ? AND revoked = 0",
                (_hash(token),),
            ).fetchone()
        if row is None:
            return None
        token_id, name, max_request_bytes, per_minute, per_minute_bytes, expires = row
        if expires is not None and _epoch(expires) <= _wall():
            raise TokenExpired(
                f"this token expired on {expires}: ask the server's administrator for a new one"
            )
        self._touch(token_id)
        return Token(
            token_id, name, max_request_bytes, per_minute, per_minute_bytes or DEFAULT_PER_MINUTE_BYTES
        )

    def _touch(self, token_id: int) -> None:
        """Record the token's use, at most once per LAST_USED_SECONDS: a write per request would cost more
        than the lookup itself."""
        now = _clock()
        with self._lock:
            last = self._touched.get(token_id)
            if last is not None and now - last < LAST_USED_SECONDS:
                return
            self._touched[token_id] = now
        try:
            with self._connect() as db:
                db.execute("UPDATE tokens SET last_used = ? WHERE id = ?", (_timestamp(_wall()), token_id))
        except sqlite3.OperationalError:
            # Locked by a `token` command beyond the timeout: the time is informational, and an upload is
            # not refused for it; the next request writes it.
            with self._lock:
                self._touched.pop(token_id, None)

    def admit(self, token: Token, nbytes: int = 0, now: float | None = None) -> float:
        """A request begins, declaring `nbytes` (its Content-Length). Sliding one-minute window per token:
        0 when the request is admitted (counted once, with its bytes); otherwise the seconds until the
        window has room for it, i.e. when the token may ask again (a refused request is not counted)."""
        now = _clock() if now is None else now
        with self._lock:
            window = self._windows.setdefault(token.id, _Window())
            window.expire(now)
            wait = window.wait(token, now, 1, nbytes)
            if not wait:
                window.add(now, 1, nbytes)
            return wait

    def charge(self, token: Token, *, requests: int = 0, nbytes: int = 0, now: float | None = None) -> float:
        """An admitted request turned out larger than it was admitted as: `requests` more (its instances
        past the first INSTANCES_PER_REQUEST, see request_units) and `nbytes` more (a body without a
        Content-Length). Counted whatever the outcome (the body was received); 0 when the token is still
        within its limits, otherwise the seconds until it will be (the caller refuses the request)."""
        now = _clock() if now is None else now
        with self._lock:
            window = self._windows.setdefault(token.id, _Window())
            window.expire(now)
            window.add(now, requests, nbytes)
            return window.wait(token, now)

    def allow(self, token: Token, now: float | None = None) -> bool:
        """Whether this request is admitted (see admit)."""
        return self.admit(token, now=now) == 0.0
