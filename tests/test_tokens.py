"""Upload tokens: stored hashed, found, revoked, rate-limited per token."""

from __future__ import annotations

import math
import re
import sqlite3
from pathlib import Path

from app.cli import _parser as parser
from app.tokens import DEFAULT_PER_MINUTE, LARGE_UPLOAD_FILES, LARGE_UPLOAD_STUDIES, Tokens

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
    assert tokens.revoke("laptop") == 1 and tokens.find(token) is None


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
    args = parser().parse_args(["token", "create", "--name", "x"])
    assert args.per_minute == DEFAULT_PER_MINUTE, "the command line's default is the same constant"
