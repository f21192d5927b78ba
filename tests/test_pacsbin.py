"""The legacy Pacsbin profile: exactly CTP's values where its enabled rules apply, the Basic Profile
everywhere else (every depth, private tags, curves, overlays, file meta)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pydicom
from conftest import TEST_KEY
from corpus import file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from anonymizer.config import PACSBIN, Config
from anonymizer.engine import deidentify
from anonymizer.legacy.ctp import ctp_hash, ctp_hashdate_shift_days, ctp_hashuid, ctp_shift_date
from anonymizer.legacy.ctp_script import load_builtin_pacsbin

CLOCK = datetime(2026, 11, 25, 13, 14, 15, tzinfo=UTC)
CONFIG = Config(key=TEST_KEY, profile=PACSBIN, script=load_builtin_pacsbin(), clock=lambda: CLOCK)
ROOT = "1613192914"


def test_ctp_values_at_the_top_level() -> None:
    data = file("CT_small.dcm").read_bytes()
    original = pydicom.dcmread(io.BytesIO(data))
    out = pydicom.dcmread(io.BytesIO(deidentify(data, CONFIG).data))
    assert out.PatientID == ctp_hash(original.PatientID, 10)
    assert str(out.PatientName) == ctp_hash(original.PatientID, 10)
    assert out.SOPInstanceUID == ctp_hashuid(ROOT, original.SOPInstanceUID)
    assert out.StudyInstanceUID == ctp_hashuid(ROOT, original.StudyInstanceUID)
    shift = ctp_hashdate_shift_days(original.PatientID)
    assert out.StudyDate == ctp_shift_date(original.StudyDate, shift)
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
    assert out.PatientIdentityRemoved == "YES"
    assert str(out.DeidentificationMethod) == "Pacsbin: DICOM-PS3.15E-Basic: 20261125:131415"
    assert "SeriesDate" not in out and "InstitutionName" not in out


def test_fallback_is_consistent_with_the_script() -> None:
    ds = pydicom.dcmread(file("CT_small.dcm"))
    ref = Dataset()
    ref.ReferencedSOPClassUID = ds.SOPClassUID
    ref.ReferencedSOPInstanceUID = ds.SOPInstanceUID
    series = Dataset()
    series.SeriesInstanceUID = ds.SeriesInstanceUID
    series.ReferencedInstanceSequence = Sequence([ref])
    ds.ReferencedSeriesSequence = Sequence([series])  # disabled in the script: Basic Profile fallback
    buf = io.BytesIO()
    ds.save_as(buf)
    out = pydicom.dcmread(io.BytesIO(deidentify(buf.getvalue(), CONFIG).data))
    item = out.ReferencedSeriesSequence[0]
    # UIDs inside sequences are mapped with the script's own hashuid, so references still resolve
    assert item.SeriesInstanceUID == out.SeriesInstanceUID
    assert item.ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == out.SOPInstanceUID
    assert item.ReferencedInstanceSequence[0].ReferencedSOPClassUID == ds.SOPClassUID
    assert not [e for e in out.iterall() if e.tag.is_private]
