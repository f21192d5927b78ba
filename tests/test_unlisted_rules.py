"""Where Table E.1-1 is silent (issue 12): unlisted text and binary at any depth, local codes wherever
they stand, private IODs, registered UIDs only, the product's extra rules, and the last scrub."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pydicom
import pytest
from conftest import TEST_KEY
from corpus import file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from anonymizer.config import Config
from anonymizer.engine import deidentify, plan_bytes
from anonymizer.rules.last_scrub import LAST_SCRUB
from anonymizer.rules.options import DEFAULT_OPTIONS, Option
from anonymizer.verification.verify import Policy, check_deidentified

CONFIG = Config(key=TEST_KEY)
PRIVATE_SOP_CLASS = "1.2.840.113619.4.30"  # a vendor's private SOP Class (not in PS3.3)


def _ct(edit: Callable[[Dataset], None]) -> bytes:
    ds = pydicom.dcmread(file("CT_small.dcm"))
    edit(ds)
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _out(data: bytes, options: frozenset[Option] = DEFAULT_OPTIONS) -> Dataset:
    return pydicom.dcmread(io.BytesIO(deidentify(data, Config(key=TEST_KEY, options=options)).data))


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def _strings(ds: Dataset) -> list[str]:
    return [str(e.value) for e in ds.iterall() if e.VR not in ("SQ", "OB", "OW")]


@pytest.mark.parametrize("scheme", ["99MYHOSP", "SIEMENS_RIS", "L"])
def test_local_codes_are_replaced_wherever_they_stand(scheme: str) -> None:
    def edit(ds: Dataset) -> None:
        ds.ProcedureCodeSequence = Sequence([_code("CTBR1", scheme, "CT BRAIN WO IVCON")])
        ds.PerformedProtocolCodeSequence = Sequence([_code("113691", "DCM", "IEC Body Dosimetry Phantom")])

    out = _out(_ct(edit))
    local = out.ProcedureCodeSequence[0]
    assert local.CodingSchemeDesignator == "99LOCAL"
    assert "CTBR1" not in _strings(out) and "CT BRAIN WO IVCON" not in _strings(out)
    assert scheme not in _strings(out)
    standard = out.PerformedProtocolCodeSequence[0]
    assert (standard.CodeValue, standard.CodingSchemeDesignator) == ("113691", "DCM")
    assert standard.CodeMeaning == "IEC Body Dosimetry Phantom"


def test_unknown_text_inside_a_kept_sequence_is_removed() -> None:
    def edit(ds: Dataset) -> None:
        item = Dataset()
        item.ReferencedSOPClassUID = ds.SOPClassUID
        item.ReferencedSOPInstanceUID = ds.SOPInstanceUID
        item.add_new(0x00511010, "LO", "DOE JOHN 1CT1")  # an even group the dictionary does not know
        item.add_new(0x00511012, "LT", "typed at the console")
        ds.ReferencedImageSequence = Sequence([item])

    out = _out(_ct(edit))
    item = out.ReferencedImageSequence[0]
    assert 0x00511010 not in item and 0x00511012 not in item
    assert "ReferencedSOPInstanceUID" in item


def test_a_private_iod_loses_unlisted_text_at_the_top_level() -> None:
    def edit(ds: Dataset) -> None:
        ds.SOPClassUID = PRIVATE_SOP_CLASS
        ds.file_meta.MediaStorageSOPClassUID = PRIVATE_SOP_CLASS
        ds.ConvolutionKernel = "DOE"  # SH, kept in a CT
        ds.CodeMeaning = "at the top level"  # LO

    out = _out(_ct(edit))
    assert "ConvolutionKernel" not in out and "CodeMeaning" not in out
    assert "PixelData" in out  # binary the written decisions keep stays


def test_unlisted_binary_is_removed_at_any_depth_unless_written_down() -> None:
    def edit(ds: Dataset) -> None:
        ds.add_new(0x00686300, "OB", b"DOE JOHN")  # HPGL Document: unlisted, not kept
        item = Dataset()
        item.add_new(0x0008041B, "OB", b"DOE JOHN 2")  # Record Key inside an item
        ds.ReferencedImageSequence = Sequence([item])

    data = _ct(edit)
    out = _out(data)
    assert b"DOE JOHN" not in deidentify(data, CONFIG).data
    assert out.PixelData == pydicom.dcmread(io.BytesIO(data)).PixelData


def test_only_registered_uids_under_the_dicom_root_are_kept() -> None:
    crafted = "1.2.840.10008.5.1.4.1.1.2.1234567"  # looks like a class, carries an MRN

    def edit(ds: Dataset) -> None:
        ds.add_new(0x00400554, "UI", crafted)  # Specimen UID: unlisted, an instance UID
        ds.ContextGroupExtensionCreatorUID = "1.2.840.10008.6.1.2"

    out = _out(_ct(edit))
    assert crafted not in _strings(out)
    assert out.SOPClassUID == "1.2.840.10008.5.1.4.1.1.2"
    original = pydicom.dcmread(file("CT_small.dcm"))
    assert out.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID


@pytest.mark.parametrize(
    ("keyword", "where"),
    [
        ("IssuerOfPatientIDQualifiersSequence", "top"),
        ("IssuerOfAccessionNumberSequence", "top"),
        ("IssuerOfAccessionNumberSequence", "request"),
    ],
)
def test_issuer_sequences_are_removed(keyword: str, where: str) -> None:
    def edit(ds: Dataset) -> None:
        issuer = Dataset()
        issuer.UniversalEntityID = "2.16.840.1.113883.3.999.1"
        issuer.UniversalEntityIDType = "ISO"
        issuer.LocalNamespaceEntityID = "JFK IMAGING"
        seq = Sequence([issuer])
        if where == "top":
            setattr(ds, keyword, seq)
        else:
            request = Dataset()
            setattr(request, keyword, seq)
            ds.RequestAttributesSequence = Sequence([request])

    out = _out(_ct(edit))
    assert "2.16.840.1.113883.3.999.1" not in _strings(out) and "JFK IMAGING" not in _strings(out)


def _steps(data: bytes, options: frozenset[Option] = DEFAULT_OPTIONS) -> dict[str, Any]:
    plan = plan_bytes(data, Config(key=TEST_KEY, options=options))
    return {s.path: s for s in plan.steps()}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("seen by CompressedSamples", "seen by *****************"),
        ("Fracture", "Fracture"),
        ("seen by 1CT1 at JFK IMAGING CENTER", None),  # ID and institution: blanked below
    ],
)
def test_the_last_scrub_blanks_the_files_identifiers_in_kept_text(value: str, expected: str | None) -> None:
    def edit(ds: Dataset) -> None:
        ds.AnatomicRegionSequence = Sequence([_code("12738006", "SCT", value)])

    data = _ct(edit)
    got = str(_out(data).AnatomicRegionSequence[0].CodeMeaning)
    if expected is not None:
        assert got == expected
    for identifier in ("CompressedSamples", "1CT1", "JFK IMAGING CENTER"):
        assert identifier not in got
    meaning = _steps(data)["(0008,2218)[0]>(0008,0104)"]
    assert (LAST_SCRUB in meaning.rule) == (value != "Fracture")
    flags = plan_bytes(data, CONFIG).flags
    assert any("held the file's own identifiers" in f for f in flags) == (value != "Fracture")


@pytest.mark.parametrize("options", [DEFAULT_OPTIONS, DEFAULT_OPTIONS | {Option.CLEAN_DESCRIPTORS}])
def test_window_explanation_is_a_description(options: frozenset[Option]) -> None:
    """Typed at the console ("W/L for <name>"): removed, or scrubbed under Clean Descriptors."""
    def edit(ds: Dataset) -> None:
        ds.WindowCenter, ds.WindowWidth = 40, 400
        ds.WindowCenterWidthExplanation = "W/L for CompressedSamples"

    out = _out(_ct(edit), options)
    if Option.CLEAN_DESCRIPTORS in options:
        assert out.WindowCenterWidthExplanation == "W/L for *****************"
    else:
        assert "WindowCenterWidthExplanation" not in out
    assert (out.WindowCenter, out.WindowWidth) == (40, 400)


def test_a_document_title_naming_the_patient_is_scrubbed_under_clean_descriptors() -> None:
    def edit(ds: Dataset) -> None:
        ds.DocumentTitle = "Report for CompressedSamples CT1"

    out = _out(_ct(edit), DEFAULT_OPTIONS | {Option.CLEAN_DESCRIPTORS})
    assert "CompressedSamples" not in str(out.get("DocumentTitle", ""))


def test_the_server_refuses_kept_text_holding_the_files_identifiers() -> None:
    clean = deidentify(_ct(lambda ds: None), CONFIG).data
    assert check_deidentified(clean, Policy()).ok
    ds = pydicom.dcmread(io.BytesIO(clean))
    ds.AnatomicRegionSequence = Sequence([_code("12738006", "SCT", f"seen by {ds.PatientID}")])
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    verdict = check_deidentified(buf.getvalue(), Policy())
    assert any("own identifiers" in p and "(0008,0104)" in p for p in verdict.problems), verdict.problems


@pytest.mark.parametrize(
    ("name", "code"),
    [("Enter^text", "HAS OBS CONTEXT"), ("Contains^Ann", "CONTAINS"), ("CQ500-CT-310", "CT")],
)
def test_code_strings_are_not_scrubbed(name: str, code: str) -> None:
    """Defined Terms collide with real names; a scrubbed CS broke SR content and Modality (last_scrub.py)."""

    def edit(ds: Dataset) -> None:
        ds.PatientName = name
        ds.add_new(0x0040A010, "CS", code)  # Relationship Type, unlisted

    assert _out(_ct(edit)).RelationshipType == code
