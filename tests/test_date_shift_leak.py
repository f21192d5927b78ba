"""The known-plaintext test of the date shift (issue 12): no public date carries the patient's shift.

Under Retain Longitudinal Temporal Information with Modified Dates every date of the patient's care moves by
one secret shift. Any other date that is shifted too gives the shift away to whoever knows its true value (the
version of a context group, a scanner's calibration), and with it every true date of that patient. So: no
output date differs from its input by exactly the patient's shift unless its kind (data/dates.csv) is `care`;
every `care` date present is shifted; dates of public resources are kept as written.
"""

from __future__ import annotations

import datetime as _dt
import io
from functools import cache
from pathlib import Path
from typing import Any

import pydicom
import pytest
from conftest import TEST_KEY
from corpus import file, public_files
from pydicom.datadict import DicomDictionary
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence

from anonymizer.config import Config
from anonymizer.engine import deidentify, plan_bytes
from anonymizer.errors import DeidentificationError
from anonymizer.planning.plan import Plan, Step
from anonymizer.rules.date_kinds import DateKind, date_kind, date_reason, date_vr
from anonymizer.rules.dates import InvalidDateError, shift_value
from anonymizer.rules.options import DEFAULT_OPTIONS, Option
from anonymizer.rules.pseudonyms import Derivations, patient_identity

MODIFIED = Config(key=TEST_KEY, options=DEFAULT_OPTIONS)
DATE_TAGS = sorted(tag for tag, entry in DicomDictionary.items() if entry[0] in ("DA", "DT"))
ANATOMIC_REGION = 0x00082218  # not in Table E.1-1: a kept sequence whose items are cleaned
REFERENCED_IMAGE = 0x00081140  # X/Z/U*: kept, UIDs mapped, items cleaned


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, MultiValue)):
        return [str(v) for v in value]
    return [str(value)]


def _output(step: Step) -> list[str] | None:
    """What the plan writes for a step (apply.py does exactly this; test_engine holds them equal)."""
    if step.action in ("X", "Z"):
        return None
    return _values(step.old if step.action == "K" else step.new)


def _shifted(vr: str, value: str, days: int) -> str | None:
    try:
        return shift_value(vr, value, days) if value.strip() else None
    except InvalidDateError:
        return None


def check_plan(plan: Plan, shift: int) -> list[str]:
    """Every way the plan's dates could reveal the shift or leave a care date unshifted, in words."""
    problems = []
    for step in plan.dataset:
        for s in step.walk():
            vr = date_vr(s.tag, s.vr)
            if s.created or vr not in ("DA", "DT") or s.tag >> 16 & 1:
                continue
            kind = date_kind(s.tag)
            old, new = _values(s.old), _output(s)
            where = f"{s.path} {s.keyword} ({kind and kind.value}) {s.action}: {old} -> {new}"
            if kind is None:
                if new:
                    problems.append(f"a date of unknown kind is written: {where}")
                continue
            if not new:
                continue
            expected = [_shifted(vr, v, shift) for v in old]
            if kind is DateKind.CARE:
                if any(e is not None for e in expected) and new != expected:
                    problems.append(f"a care date is not shifted: {where}")
                continue
            if any(e is not None and e == n for e, n in zip(expected, new, strict=False)):
                problems.append(f"carries the patient's shift: {where}")
            if kind is DateKind.RESOURCE and new != old:
                problems.append(f"a resource date is not kept as written: {where}")
    return problems


def _shift_of(data: bytes) -> int:
    ds = pydicom.dcmread(io.BytesIO(data), force=True)
    return Derivations(TEST_KEY).date_shift_days(patient_identity(ds))


# -- the public test files ------------------------------------------------------------------------------
FILES = public_files()


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_public_file_dates(path: Path) -> None:
    data = path.read_bytes()
    try:
        plan = plan_bytes(data, MODIFIED, path=path.name)
    except DeidentificationError:
        return  # refused: nothing written (test_engine checks the reason)
    assert check_plan(plan, _shift_of(data)) == []


# -- a CT with every dictionary date planted ------------------------------------------------------------
def _planted_value(i: int, vr: str) -> str:
    day = _dt.date(2002, 9, 4) + _dt.timedelta(days=i)
    return day.strftime("%Y%m%d") + ("101112" if vr == "DT" else "")


def _plant_all(ds: Dataset, offset: int) -> None:
    for i, tag in enumerate(DATE_TAGS):
        vr = DicomDictionary[tag][0]
        ds.add_new(tag, vr, _planted_value(i + offset, vr))


def _save(ds: Dataset) -> bytes:
    buf = io.BytesIO()
    ds.save_as(buf)
    return buf.getvalue()


@cache
def every_date_ct() -> bytes:
    """CT_small with every DA/DT attribute of the dictionary at the top level and in two kept sequences."""
    ds = pydicom.dcmread(file("CT_small.dcm"))
    _plant_all(ds, 0)
    region = Dataset()
    region.CodeValue, region.CodingSchemeDesignator, region.CodeMeaning = "T-D1100", "SRT", "Head"
    _plant_all(region, 200)
    ds.add_new(ANATOMIC_REGION, "SQ", Sequence([region]))
    ref = Dataset()
    ref.ReferencedSOPClassUID = ds.SOPClassUID
    ref.ReferencedSOPInstanceUID = "1.2.826.0.1.3680043.10.997.77"
    _plant_all(ref, 400)
    ds.add_new(REFERENCED_IMAGE, "SQ", Sequence([ref]))
    return _save(ds)


