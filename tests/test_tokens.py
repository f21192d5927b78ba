"""Upload tokens: stored hashed, found, revoked, rate-limited per token."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from app.tokens import Tokens


def test_tokens_are_kept_hashed_and_can_be_revoked(tmp_path: Path) -> None:
    tokens = Tokens(tmp_path / "t.sqlite")
    token = tokens.create("laptop", max_request_bytes=1000, per_minute=5)
    found = tokens.find(token)
    assert found is not None and found.name == "laptop" and found.max_request_bytes == 1000
    assert tokens.find(token + "x") is None and tokens.find("") is None
    with sqlite3.connect(tmp_path / "t.sqlite") as db:
        dump = "\n".join(db.iterdump())
    assert token not in dump  # only its SHA-256
    assert tokens.revoke("laptop") == 1 and tokens.find(token) is None


def test_rate_limit_is_a_sliding_minute_per_token(tmp_path: Path) -> None:
    tokens = Tokens(tmp_path / "t.sqlite")
    a = tokens.find(tokens.create("a", per_minute=2))
    b = tokens.find(tokens.create("b", per_minute=2))
    assert a is not None and b is not None
    assert tokens.allow(a, now=0) and tokens.allow(a, now=1) and not tokens.allow(a, now=2)
    assert tokens.allow(b, now=2)  # another token's budget
    assert tokens.allow(a, now=61)  # the first request left the window
