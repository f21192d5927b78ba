"""Upload tokens: stored hashed, found, listed, revoked by id, expiring, last use written at most once a
minute, rate-limited per token in requests (counted per 8 instances) and in bytes."""

from __future__ import annotations

import hashlib
import math
import re
import sqlite3
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from app import tokens as tokens_module
from app.cli import _parser as parser
from app.cli import build_app, main
from app.multipart import related
from app.tokens import (
    DEFAULT_PER_MINUTE,
    DEFAULT_PER_MINUTE_BYTES,
    INSTANCES_PER_REQUEST,
    LARGE_UPLOAD_FILES,
    LARGE_UPLOAD_STUDIES,
    TokenExpired,
    Tokens,
    request_units,
)

ROOT = Path(__file__).resolve().parent.parent


def test_tokens_are_kept_hashed_and_can_be_revoked(tmp_path: Path) -> None:
    tokens = Tokens(tmp_path / "t.sqlite")
    token = tokens.create("laptop", max_request_bytes=1000, per_minute=5)
    found = tokens.find(token)
    assert found is not None and found.name == "laptop" and found.max_request_bytes == 1000
    assert tokens.find(token + "x") is None and tokens.find("") is None
    with sqlite3.connect(tmp_path / "t.sqlite") as db:
        dump = "\n".join(db.iterdump())
    assert token not in dump  # only its SHA-256
    assert found is not None and tokens.revoke(found.id) and tokens.find(token) is None
    assert not tokens.revoke(found.id)  # already revoked


def test_rate_limit_is_a_sliding_minute_per_token(tmp_path: Path) -> None:
    tokens = Tokens(tmp_path / "t.sqlite")
    a = tokens.find(tokens.create("a", per_minute=2))
    b = tokens.find(tokens.create("b", per_minute=2))
    assert a is not None and b is not None
    assert tokens.allow(a, now=0) and tokens.allow(a, now=1) and not tokens.allow(a, now=2)
    assert tokens.allow(b, now=2)  # another token's budget
    assert tokens.allow(a, now=61)  # the first request left the window


def test_a_refusal_says_when_the_next_request_is_allowed(tmp_path: Path) -> None:
    """Retry-After is when the oldest request leaves the window (not a blanket minute): a client that
    honours it waits no longer than it must."""
    tokens = Tokens(tmp_path / "t.sqlite")
    a = tokens.find(tokens.create("a", per_minute=2))
    assert a is not None
    assert tokens.admit(a, now=100) == 0 and tokens.admit(a, now=130) == 0
    assert tokens.admit(a, now=145) == 15  # the request at 100 leaves the window at 160
    assert tokens.admit(a, now=159.5) == 0.5
    assert tokens.admit(a, now=160.5) == 0  # admitted: its slot was free
    assert tokens.admit(a, now=161) == 29  # refusals are not counted: the next slot frees at 190


def _page_constant(name: str) -> int:
    match = re.search(rf"const {name} = (\d+);", (ROOT / "static" / "upload.mjs").read_text())
    assert match, f"{name} not found in static/upload.mjs"
    return int(match.group(1))


def test_the_default_rate_fits_a_large_upload_and_its_resume() -> None:
    """A 20,000-file upload and its resume in the same minute stay under the default (the page's batch
    size read from static/upload.mjs, one resume query per study: the reasoning is in app/tokens.py)."""
    per_request = _page_constant("PER_REQUEST_FILES")
    one_pass = math.ceil(LARGE_UPLOAD_FILES / per_request) + LARGE_UPLOAD_STUDIES
    assert LARGE_UPLOAD_FILES == 20_000 and 2 * one_pass <= DEFAULT_PER_MINUTE
    assert per_request == INSTANCES_PER_REQUEST and request_units(per_request) == 1, (
        "a page request counts one"
    )
    args = parser().parse_args(["token", "create", "--name", "x"])
    assert args.per_minute == DEFAULT_PER_MINUTE, "the command line's default is the same constant"
    assert args.per_minute_mb << 20 == DEFAULT_PER_MINUTE_BYTES


