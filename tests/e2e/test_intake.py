"""What the page takes in from a drop: every file is indexed or listed as skipped with its reason (names the
File System Access walk does not show included), a file dropped twice is indexed once, and several
versions of one image (one SOP Instance UID) become one choice instead of colliding zip entries.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pydicom
import pytest
from page_actions import KEY_HEX, preset_key
from playwright.sync_api import expect
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


def test_copies_of_one_file_under_unsafe_names(recorded: Any, server: str, e2e: Any, tmp_path: Path) -> None:
    """The issue's folder: 12 copies of one file. One is listed; the others are skipped as identical
    copies of it (the zip would otherwise hold 12 entries with one name)."""
    top = tmp_path / "copies"
    top.mkdir()
    names = [*UNSAFE_NAMES[:11], "plain.dcm"]
    data = (TEST_FILES / "CT_small.dcm").read_bytes()
    for n in names:
        (top / n).write_bytes(data)
    page = recorded.page
    _open(page, server, e2e)
    e2e.drop_paths(page, "#drop-zone", [top])
    _listed(page, "1 DICOM files in the list, 11 skipped")
    [kept] = _state(page, "state.files.map((f) => f.name)")
    assert _skipped(page) == {
        f"copies/{n}": f"identical copy of {kept}" for n in names if f"copies/{n}" != kept
    }
    assert _state(page, "state.setAside") == []


def test_a_folder_dropped_twice_is_listed_once(recorded: Any, server: str, e2e: Any, tmp_path: Path) -> None:
    top = tmp_path / "case"
    top.mkdir()
    for i in range(3):
        (top / f"{i}.dcm").write_bytes(_distinct_dicom(str(i)))
    (top / "notes.txt").write_text("not an image")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("inside/z.dcm", _distinct_dicom("zipped"))
    (top / "more.zip").write_bytes(buf.getvalue())
    page = recorded.page
    _open(page, server, e2e)
    e2e.drop_paths(page, "#drop-zone", [top])
    _listed(page, "4 DICOM files in the list, 1 skipped.")
    e2e.drop_paths(page, "#drop-zone", [top])
    _listed(page, "5 dropped again were already in the list")
    assert page.inner_text("#index-progress").startswith("4 DICOM files in the list, 1 skipped")
    assert len(_state(page, "state.files")) == 4 and len(_skipped(page)) == 1
    assert page.locator("tr.series").first.locator("td").nth(3).inner_text() == "4"  # Images


def _deidentified(path: Path) -> tuple[str, bytes]:
    from anonymizer.config import Config
    from anonymizer.engine import deidentify
    from anonymizer.keys import SecretKey

    r = deidentify(path.read_bytes(), Config(key=SecretKey(bytes.fromhex(KEY_HEX))))
    return f"{r.study_instance_uid}/{r.series_instance_uid}/{r.sop_instance_uid}.dcm", r.data


def _download(page: Any, tmp_path: Path, name: str) -> dict[str, bytes]:
    with page.expect_download(timeout=120_000) as info:
        page.click("#run")
    path = tmp_path / name
    info.value.save_as(path)
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        assert len(names) == len(set(names)), "two zip entries with one name"
        return {n: z.read(n) for n in names if n.endswith(".dcm")}


def test_versions_of_one_image_are_one_choice(recorded: Any, server: str, e2e: Any, tmp_path: Path) -> None:
    """pydicom's MR_small variants: one SOP Instance UID, eight transfer syntaxes (the issue: 37 zip
    entries with 32 names). One is kept (the first by name), the others are set aside and named as such;
    an identical copy is skipped; the dialog on the series row picks another version, and the zip holds
    exactly that one."""
    top = tmp_path / "mr"
    top.mkdir()
    for n in MR_VARIANTS:
        (top / n).write_bytes((TEST_FILES / n).read_bytes())
    (top / "copy.dcm").write_bytes((TEST_FILES / "MR_small.dcm").read_bytes())
    assert len(MR_VARIANTS) >= 6
    assert len({pydicom.dcmread(top / n, stop_before_pixels=True).SOPInstanceUID for n in MR_VARIANTS}) == 1
    page = recorded.page
    _open(page, server, e2e)
    e2e.drop_paths(page, "#drop-zone", [top])
    _listed(page, "1 DICOM files in the list, 1 skipped")
    e2e.wait_state(page, "ready", timeout=60)
    assert _state(page, "state.files.map((f) => f.name)") == ["mr/MR_small.dcm"]
    assert _skipped(page) in (
        {"mr/copy.dcm": "identical copy of mr/MR_small.dcm"},
        {"mr/MR_small.dcm": "identical copy of mr/copy.dcm"},
    )
    series_key = _state(page, "[...state.series.keys()][0]")
    others = [f"mr/{n}" for n in MR_VARIANTS if n != "MR_small.dcm"]
    reason = "another version of the same image was kept"
    assert sorted(_state(page, "state.setAside"), key=lambda s: s["name"]) == [
        {"name": n, "reason": reason, "seriesKey": series_key} for n in others
    ]
    row = page.locator("tr.series")
    flag = row.locator(".flag.versions")
    assert flag.inner_text() == f"{len(MR_VARIANTS)} versions of one image: keeping mr/MR_small.dcm"
    assert row.locator("td").nth(3).inner_text() == "1"  # Images
    page.locator("canvas.thumb[data-thumb]").wait_for(state="attached")
    row.get_by_role("button", name="Choose the version to keep").scroll_into_view_if_needed()
    e2e.screenshot(page, "intake-01-versions-flag")

    name, data = _deidentified(top / "MR_small.dcm")
    assert _download(page, tmp_path, "first.zip") == {name: data}

    row.get_by_role("button", name="Choose the version to keep").click()
    dialog = page.get_by_role("dialog", name="Versions of one image")
    dialog.wait_for()
    assert dialog.get_by_role("radio", name="mr/MR_small.dcm").is_checked()
    rle = dialog.get_by_role("radio", name="mr/MR_small_RLE.dcm")
    assert "RLE Lossless" in dialog.inner_text()
    rle.check()
    e2e.screenshot(page, "intake-02-versions-dialog")
    dialog.get_by_role("button", name="Keep this version").click()
    dialog.wait_for(state="hidden")
    # Focus back on the row's (redrawn) button.
    expect(row.get_by_role("button", name="Choose the version to keep (mr/MR_small_RLE.dcm)")).to_be_focused()
    expect(flag).to_have_text(f"{len(MR_VARIANTS)} versions of one image: keeping mr/MR_small_RLE.dcm")
    aside = {s["name"] for s in _state(page, "state.setAside")}
    assert "mr/MR_small.dcm" in aside and "mr/MR_small_RLE.dcm" not in aside and len(aside) == len(others)
    assert _state(page, "state.files.map((f) => f.name)") == ["mr/MR_small_RLE.dcm"]

    name, data = _deidentified(top / "MR_small_RLE.dcm")
    assert _download(page, tmp_path, "second.zip") == {name: data}
