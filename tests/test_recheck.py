"""The re-check process pool (app/recheck.py): how the upload reaches a re-check process (a private file,
removed after the check), what comes back from it, and what the server gets in the end (the stored form and
its digest, whatever travelled)."""

from __future__ import annotations

import glob
import hashlib
import os
import tempfile
from pathlib import Path

import pytest
from conftest import TEST_KEY, run_coroutine
from corpus import file
from test_stored_form import _with_phi_outside_the_data_set

from anonymizer.config import Config
from anonymizer.engine import deidentify
from anonymizer.reading.reader import MAX_INFLATED
from anonymizer.verification.stored_form import stored_form
from anonymizer.verification.verify import Policy, Verdict
from app.recheck import Recheck, check_and_hash, check_in_process


@pytest.fixture(scope="module")
def engine_output() -> bytes:
    return deidentify(file("CT_small.dcm").read_bytes(), Config(key=TEST_KEY)).data


def _upload(kind: str, output: bytes) -> bytes:
    """The engine's output as it is, or with PHI in its meta and preamble (the server rewrites both)."""
    return output if kind == "engine output" else _with_phi_outside_the_data_set(output)


@pytest.mark.parametrize(("kind", "sent_back"), [("engine output", False), ("client meta", True)])
def test_the_stored_form_comes_back_only_when_it_is_not_the_upload(
    engine_output: bytes,
    kind: str,
    sent_back: bool,
) -> None:
    """An engine output is stored as it came: its half-megabyte (for a CT slice) is not sent back through
    the pool's pipe. An upload whose meta or preamble the server rewrites comes back with the stored form."""
    data = _upload(kind, engine_output)
    verdict, digest, same = check_in_process(check_and_hash, data, Policy(), MAX_INFLATED)
    assert verdict.ok, verdict.problems
    assert same is not sent_back
    assert verdict.stored == (stored_form(data) if sent_back else b"")
    assert digest == hashlib.sha256(stored_form(data)).hexdigest()


def _refusing(data: bytes, policy: Policy, max_inflated: int) -> tuple[Verdict, str]:
    return Verdict(problems=["refused"]), hashlib.sha256(b"").hexdigest()


def test_a_refused_upload_is_never_taken_for_its_stored_form(engine_output: bytes) -> None:
    verdict, _, same = check_in_process(_refusing, engine_output, Policy(), MAX_INFLATED)
    assert not same and verdict.stored == b"" and not verdict.ok


@pytest.mark.parametrize("kind", ["engine output", "client meta"])
@pytest.mark.parametrize("workers", [0, 1])
def test_the_server_gets_the_stored_form_and_its_digest(
    engine_output: bytes,
    kind: str,
    workers: int,
) -> None:
    data = _upload(kind, engine_output)

    async def run() -> tuple[Verdict, str]:
        recheck = Recheck(Policy(), workers=workers, memory=0)
        try:
            return await recheck(data, MAX_INFLATED)
        finally:
            recheck.close()

    verdict, digest = run_coroutine(run())
    assert verdict.ok, verdict.problems
    assert verdict.stored == stored_form(data)
    assert digest == hashlib.sha256(verdict.stored).hexdigest()


def _seeing_the_hand_off(data: bytes, policy: Policy, max_inflated: int) -> tuple[Verdict, str]:
    """A check that reports the hand-off files it can see (in the re-check process)."""
    seen = []
    for path in glob.glob(os.path.join(os.environ["HANDOFF_PARENT"], "pacsbin-recheck-*", "*")):
        with open(path, "rb") as f:
            same = f.read() == data
        folder = os.stat(os.path.dirname(path)).st_mode & 0o777
        seen.append(f"{os.stat(path).st_mode & 0o777:o} in {folder:o}, the upload: {same}")
    return Verdict(problems=seen), ""


def test_the_upload_reaches_the_re_check_process_in_a_private_file_removed_after_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine_output: bytes
) -> None:
    """Not through the pool's pipe: 64 KiB at a time, pickled, about 1 ms of the server's CPU per CT slice."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("HANDOFF_PARENT", str(tmp_path))

    async def run() -> list[str]:
        recheck = Recheck(Policy(), workers=1, memory=0, check=_seeing_the_hand_off)
        try:
            verdict, _ = await recheck(engine_output, MAX_INFLATED)
            assert not list(tmp_path.glob("pacsbin-recheck-*/*")), "the hand-off file was not removed"
            return verdict.problems
        finally:
            recheck.close()

    assert run_coroutine(run()) == ["600 in 700, the upload: True"]
    assert not list(tmp_path.iterdir()), "the hand-off folder was not removed at close"