class Clocks:
    """The rate limit's monotonic clock and the wall clock, moved together by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, wall: float = 1_800_000_000.0) -> None:
        self.offset = 0.0
        monkeypatch.setattr(tokens_module, "_clock", lambda: 1000.0 + self.offset)
        monkeypatch.setattr(tokens_module, "_wall", lambda: wall + self.offset)


def _last_used(db_path: Path, name: str) -> str | None:
    with sqlite3.connect(db_path) as db:
        row = db.execute("SELECT last_used FROM tokens WHERE name = ?", (name,)).fetchone()
    return None if row is None else row[0]


def test_last_use_is_written_at_most_once_a_minute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clocks = Clocks(monkeypatch)
    tokens = Tokens(tmp_path / "t.sqlite")
    secret = tokens.create("laptop")
    assert _last_used(tmp_path / "t.sqlite", "laptop") is None
    assert tokens.find(secret) is not None
    first = _last_used(tmp_path / "t.sqlite", "laptop")
    assert first is not None
    for second in range(1, 60, 5):  # a request every 5 s: no write
        clocks.offset = second
        assert tokens.find(secret) is not None
        assert _last_used(tmp_path / "t.sqlite", "laptop") == first
    clocks.offset = 61
    tokens.find(secret)
    later = _last_used(tmp_path / "t.sqlite", "laptop")
    assert later is not None and later > first


def test_an_expired_token_is_refused_saying_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clocks = Clocks(monkeypatch)
    tokens = Tokens(tmp_path / "t.sqlite")
    secret = tokens.create("visitor", expires_days=2)
    forever = tokens.create("resident")
    clocks.offset = 2 * 86400 - 1
    assert tokens.find(secret) is not None
    clocks.offset = 2 * 86400
    with pytest.raises(TokenExpired, match="expired on 2027-01-"):
        tokens.find(secret)
    assert tokens.find(forever) is not None
    with pytest.raises(ValueError, match="some days"):
        tokens.create("never", expires_days=0)


def test_the_bytes_of_a_minute_are_limited(tmp_path: Path) -> None:
    tokens = Tokens(tmp_path / "t.sqlite")
    a = tokens.find(tokens.create("a", max_request_bytes=500, per_minute_bytes=1000))
    assert a is not None and a.per_minute_bytes == 1000
    assert tokens.admit(a, 500, now=0) == 0 and tokens.admit(a, 400, now=10) == 0
    assert tokens.admit(a, 200, now=20) == 40  # room once the 500 bytes at 0 leave the window
    assert tokens.admit(a, 100, now=20) == 0  # a smaller request fits (the refused one was not counted)
    assert tokens.admit(a, 500, now=60) == 0
    with pytest.raises(ValueError, match="at least the largest request"):
        tokens.create("b", max_request_bytes=2000, per_minute_bytes=1000)


def test_many_instances_in_one_request_count_as_many_requests(tmp_path: Path) -> None:
    """One request of 17 parts is counted as three (per 8 instances): the request rate cannot be
    dodged by putting thousands of parts into one request."""
    assert [request_units(n) for n in (0, 1, 8, 9, 16, 17)] == [1, 1, 1, 2, 2, 3]
    tokens = Tokens(tmp_path / "t.sqlite")
    a = tokens.find(tokens.create("a", per_minute=3))
    assert a is not None
    assert tokens.admit(a, now=0) == 0
    assert tokens.charge(a, requests=request_units(9) - 1, now=1) == 0  # 2 of 3
    assert tokens.admit(a, now=2) == 0  # 3 of 3
    assert tokens.admit(a, now=3) == 57
    # 17 instances: 2 more requests, 6 of 3 held; within again once those at 0 and 1 have left
    assert tokens.charge(a, requests=request_units(17) - 1, now=4) == 57
    assert tokens.charge(a, nbytes=DEFAULT_PER_MINUTE_BYTES + 1, now=5) == 60  # over on its own: a minute


# ------------------------------------------------------------------ through the server


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html>")
    return TestClient(build_app(dist, tmp_path / "data"))


def _stow(client: TestClient, token: str, parts: list[bytes]) -> object:
    body, content_type = related(parts)
    return client.post(
        "/dicomweb/studies",
        content=body,
        headers={"Content-Type": content_type, "Authorization": f"Bearer {token}"},
    )


def test_stow_counts_instances_and_bytes(client: TestClient, tmp_path: Path) -> None:
    tokens = Tokens(tmp_path / "data" / "tokens.sqlite")
    few = tokens.create("few requests", per_minute=2)
    answer = _stow(client, few, [b"not DICOM"] * 17)  # 3 requests' worth of instances
    assert answer.status_code == 429 and "Retry-After" in answer.headers  # type: ignore[attr-defined]
    # Parts are handled as they arrive: the 17th (the third request's worth) is where the request stops.
    assert answer.text.count("00081197") == 16  # type: ignore[attr-defined]
    few_bytes = tokens.create("few bytes", max_request_bytes=3000, per_minute_bytes=3000)
    assert _stow(client, few_bytes, [b"x" * 1000]).status_code == 409  # type: ignore[attr-defined]
    refused = _stow(client, few_bytes, [b"x" * 2000])
    assert refused.status_code == 429  # type: ignore[attr-defined]
    assert 50 <= int(refused.headers["Retry-After"]) <= 60  # type: ignore[attr-defined]


def test_an_expired_token_gets_401_saying_it_expired(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clocks = Clocks(monkeypatch)
    secret = Tokens(tmp_path / "data" / "tokens.sqlite").create("visitor", expires_days=1)
    clocks.offset = 86400 + 1
    for answer in (
        _stow(client, secret, [b"x"]),
        client.get("/dicomweb/studies", headers={"Authorization": f"Bearer {secret}"}),
    ):
        assert answer.status_code == 401  # type: ignore[attr-defined]
        assert "expired" in answer.json()["error"]  # type: ignore[attr-defined]


# ------------------------------------------------------------------ the command line


def test_token_commands_list_and_revoke_by_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = ["--data", str(tmp_path)]
    assert main(["token", "create", "--name", "Dr Who's laptop", "--expires-days", "30", *data]) == 0
    secret = capsys.readouterr().out.strip()
    scanner_limits = ["--per-minute", "100", "--per-minute-mb", "600"]
    assert main(["token", "create", "--name", "scanner", *scanner_limits, *data]) == 0
    capsys.readouterr()
    Tokens(tmp_path / "tokens.sqlite").find(secret)  # used once
    assert main(["token", "list", *data]) == 0
    listed = capsys.readouterr().out
    assert secret not in listed and hashlib.sha256(secret.encode()).hexdigest() not in listed
    lines = listed.splitlines()
    assert lines[0].split()[:3] == ["ID", "NAME", "CREATED"]
    laptop = next(line for line in lines if "Dr Who's laptop" in line)
    scanner = next(line for line in lines if "scanner" in line)
    assert laptop.startswith("1 ") and scanner.startswith("2 ")
    assert laptop.count("20") >= 3  # created, last used and expires are dates
    assert "never" in scanner  # never used, never expires
    assert "100/min" in scanner and "600 MB/min" in scanner and "512 MB" in scanner
    assert main(["token", "revoke", "2", *data]) == 0
    assert "revoked token 2 (scanner)" in capsys.readouterr().err
    assert main(["token", "revoke", "2", *data]) == 1  # already
    assert main(["token", "revoke", "9", *data]) == 1
    assert "no active token with id 9" in capsys.readouterr().err
    main(["token", "list", *data])
    assert "revoked" in next(line for line in capsys.readouterr().out.splitlines() if "scanner" in line)


def test_token_create_refuses_bytes_a_minute_below_the_largest_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        main(
            [
                "token",
                "create",
                "--name",
                "x",
                "--max-request-mb",
                "100",
                "--per-minute-mb",
                "50",
                "--data",
                "d",
            ]
        )
    assert "at least the largest request" in capsys.readouterr().err


def test_a_token_database_of_the_first_version_keeps_working(tmp_path: Path) -> None:
    """Tokens created before expiry, last use and the bytes limit: found, listed, with the defaults."""
    secret = "an old token"
    with sqlite3.connect(tmp_path / "t.sqlite") as db:
        db.execute(
            "CREATE TABLE tokens (id INTEGER PRIMARY KEY, name TEXT NOT NULL, sha256 TEXT NOT NULL UNIQUE, "
            "created TEXT NOT NULL, max_request_bytes INTEGER NOT NULL, per_minute INTEGER NOT NULL, "
            "revoked INTEGER NOT NULL DEFAULT 0)"
        )
        db.execute(
            "INSERT INTO tokens (name, sha256, created, max_request_bytes, per_minute) "
            "VALUES (?, ?, ?, ?, ?)",
            ("old", hashlib.sha256(secret.encode()).hexdigest(), "2026-01-01T00:00:00Z", 1000, 10),
        )
    tokens = Tokens(tmp_path / "t.sqlite")
    found = tokens.find(secret)
    assert found is not None and found.per_minute_bytes == DEFAULT_PER_MINUTE_BYTES
    [listed] = tokens.list()
    assert listed.expires is None and listed.last_used is not None and not listed.revoked
