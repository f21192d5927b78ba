"""What a PACS's STOW-RS answer means (app/stow_answer.py): pure cases the forwarding tests do not reach."""

from __future__ import annotations

import email.utils
import json

import pytest

from app.stow_answer import Verdict, failure_reason, judge, printable, retry_after

SOP = "2.25.7"


def _failed(code: int, comment: str = "") -> bytes:
    item = {"00081155": {"vr": "UI", "Value": [SOP]}, "00081197": {"vr": "US", "Value": [code]}}
    if comment:
        item["00000902"] = {"vr": "LO", "Value": [comment]}
    return json.dumps([{"00081198": {"vr": "SQ", "Value": [item]}}]).encode()  # as a list of one


@pytest.mark.parametrize(
    ("code", "meaning", "again"),
    [
        (0xA700, "Refused: out of resources", True),
        (0xA7FE, "Refused: out of resources", True),
        (0x0213, "Resource limitation", True),
        (0xA900, "Error: data set does not match SOP Class", False),
        (0xC122, "Transfer Syntax not supported", False),  # the narrow row wins over 0xC000-0xCFFF
        (0xC005, "Error: cannot understand", False),
        (0x0110, "Processing failure", False),
    ],
)
def test_failure_reasons_are_read_from_the_table(code: int, meaning: str, again: bool) -> None:
    known = failure_reason(code)
    assert known is not None and (known.meaning, known.again) == (meaning, again)


def test_an_unknown_failure_reason_is_final_and_says_so() -> None:
    outcome = judge(409, {}, _failed(0xF00D, "odd"), SOP)
    assert outcome.verdict is Verdict.FAILED
    assert "0xF00D (a Failure Reason this server does not know): odd" in outcome.reason


def test_a_409_whose_reason_is_temporary_is_retried() -> None:
    assert judge(409, {}, _failed(0xA701, "disk full"), SOP).verdict is Verdict.RETRYING


def test_another_instance_listed_as_failed_is_not_ours() -> None:
    body = _failed(0xA900).replace(SOP.encode(), b"2.25.8")
    assert judge(202, {}, body, SOP).verdict is Verdict.FAILED
    assert "does not list it" in judge(202, {}, body, SOP).reason


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        ("999999", 3600.0),  # capped
        (email.utils.formatdate(1_000_030, usegmt=True), 30.0),
        (email.utils.formatdate(999_000, usegmt=True), 0.0),  # in the past
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_is_seconds_or_a_date(value: str | None, seconds: float | None) -> None:
    assert retry_after(value, now=1_000_000) == seconds


def test_a_pacs_cannot_write_escape_sequences_to_the_terminal() -> None:
    outcome = judge(400, {}, b"\x1b[2J\x1b]0;owned\x07 bad\r\nrequest" + b"x" * 2000, SOP)
    assert "\x1b" not in outcome.reason and "\x07" not in outcome.reason and "\n" not in outcome.reason
    assert len(outcome.reason) < 600
    assert printable("a\tb\x00c") == "a b c"