def test_every_date_planted_reveals_no_shift() -> None:
    data = every_date_ct()
    plan = plan_bytes(data, MODIFIED)
    assert check_plan(plan, _shift_of(data)) == []
    planted = {s.tag for top in plan.dataset for s in top.walk() if date_kind(s.tag) is not None}
    assert planted == set(DATE_TAGS)
    # Every care date is shifted at the top level but the two the table removes under every date option.
    unshifted = {s.keyword for s in plan.dataset if date_kind(s.tag) is DateKind.CARE and s.action != "shift"}
    assert unshifted == {"PatientBirthDate", "GPSTimeStamp"}
    for s in plan.dataset:
        if date_kind(s.tag) in (DateKind.RESOURCE, DateKind.OTHER):
            assert date_reason(s.tag) in s.rule, s.path  # the plan says why it is not shifted


@pytest.mark.parametrize("tag", [0x00080106, 0x00080107, 0x0040DB06, 0x0040DB07])
def test_resource_versions_are_kept_in_the_file_written(tag: int) -> None:
    data = every_date_ct()
    original = pydicom.dcmread(io.BytesIO(data))
    out = pydicom.dcmread(io.BytesIO(deidentify(data, MODIFIED).data))
    assert out[tag].value == original[tag].value
    assert out[ANATOMIC_REGION][0][tag].value == original[ANATOMIC_REGION][0][tag].value
    step = next(s for s in plan_bytes(data, MODIFIED).dataset if s.tag == tag)
    assert step.action == "K" and "public resource" in step.rule


def test_care_and_other_dates_in_the_file_written() -> None:
    data = every_date_ct()
    original = pydicom.dcmread(io.BytesIO(data))
    out = pydicom.dcmread(io.BytesIO(deidentify(data, MODIFIED).data))
    shift = _shift_of(data)
    assert out.StudyDate == shift_value("DA", original.StudyDate, shift)
    assert out.AcquisitionDateTime == shift_value("DT", original.AcquisitionDateTime, shift)
    assert out[ANATOMIC_REGION][0].StudyDate == shift_value(
        "DA", original[ANATOMIC_REGION][0].StudyDate, shift
    )
    for keyword in ("DateOfLastCalibration", "SOPAuthorizationDateTime", "ProductExpirationDateTime"):
        assert keyword not in out, f"{keyword}: the Basic Profile's X applies"
    assert "StudyUpdateDateTime" in out  # unlisted care date: shifted
    assert out.StudyUpdateDateTime == shift_value("DT", original.StudyUpdateDateTime, shift)
    assert "ExpirationDateTime" not in out  # unlisted other date: removed


def test_a_date_of_a_tag_the_dictionary_does_not_know_is_removed() -> None:
    ds = pydicom.dcmread(file("CT_small.dcm"))
    ds.add_new(0x00221000, "DT", "20020904101112")  # (0022,1000): an even tag the dictionary does not know
    plan = plan_bytes(_save(ds), MODIFIED)
    step = next(s for s in plan.dataset if s.tag == 0x00221000)
    assert step.action == "X", step.rule


# -- dates written with another VR ----------------------------------------------------------------------
def _wrong_vr_ct() -> bytes:
    ds = pydicom.dcmread(file("CT_small.dcm"))
    ds.add_new(0x00080021, "IS", "20020904")  # Series Date as IS
    ds.add_new(0x00080012, "CS", "20020905")  # Instance Creation Date as CS
    ds.add_new(0x0008002A, "LO", "20020906101112")  # Acquisition DateTime as LO
    ds.add_new(0x00080023, "LO", "not a date")  # Content Date as LO, not parseable
    ds.add_new(0x00080106, "LO", "20020907")  # Context Group Version as LO: a resource
    ds.add_new(0x00181200, "SH", "20020908")  # Date of Last Calibration as SH: other
    ds.add_new(0x00080030, "SH", "101112")  # Study Time as SH: a time, kept under whole-day shifts
    ds.add_new(0x00080031, "LO", "at noon, Dr Who")  # Series Time as LO, not a time
    return _save(ds)


def test_dates_written_with_another_vr_are_handled_as_dates() -> None:
    data = _wrong_vr_ct()
    shift = _shift_of(data)
    plan = plan_bytes(data, MODIFIED)
    assert check_plan(plan, shift) == []
    out = pydicom.dcmread(io.BytesIO(deidentify(data, MODIFIED).data))
    assert out[0x00080021].VR == "IS" and str(out[0x00080021].value) == shift_value("DA", "20020904", shift)
    assert out[0x00080012].value == shift_value("DA", "20020905", shift)
    assert out[0x0008002A].value == shift_value("DT", "20020906101112", shift)
    assert out[0x00080023].value not in ("not a date", "")  # not a date: replaced, as for a DA
    assert out[0x00080106].value == "20020907"
    assert 0x00181200 not in out
    assert out[0x00080030].value == "101112"
    assert out[0x00080031].value == "ANONYMIZED"  # not a time: a dummy of the VR it was written with


@pytest.mark.parametrize(
    ("options", "kept"),
    [
        (frozenset({Option.RETAIN_FULL_DATES}), True),  # every date kept as written, as before
        (frozenset(), False),  # Basic: no date kept, none shifted, as before
    ],
    ids=["full-dates", "basic"],
)
def test_other_date_options_are_unchanged(options: frozenset[Option], kept: bool) -> None:
    data = every_date_ct()
    plan = plan_bytes(data, Config(key=TEST_KEY, options=options))
    shift = _shift_of(data)
    for top in plan.dataset:
        for s in top.walk():
            if date_kind(s.tag) is None or s.vr not in ("DA", "DT"):
                continue
            old, new = _values(s.old), _output(s)
            if kept:
                # Patient's Birth Date is Z and GPS Time Stamp X under every date option (Table E.1-1)
                assert new == old or (new is None and s.tag in (0x00100030, 0x00160077)), s.path
            elif new:
                assert new != old and new != [shift_value(s.vr, v, shift) for v in old], s.path
