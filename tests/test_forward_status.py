"""`python -m app forward status` (app/forward_status.py) and the --forward flags of `serve` (app/cli.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import forward_state
from app.cli import main
from app.store import Store
from app.stow_answer import Outcome, Verdict

STUDY, SERIES = "2.25.100", "2.25.200"
URL = "https://pacs.example/dicom-web/studies"


def _data(tmp_path: Path) -> Path:
    store = Store(tmp_path / "data")
    for i in range(1, 5):
        store.put(
            b"x" * i,
            study=STUDY,
            series=SERIES,
            sop=f"2.25.{i}",
            sop_class="1.2",
            token_id=1,
            attributes="{}",
        )
    with forward_state.connect(store.db_path) as db:
        forward_state.record(db, "2.25.1", URL, Outcome(Verdict.DELIVERED, "stored", 200), 1)
        forward_state.record(
            db, "2.25.2", URL, Outcome(Verdict.FAILED, "the PACS answered 409 Conflict: wrong IOD", 409), 1
        )
        forward_state.record(
            db, "2.25.3", URL, Outcome(Verdict.RETRYING, "the PACS answered 503 Service Unavailable", 503), 4
        )
    return store.root


def test_status_says_what_is_delivered_queued_and_failed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _data(tmp_path)
    assert main(["forward", "status", "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "4 instance(s)" in out
    assert "delivered: 1 (last at " in out and URL in out
    assert "queued: 2" in out and "2.25.3" in out and "attempt 4" in out and "503 Service Unavailable" in out
    assert "1 not tried yet" in out
    assert "failed: 1 (final" in out and "2.25.2" in out and "409 Conflict: wrong IOD" in out
    assert "    2.25.1  " not in out  # delivered ones are counted, listed only when asked
    assert main(["forward", "status", "--data", str(data), "--list-delivered"]) == 0
    assert "    2.25.1  " in capsys.readouterr().out


def test_status_of_a_folder_without_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["forward", "status", "--data", str(tmp_path / "none")]) == 0
    assert "No server data" in capsys.readouterr().out
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--forward", "http://pacs.example/dicom-web"], "over plain HTTP"),
        (["--forward-credentials", "f"], "--forward-credentials is for --forward URL"),
        (["--forward", "https://pacs.example/dw", "--forward-credentials", "absent"], "cannot read"),
    ],
)
def test_serve_refuses_a_bad_forward_at_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], words: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--dist", str(tmp_path), "--data", str(tmp_path / "d"), *flags])
    assert exit_.value.code == 2
    assert words in capsys.readouterr().err
