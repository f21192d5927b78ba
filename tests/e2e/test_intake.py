"""What the page takes in from a drop: every file is indexed or listed as skipped with its reason (names the
File System Access walk does not show included).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pydicom
import pytest
from page_actions import preset_key
from pydicom.uid import generate_uid

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
# Names Chromium's File System Access API leaves out of a directory listing (measured: values() omits
# them; the entries API and the folder picker list them): reserved on Windows, ending in a dot or "~",
# shell files, characters Windows forbids, a right-to-left override.
UNSAFE_NAMES = [
    "IM_2024-01-01T12:30:00.dcm",
    "scan 12:30.dcm",
    "what?.dcm",
    "a|b.dcm",
    '"quoted".dcm',
    "\u202egpj.dcm",
    "trailing.",
    "con",
    "x~",
    "nul.dcm",
    "a<b>.dcm",
]
NOT_DICOM_UNSAFE = ["desktop.ini", "x.lnk", "x.url"]
MR_VARIANTS = sorted(p.name for p in TEST_FILES.glob("MR_small*.dcm"))


def _distinct_dicom(seed: str) -> bytes:
    """CT_small with a SOP Instance UID of its own: a different image for the index."""
    ds = pydicom.dcmread(TEST_FILES / "CT_small.dcm")
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=[seed])
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _open(page: Any, server: str, e2e: Any, api: str = "handles") -> None:
    preset_key(page)
    if api == "entries":
        page.add_init_script("delete DataTransferItem.prototype.getAsFileSystemHandle")
    page.goto(server + "/")
    e2e.wait_state(page, "ready", timeout=60)


def _state(page: Any, expression: str) -> Any:
    """`expression` over the page's shared state (the same module instance the page uses)."""
    return page.evaluate(
        f"async () => {{ const {{ state }} = await import('/page.mjs'); return {expression}; }}"
    )


def _listed(page: Any, text: str) -> None:
    page.locator("#index-progress", has_text=text).wait_for(timeout=60_000)


def _skipped(page: Any) -> dict[str, str]:
    return {s["name"]: s["reason"] for s in _state(page, "state.skipped")}


@pytest.mark.parametrize("api", ["handles", "entries", "folder-picker"])
def test_every_file_of_a_drop_is_listed_or_skipped(
    recorded: Any, server: str, e2e: Any, tmp_path: Path, api: str
) -> None:
    """Names the handle walk cannot see (the issue: 12 files listed 2) are taken from the entries walk,
    in the dropped folder and in subfolders (also a subfolder with such a name)."""
    top = tmp_path / "case"
    (top / "12:30").mkdir(parents=True)
    (top / "ok").mkdir()
    dicom = [f"case/{n}" for n in UNSAFE_NAMES] + [
        "case/12:30/a.dcm",
        "case/12:30/b?.dcm",
        "case/ok/c.dcm",
        "case/ok/con",
    ]
    for rel in dicom:
        (tmp_path / rel).write_bytes(_distinct_dicom(rel))
    for n in NOT_DICOM_UNSAFE:
        (top / n).write_text("[.ShellClassInfo]\n")
    page = recorded.page
    _open(page, server, e2e, api)
    if api == "folder-picker":
        page.set_input_files("#pick-folder", str(top))
    else:
        e2e.drop_paths(page, "#drop-zone", [top])
    _listed(page, "in the list")
    assert page.inner_text("#index-progress").startswith(f"{len(dicom)} DICOM files in the list, 3 skipped")
    assert sorted(_state(page, "state.files.map((f) => f.name)")) == sorted(dicom)
    skipped = _skipped(page)
    assert skipped == {f"case/{n}": "not a DICOM file" for n in NOT_DICOM_UNSAFE}
    page.click("#skipped-summary")
    assert "case/desktop.ini: not a DICOM file" in page.inner_text("#skipped")
