"""Sanity tests for the synthetic test-data generator ``tests/synthetic/``.

These tests check the generator and its leak detector. They do not test the engine.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.datadict import dictionary_has_tag, dictionary_VR
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.encaps import generate_frames
from pydicom.filewriter import dcmwrite
from synthetic.all_table_rows import NOT_TOP_LEVEL, UNLISTED_BY_VR, all_table_rows_file
from synthetic.e11_table import NEW_TAG_VR_VM, table_rows, tag_str, vr_vm
from synthetic.jpeg import jpeg_file, jpeg_scan_data, jpeg_segments
from synthetic.planted import TOKEN_RE, PlantedFile, find_markers, get_path, scan_for_tokens
from synthetic.presentation_state import presentation_state_file
from synthetic.sr import sr_file
from synthetic.study import study_of_files

GENERATORS: dict[str, Callable[[], list[PlantedFile]]] = {
    "all_table_rows": lambda: [all_table_rows_file(0)],
    "sr": lambda: [sr_file(0)],
    "presentation_state": lambda: [presentation_state_file(0)],
    "jpeg": lambda: [jpeg_file(0)],
    "study": lambda: study_of_files(0),
}


@cache
def files(name: str) -> tuple[PlantedFile, ...]:
    return tuple(GENERATORS[name]())


def everything(f: PlantedFile) -> list[str]:
    return [*f.markers, *f.uids, *f.dates, *f.times, *f.numbers]


def csv_tags() -> set[str]:
    return {row.tag.upper() for row in table_rows()}


# --------------------------------------------------------------------------------------------
# Every file parses, rewrites, and is deterministic
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", GENERATORS)
def test_files_parse_and_rewrite(name: str) -> None:
    for f in files(name):
        ds = dcmread(io.BytesIO(f.data))
        for elem in ds.iterall():  # convert every value
            _ = elem.value
        buf = io.BytesIO()
        dcmwrite(buf, ds, enforce_file_format=True)
        again = dcmread(io.BytesIO(buf.getvalue()))
        assert again == ds
        assert again.file_meta == ds.file_meta


@pytest.mark.parametrize("name", GENERATORS)
def test_deterministic_per_seed(name: str) -> None:
    first = [f.data for f in GENERATORS[name]()]
    assert first == [f.data for f in files(name)]


def test_seeds_differ() -> None:
    a, b = all_table_rows_file(0), all_table_rows_file(1)
    assert a.data != b.data
    assert find_markers(b.data, {**a.markers, **a.uids}) == []


# --------------------------------------------------------------------------------------------
# The detector finds every planted value in the unmodified input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", GENERATORS)
def test_detector_finds_everything_in_input(name: str) -> None:
    for f in files(name):
        assert f.markers, f.name
        missing = set(everything(f)) - set(find_markers(f.data, f))
        assert not missing, f"{f.name}: detector misses {sorted(missing)[:10]}"
        assert f.leaks(f.data)  # and describes them
        tokens = {t.upper() for key in f.markers for t in TOKEN_RE.findall(key)}
        assert tokens <= set(scan_for_tokens(f.data)), f.name


def test_detector_forms_and_boundaries() -> None:
    token = "PHIx0042QZKW"
    assert find_markers(b"..phix0042qzkw..", [token]) == [token]
    assert find_markers("x PHIX0042QZKW y".encode("utf-16-le"), [token]) == [token]
    assert find_markers("PHIx0042QZKW".encode("utf-16-be"), [f"{token}^Given"]) == [f"{token}^Given"]
    assert find_markers(b"PHIx0042QZK", [token]) == []
    date = "19770413"
    for form in (b" 19770413 ", b"1977-04-13", b"1977:04:13 10:11", b"19770413101112.1+0100"):
        assert find_markers(form, [date]) == [date], form
    assert find_markers(b"2.25.1197704130", [date]) == []  # inside a UID: not a date leak
    assert find_markers(b"DS 4212345 ", ["4212345"]) == ["4212345"]
    assert find_markers(b"DS 4212345.0\\", ["4212345"]) == ["4212345"]
    assert find_markers(b"2.25.94212345", ["4212345"]) == []
    f = all_table_rows_file(0)
    assert find_markers(f.data, f, uids=False, temporal=False, numbers=False) == list(f.markers)


# --------------------------------------------------------------------------------------------
# Table E.1-1 coverage of all_table_rows_file
# --------------------------------------------------------------------------------------------


def carries_planted_value(elem: DataElement, f: PlantedFile) -> bool:
    """Whether ``elem`` holds one of the values ``f`` says it planted."""
    values: list[Any] = list(elem.value) if elem.VM > 1 and elem.VR != "SQ" else [elem.value]
    if elem.VR == "SQ":
        return len(elem.value) > 0 and any(carries_planted_value(e, f) for item in elem.value for e in item)
    for value in values:
        if isinstance(value, bytes):
            if scan_for_tokens(value):
                return True
            continue
        text = str(value)
        if TOKEN_RE.search(text) or text in f.uids or text in f.numbers:
            return True
        if text[:8] in f.dates or text in f.times:
            return True
    return any(where.startswith(f"({tag_str(elem.tag)})") for where in f.values)


def test_every_table_row_is_planted_at_top_level() -> None:
    f = files("all_table_rows")[0]
    ds = f.dataset()
    planted: list[str] = []
    wildcard: list[str] = []
    elsewhere: dict[str, str] = {}
    for row in table_rows():
        if row.is_wildcard:
            wildcard.append(row.tag)
            assert row.tag in f.table_rows
            continue
        tag = row.tag_int
        if row.tag in NOT_TOP_LEVEL:
            elsewhere[row.tag] = NOT_TOP_LEVEL[row.tag]
            continue
        assert tag in ds, f"{row.tag} {row.keyword} not planted at top level"
        assert carries_planted_value(ds[tag], f), f"{row.tag} {row.keyword}: {ds[tag]!r}"
        assert f.table_rows[row.tag] == tag_str(tag).join("()") + f" {row.keyword}"
        planted.append(row.tag)

    assert sorted(wildcard) == ["50xx,xxxx", "60xx,3000", "60xx,4000", "gggg,eeee"]
    assert elsewhere == NOT_TOP_LEVEL, "rows not at top level, with reasons"
    assert len(planted) + len(wildcard) + len(elsewhere) == len(table_rows()) == 657
    print(f"\n{len(planted)} of {len(table_rows())} Table E.1-1 rows planted at top level; others:")
    for row_tag, reason in {**elsewhere, **{w: f.table_rows[w] for w in wildcard}}.items():
        print(f"  {row_tag}: {reason}")


def test_rows_not_at_top_level_are_where_they_belong() -> None:
    f = files("all_table_rows")[0]
    ds = f.dataset()
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert f.table_rows["0002,0003"].startswith("file meta:")
    item = ds.ReferencedImageSequence[0]
    for tag in (0x00001000, 0x00001001, 0x00041511):
        assert tag in item and str(item[tag].value) in f.uids
        assert f.table_rows[tag_str(tag)].startswith("(0008,1140) ReferencedImageSequence[0] > ")
    deep = ds[0x00091016].value[0][0x00091011].value[0]  # private SQ, 2 levels down
    assert 0x00001000 in deep and 0x00001001 in deep and 0x00001030 in deep
    for tag in (0x00020016, 0x00020017, 0x00020018, 0x00020100, 0x00020102):
        assert tag in ds.file_meta
    assert TOKEN_RE.search(f.data[:128].decode("ascii", "replace"))


def test_wildcard_groups_and_private_attributes() -> None:
    f = files("all_table_rows")[0]
    ds = f.dataset()
    for group in (0x6000, 0x6002):
        for elem in (0x3000, 0x4000, 0x0022, 0x1500):
            assert carries_planted_value(ds[(group << 16) | elem], f)
    for tag in (0x50003000, 0x50002500, 0x50000022, 0x50000030, 0x50023000):
        assert carries_planted_value(ds[tag], f)
    private = [e for e in ds if e.tag.is_private and not e.tag.is_private_creator]
    assert len(private) >= 10
    assert any(e.VR == "SQ" for e in private)
    assert any(e.VR == "UN" for e in private)
    assert TOKEN_RE.search(ds[0x00110010].value)  # a private creator holding a token
    nested_private = ds.ReferencedSeriesSequence[0]
    assert any(e.tag.is_private and carries_planted_value(e, f) for e in nested_private)
    assert f.safe_private and ds[0x70531000].value == 1.234


def test_new_tags_and_unlisted_attributes() -> None:
    rows = {row.tag_int: row for row in table_rows() if not row.is_wildcard}
    for tag, (vr, _, keyword) in NEW_TAG_VR_VM.items():
        assert tag in rows and rows[tag].keyword == keyword
        if dictionary_has_tag(tag):  # a newer pydicom knows it: must agree
            assert dictionary_VR(tag) == vr
    missing = [tag_str(t) for t in rows if (t >> 16) not in (0x0000,) and not _has_vr(t)]
    assert missing == []
    listed = csv_tags()
    for tag, vr in UNLISTED_BY_VR.items():
        assert tag_str(tag) not in listed
        assert dictionary_VR(tag) == vr
    f = files("all_table_rows")[0]
    ds = f.dataset()
    for tag in UNLISTED_BY_VR:
        assert carries_planted_value(ds[tag], f), tag_str(tag)
    keywords = {row.keyword for row in table_rows()}
    for name in ("all_table_rows", "sr", "presentation_state", "jpeg", "study"):
        for f in files(name):
            top = {p.split("[")[0].split(".")[0] for p in f.kept if not p.startswith(("#", "file_meta"))}
            assert not top & keywords, f"{f.name}: kept attributes that E.1-1 lists: {top & keywords}"


def _has_vr(tag: int) -> bool:
    try:
        vr_vm(tag)
    except KeyError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# Kept values, relationships, special files
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", GENERATORS)
def test_kept_values_are_present(name: str) -> None:
    for f in files(name):
        ds = f.dataset()
        for path, value in f.kept.items():
            if path.startswith("#"):
                continue
            assert get_path(ds, path) == value, f"{f.name}: {path}"
        for key in f.kept:
            assert not find_markers(repr(f.kept[key]).encode(), f.markers), key


def test_uid_relationships_in_one_file() -> None:
    f = files("all_table_rows")[0]
    ds = f.dataset()
    sop = ds.SOPInstanceUID
    assert "file meta: (0002,0003)" in f.uids[sop] and "(0000,1000)" in f.uids[sop]
    ref = ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID
    assert ds.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == ref
    assert ds.ReferencedStudySequence[0].ReferencedSOPInstanceUID == ds.StudyInstanceUID
    assert ds.RequestAttributesSequence[0].StudyInstanceUID == ds.StudyInstanceUID
    assert all(len(uid) <= 64 for uid in f.uids)
    sr = files("sr")[0].dataset()
    evidence = sr.CurrentRequestedProcedureEvidenceSequence[0]
    assert evidence.StudyInstanceUID == sr.StudyInstanceUID
    image_refs = [i for i in sr.ContentSequence if i.ValueType == "IMAGE"]
    ev_sop = evidence.ReferencedSeriesSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID
    assert image_refs[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID == ev_sop


def test_key_dates_have_known_intervals() -> None:
    f = files("all_table_rows")[0]
    ds = f.dataset()
    days = {k: dt.datetime.strptime(v[:8], "%Y%m%d").date() for k, v in f.temporal.items()}
    study = days["StudyDate"]
    assert [(days[k] - study).days for k in ("SeriesDate", "AcquisitionDate", "ContentDate")] == [1, 2, 4]
    assert f.temporal["AcquisitionDateTime"].startswith(f.temporal["AcquisitionDate"])
    for keyword, value in f.temporal.items():
        assert ds[keyword].value == value


def test_study_of_files_relationships() -> None:
    study = files("study")
    by_patient: dict[str, list[Dataset]] = {}
    for f in study:
        by_patient.setdefault(f.labels["patient"], []).append(f.dataset())
    a, b, c = by_patient["A"], by_patient["B"], by_patient["C"]
    assert len(a) == 2 * 3 and len(b) == 2 and len(c) == 2
    assert len({d.StudyInstanceUID for d in a}) == 1
    assert len({d.SeriesInstanceUID for d in a}) == 2 == len({d.FrameOfReferenceUID for d in a})
    assert len({d.SOPInstanceUID for d in study_ds(study)}) == len(study)
    sops = {d.SOPInstanceUID for d in a}
    for d in a:
        assert d.ReferencedImageSequence[0].ReferencedSOPInstanceUID in sops - {d.SOPInstanceUID}
        if "SourceImageSequence" in d:
            assert d.SourceImageSequence[0].ReferencedSOPInstanceUID in sops
    assert len({(d.PatientName, d.PatientID) for d in a}) == 1 and a[0].PatientID != ""
    assert all(d.PatientID == "" and d.PatientName != "" and d.PatientBirthDate for d in b)
    assert all(d.PatientID == "" and d.PatientName == "" and not d.PatientBirthDate for d in c)
    assert len({d.StudyInstanceUID for d in a + b + c}) == 3
    for f in study:
        t = {k: dt.datetime.strptime(v[:8], "%Y%m%d").date() for k, v in f.temporal.items()}
        series = int(f.labels["series"])
        assert (t["SeriesDate"] - t["StudyDate"]).days == series + 1
        assert (t["ContentDate"] - t["SeriesDate"]).days == 1
    acquisition = [f.temporal["AcquisitionDateTime"] for f in study]
    assert len(set(acquisition)) == len(acquisition)


def study_ds(study: tuple[PlantedFile, ...]) -> list[Dataset]:
    return [f.dataset() for f in study]


def test_jpeg_codestream_markers() -> None:
    f = files("jpeg")[0]
    ds = f.dataset()
    frame = next(generate_frames(ds.PixelData, number_of_frames=1))
    segments = dict(jpeg_segments(frame))
    assert TOKEN_RE.search(segments[0xFE].decode("latin-1"))  # COM
    assert segments[0xE1].startswith(b"Exif\x00\x00") and scan_for_tokens(segments[0xE1])
    assert 0xC0 in segments  # baseline
    assert jpeg_scan_data(frame) == f.kept["#jpeg_scan_data"]
    assert ds.pixel_array.shape == (16, 16)


def test_sr_and_presentation_state_content() -> None:
    sr = files("sr")[0].dataset()
    value_types: set[str] = set()
    depth = 0

    def walk(items: Any, level: int) -> None:
        nonlocal depth
        depth = max(depth, level)
        for item in items:
            value_types.add(item.ValueType)
            if "ContentSequence" in item:
                walk(item.ContentSequence, level + 1)

    walk(sr.ContentSequence, 1)
    assert {"TEXT", "PNAME", "DATE", "TIME", "DATETIME", "UIDREF", "CODE", "CONTAINER"} <= value_types
    assert depth >= 4  # document root's content + 3 nested containers
    code = next(i for i in sr.ContentSequence if i.ValueType == "CODE").ConceptCodeSequence[0]
    assert code.CodingSchemeDesignator == "99LOCAL" and TOKEN_RE.search(code.CodeMeaning)
    for seq in ("VerifyingObserverSequence", "AuthorObserverSequence", "ParticipantSequence"):
        assert seq in sr
    ps = files("presentation_state")[0].dataset()
    text = ps.GraphicAnnotationSequence[0].TextObjectSequence[0]
    assert TOKEN_RE.search(text.UnformattedTextValue)
    assert TOKEN_RE.search(str(ps.ContentCreatorName))
    assert ps.ReferencedSeriesSequence[0].ReferencedImageSequence[0].ReferencedSOPInstanceUID == (
        ps.GraphicAnnotationSequence[0].ReferencedImageSequence[0].ReferencedSOPInstanceUID
    )
