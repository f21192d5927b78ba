"""Storage: atomic files by UID, the duplicate rule, leftovers of a crash removed, UIDs validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.store import Store, StoreConflict

UIDS = {"study": "1.2.3", "series": "1.2.3.4", "sop": "1.2.3.4.5", "sop_class": "1.2.840.10008.5.1.4.1.1.2"}


def test_stored_once_replaced_by_its_uploader_refused_for_another(tmp_path: Path) -> None:
    store = Store(tmp_path)
    first = store.put(b"A" * 10, token_id=1, attributes="{}", **UIDS)
    assert first.outcome == "stored" and first.path.read_bytes() == b"A" * 10
    assert store.put(b"A" * 10, token_id=2, attributes="{}", **UIDS).outcome == "duplicate"
    with pytest.raises(StoreConflict):
        store.put(b"B" * 10, token_id=2, attributes="{}", **UIDS)
    assert first.path.read_bytes() == b"A" * 10
    assert store.put(b"B" * 10, token_id=1, attributes="{}", **UIDS).outcome == "replaced"
    assert first.path.read_bytes() == b"B" * 10
    assert len(store.query(1)) == 1
    assert not list(tmp_path.rglob("*.tmp"))
    assert store.query(2) == []  # listed for the uploader only


def test_leftover_temporary_files_are_removed_at_start(tmp_path: Path) -> None:
    store = Store(tmp_path)
    stored = store.put(b"x", token_id=1, attributes="{}", **UIDS)
    leftover = stored.path.with_name(".1.2.3.4.6.dcm.999.1.tmp")
    leftover.write_bytes(b"half")
    Store(tmp_path)
    assert not leftover.exists() and stored.path.exists()


@pytest.mark.parametrize("bad", ["../etc", "1.2.a", "", "1." + "2" * 70])
def test_uids_are_validated_before_they_become_paths(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="not a valid UID"):
        Store(tmp_path).put(b"x", token_id=1, attributes="{}", **{**UIDS, "sop": bad})
