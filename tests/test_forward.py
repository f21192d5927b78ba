"""Forwarding exactly (app/forward.py) against a PACS that misbehaves as scripted (tests/fake_pacs.py):
redirects are failures, a final refusal does not block the queue (also across a restart), busy answers are
retried after Retry-After, credentials reach the PACS and never the log."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_pacs import Answer, FakePacs, fake_pacs, refused, stored

from app import forward_state
from app.forward import Forwarder
from app.forward_target import Credentials, ForwardTarget, Scheme
from app.store import Store
from app.stow_answer import Verdict

STUDY, SERIES = "2.25.100", "2.25.200"


def _fake_instance(sop: str) -> bytes:
    return b"DICM-fake " + sop.encode() + b"\r\n"  # the PACS here reads only which SOP it is


def _store(tmp_path: Path, count: int) -> tuple[Store, list[str]]:
    store = Store(tmp_path / "data")
    sops = [f"2.25.{i + 1}" for i in range(count)]
    for sop in sops:
        store.put(
            _fake_instance(sop),
            study=STUDY,
            series=SERIES,
            sop=sop,
            sop_class="1.2",
            token_id=1,
            attributes="{}",
        )
    return store, sops


def _outcomes(store: Store) -> dict[str, tuple[str, int | None, str]]:
    with sqlite3.connect(store.db_path) as db:
        rows = db.execute("SELECT sop_instance_uid, outcome, http_status, reason FROM forwarded").fetchall()
    return {sop: (outcome, status, reason) for sop, outcome, status, reason in rows}


def _run(store: Store, pacs: FakePacs, target: ForwardTarget | None = None) -> list[float]:
    """Forward what `store` holds until the queue settles; the back-off waits asked for."""
    waits: list[float] = []
    forwarder = Forwarder(
        target or ForwardTarget(pacs.url),
        store.db_path,
        timeout=10,
        wait=waits.append,
    )
    forwarder.start(store.root)
    assert forwarder.idle(20), "the queue did not settle"
    forwarder.stop()
    return waits


def _by_sop(answers: dict[str, Answer | list[Answer]]) -> Callable[[bytes], Answer]:
    """A PACS rule: the answer for the SOP in the body (a list: one per attempt, the last repeats)."""

    def rule(body: bytes) -> Answer:
        for sop, answer in answers.items():
            if _fake_instance(sop) in body:
                if isinstance(answer, list):
                    return answer.pop(0) if len(answer) > 1 else answer[0]
                return answer
        raise AssertionError("unexpected instance")

    return rule


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_final_failure_never_followed(tmp_path: Path, status: int) -> None:
    store, (sop, nxt) = _store(tmp_path, 2)
    with fake_pacs() as pacs:
        pacs.rule = _by_sop(
            {sop: Answer(status, b"", {"Location": pacs.url + "/elsewhere"}), nxt: stored(nxt)}
        )
        _run(store, pacs)
        assert [r.method for r in pacs.requests] == ["POST", "POST"]  # no GET to the Location
    outcome, http_status, reason = _outcomes(store)[sop]
    assert (outcome, http_status) == ("failed", status)
    assert "/dicom-web/elsewhere" in reason and "redirect" in reason
    assert _outcomes(store)[nxt][0] == "delivered"


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (Answer(400, b"Missing Series Instance UID"), "400 Bad Request: Missing Series Instance UID"),
        (Answer(403, b'{"Message": "Forbidden", "Details": "not in this project"}'), "not in this project"),
        (Answer(404, b""), "404 Not Found"),
        (None, "Failure Reason 0xA900 (Error: data set does not match SOP Class): wrong IOD"),
    ],
)
def test_a_4xx_is_final_with_the_pacs_reason_and_the_queue_goes_on(
    tmp_path: Path, answer: Answer | None, words: str
) -> None:
    store, (sop, nxt) = _store(tmp_path, 2)
    with fake_pacs() as pacs:
        pacs.rule = _by_sop({sop: answer or refused(409, sop, 0xA900, "wrong IOD"), nxt: stored(nxt)})
        _run(store, pacs)
        assert len(pacs.posts()) == 2  # the refused one once, then the next
    outcome, _, reason = _outcomes(store)[sop]
    assert outcome == "failed" and words in reason
    assert _outcomes(store)[nxt][0] == "delivered"


@pytest.mark.parametrize(
    ("busy", "waited"),
    [
        (Answer(503, b"down for maintenance", {"Retry-After": "7"}), [7.0]),
        (Answer(429, b"slow down", {"Retry-After": "2"}), [2.0]),
        (Answer(408, b""), [1.0]),
        (Answer(500, b"oops"), [1.0]),
    ],
)
def test_busy_answers_are_retried_after_retry_after(
    tmp_path: Path, busy: Answer, waited: list[float]
) -> None:
    store, (sop,) = _store(tmp_path, 1)
    with fake_pacs() as pacs:
        pacs.rule = _by_sop({sop: [busy, stored(sop)]})
        waits = _run(store, pacs)
        assert len(pacs.posts()) == 2
    assert waits == waited
    assert _outcomes(store)[sop][0] == "delivered"


def test_no_answer_is_retried_with_back_off(tmp_path: Path) -> None:
    store, (sop,) = _store(tmp_path, 1)
    waits: list[float] = []
    forwarder = Forwarder(ForwardTarget("http://127.0.0.1:9/dicom-web"), store.db_path, wait=waits.append)

    def stop_after_three(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            forwarder.stop()

    forwarder.wait = stop_after_three
    assert forwarder.deliver(sop, store.path_for(STUDY, SERIES, sop)) is None
    assert waits == [1.0, 2.0, 4.0]
    outcome, status, reason = _outcomes(store)[sop]
    assert (outcome, status) == ("retrying", None) and "no answer from the PACS" in reason


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        ("failed-a900", Verdict.FAILED),
        ("failed-a700", Verdict.RETRYING),
        ("neither", Verdict.FAILED),  # Orthanc 1.10 when its storage is full
        ("html", Verdict.FAILED),
        ("stored", Verdict.DELIVERED),
    ],
)
def test_a_200_answer_is_read(tmp_path: Path, answer: str, verdict: Verdict) -> None:
    store, (sop,) = _store(tmp_path, 1)
    answers = {
        "failed-a900": refused(200, sop, 0xA900),
        "failed-a700": refused(202, sop, 0xA700, "disk full"),
        "neither": Answer(200, b'{"00081198": {"vr": "SQ"}, "00081199": {"vr": "SQ"}}'),
        "html": Answer(200, b"<html>Welcome</html>", {"Content-Type": "text/html"}),
        "stored": stored(sop),
    }
    with fake_pacs() as pacs:
        pacs.answer(answers[answer], stored(sop))
        _run(store, pacs)
        tries = len(pacs.posts())
    assert tries == (2 if verdict is Verdict.RETRYING else 1)
    expected = Verdict.DELIVERED if verdict is Verdict.RETRYING else verdict
    assert _outcomes(store)[sop][0] == expected.value


def test_a_final_failure_does_not_block_later_instances_across_a_restart(tmp_path: Path) -> None:
    store, (bad, good) = _store(tmp_path, 2)
    with fake_pacs() as pacs:
        pacs.rule = _by_sop({bad: Answer(422, b"no"), good: Answer(503, b"busy")})
        first = Forwarder(ForwardTarget(pacs.url), store.db_path, wait=lambda s: first.stop())
        first.start(store.root)
        first.thread.join(20)
        assert _outcomes(store)[bad][0] == "failed" and _outcomes(store)[good][0] == "retrying"
        pacs.requests.clear()
        pacs.rule = _by_sop({bad: Answer(422, b"no"), good: stored(good)})
        _run(Store(store.root), pacs)  # a restart: a new store and forwarder on the same folder
        assert [r.body.count(_fake_instance(good)) for r in pacs.posts()] == [1]  # not the failed one
    assert _outcomes(store)[good][0] == "delivered" and _outcomes(store)[bad][0] == "failed"


def test_a_replaced_instance_is_sent_again_even_after_a_final_failure(tmp_path: Path) -> None:
    store, (sop,) = _store(tmp_path, 1)
    with fake_pacs() as pacs:
        pacs.answer(Answer(400, b"no"))
        _run(store, pacs)
        assert _outcomes(store)[sop][0] == "failed"
        store.put(
            _fake_instance(sop) + b"v2",
            study=STUDY,
            series=SERIES,
            sop=sop,
            sop_class="1.2",
            token_id=1,
            attributes="{}",
        )
        pacs.answer(stored(sop))
        _run(store, pacs)
    assert _outcomes(store)[sop][0] == "delivered"


def test_rows_of_an_older_data_folder_stay_delivered(tmp_path: Path) -> None:
    store, (old, new) = _store(tmp_path, 2)
    with sqlite3.connect(store.db_path) as db:  # the table as before this change: three columns
        db.execute("DROP TABLE forwarded")
        db.execute("CREATE TABLE forwarded (sop_instance_uid TEXT PRIMARY KEY, url TEXT, at TEXT)")
        db.execute("INSERT INTO forwarded VALUES (?, 'http://x/studies', '2024-01-01T00:00:00Z')", (old,))
    with forward_state.connect(store.db_path) as db:
        assert forward_state.queued(db) == [(new, STUDY, SERIES)]
    assert _outcomes(store)[old][0] == "delivered"


@pytest.mark.parametrize(
    ("credentials", "header"),
    [
        (Credentials(Scheme.BEARER, "", "s3cret-token"), "Bearer s3cret-token"),
        (Credentials(Scheme.BASIC, "pacs", "s3cret-pw"), "Basic cGFjczpzM2NyZXQtcHc="),
    ],
)
def test_credentials_reach_the_pacs_and_never_the_log_or_the_status(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, credentials: Credentials, header: str
) -> None:
    store, (sop,) = _store(tmp_path, 1)
    caplog.set_level(logging.DEBUG)
    with fake_pacs() as pacs:
        # a careless PACS that echoes the request's headers in its refusal
        pacs.rule = lambda body: Answer(400, f"bad request; you sent Authorization: {header}".encode())
        _run(store, pacs, target=ForwardTarget(pacs.url, credentials))
        assert pacs.posts()[0].headers["Authorization"] == header
    reason = _outcomes(store)[sop][2]
    for secret in (credentials.secret, header.split(" ", 1)[1]):
        assert secret not in caplog.text and secret not in reason
    assert secret not in repr(ForwardTarget(pacs.url, credentials))
