"""The re-check on arrival: what the page writes passes; originals and tampered files are refused, each with
what was found and where. The crafted files of issue 13 are each a case below."""

from __future__ import annotations

import io
from collections.abc import Callable

import pydicom
import pytest
from conftest import TEST_KEY
from corpus import data_file, file, public_files
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import ExplicitVRLittleEndian

from anonymizer.config import PACSBIN, Config
from anonymizer.engine import deidentify
from anonymizer.errors import DeidentificationError
from anonymizer.legacy.ctp_script import load_builtin_pacsbin
from anonymizer.reading.reader import read_dataset
from anonymizer.review import needs_pixel_review
from anonymizer.rules.options import DEFAULT_OPTIONS, Option
from anonymizer.verification.verify import CHECKS, Family, Policy, check_deidentified
from redaction.apply import PixelEdit

CONFIG = Config(key=TEST_KEY)
# What the page writes: its default options (settings.mjs takes anonymizer.browser_api.describe()'s
# defaults, i.e. DEFAULT_OPTIONS), and pixels a person confirmed for every image its review gate holds back.
PAGE = Config(key=TEST_KEY, options=DEFAULT_OPTIONS)


def _deidentified(name: str = "CT_small.dcm", config: Config = CONFIG, *, reviewed: bool = False) -> bytes:
    pixels = PixelEdit(reviewed=True) if reviewed else None
    return deidentify(data_file(name).read_bytes(), config, pixels=pixels).data


def _page_output(data: bytes) -> bytes:
    reviewed = needs_pixel_review(read_dataset(data))
    return deidentify(data, PAGE, pixels=PixelEdit(reviewed=reviewed)).data


def _edited(data: bytes, change: Callable[[Dataset], None]) -> bytes:
    ds = pydicom.dcmread(io.BytesIO(data))
    change(ds)
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _refused(data: bytes, *messages: str, policy: Policy | None = None) -> list[str]:
    verdict = check_deidentified(data, policy or Policy())
    assert not verdict.ok and verdict.stored == b""
    for message in messages:
        assert any(message in p for p in verdict.problems), (message, verdict.problems)
    return verdict.problems


def test_the_page_default_options_pass_the_default_policy() -> None:
    assert Policy().options >= DEFAULT_OPTIONS


@pytest.mark.parametrize("path", public_files(), ids=lambda p: p.name)
def test_what_the_page_writes_passes_and_the_original_does_not(path: object) -> None:
    data = path.read_bytes()  # type: ignore[attr-defined]
    try:
        out = _page_output(data)
    except DeidentificationError:
        return
    verdict = check_deidentified(out, Policy())
    assert verdict.ok, verdict.problems
    assert verdict.family is Family.OURS
    assert verdict.stored == out  # the stored form of an engine output is the output: resumes match
    assert not check_deidentified(data, Policy()).ok


def _private(ds: Dataset) -> None:
    block = ds.private_block(0x0009, "ACME", create=True)
    block.add_new(0x01, "LO", "secret")


def _nested_private(ds: Dataset) -> None:
    item = Dataset()
    item.add_new(0x00191010, "LO", "x")
    ds.ReferencedStudySequence = [item]


def _overlay_bits(ds: Dataset) -> None:
    """A 12-bit CT with bit 15 set in 40 pixel values (an embedded overlay, PS3.3 C.9.2)."""
    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 12, 11, 0
    values = bytearray(ds.PixelData)
    for i in range(40):
        values[2 * (300 + i) + 1] |= 0x80
    ds.PixelData = bytes(values)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda ds: setattr(ds, "PatientAddress", "1 Main St"), "Patient's Address"),
        (lambda ds: setattr(ds, "OtherPatientIDs", "MRN-1"), "(0010,1000)"),
        (lambda ds: setattr(ds, "AccessionNumber", "ACC123"), "empties it"),
        (lambda ds: setattr(ds, "PatientIdentityRemoved", "NO"), "Patient Identity Removed"),
        (lambda ds: delattr(ds, "DeidentificationMethodCodeSequence"), "no 113100"),
        (lambda ds: setattr(ds, "BurnedInAnnotation", "YES"), "Burned In Annotation"),
        (_private, "private element (0009,0010)"),
        (_nested_private, "private element (0008,1110)[0]>(0019,1010)"),
        (_overlay_bits, "(7FE0,0010) Pixel Data: 40 pixel values have bits set outside Bits Stored"),
    ],
    ids=[
        "address",
        "other-ids",
        "accession",
        "not-marked",
        "no-codes",
        "burned-in",
        "private",
        "nested",
        "overlay-bits",
    ],
)
def test_identity_left_behind_is_refused_with_its_reason(
    change: Callable[[Dataset], None], message: str
) -> None:
    verdict = check_deidentified(_edited(_deidentified(), change), Policy())
    assert not verdict.ok
    assert any(message in p for p in verdict.problems), verdict.problems


def test_our_output_of_a_file_with_an_embedded_overlay_passes() -> None:
    data = _edited(file("CT_small.dcm").read_bytes(), _overlay_bits)
    assert not check_deidentified(data, Policy()).ok
    verdict = check_deidentified(deidentify(data, CONFIG).data, Policy())
    assert verdict.ok, verdict.problems


def test_unreadable_and_truncated() -> None:
    assert check_deidentified(b"not dicom", Policy()).problems[0].startswith("unreadable")
    assert not check_deidentified(_deidentified()[:-100], Policy()).ok


def test_policy_decides_options_and_the_legacy_profile() -> None:
    data = _deidentified()
    verdict = check_deidentified(data, Policy(options=frozenset({Option.CLEAN_PIXEL_DATA})))
    assert any("retain-modified-dates" in p for p in verdict.problems)
    legacy = _deidentified(config=Config(key=TEST_KEY, profile=PACSBIN, script=load_builtin_pacsbin()))
    assert any("legacy Pacsbin" in p for p in check_deidentified(legacy, Policy()).problems)
    allowed = check_deidentified(legacy, Policy(allow_legacy_pacsbin=True))
    assert allowed.profile == PACSBIN and allowed.ok, allowed.problems


def test_checks_are_written_down() -> None:
    assert len(CHECKS) >= 14
    assert len({c.name for c in CHECKS}) == len(CHECKS)
    assert all(c.description for c in CHECKS)


# ---------------------------------------------------------------- the crafted files of issue 13
def test_our_output_with_the_patient_name_put_back() -> None:
    out = _edited(_deidentified(), lambda ds: setattr(ds, "PatientName", "Doe^John"))
    _refused(out, "(0010,0010) Patient's Name holds a person's name that is neither a pseudonym of ours")


def test_a_name_put_back_at_depth() -> None:
    def nested(ds: Dataset) -> None:
        item = Dataset()
        item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = ds.SOPClassUID, ds.SOPInstanceUID
        item.add_new(0x00081070, "PN", "Doe^John")  # Operators' Name inside a kept reference
        ds.ReferencedImageSequence = [item]

    _refused(
        _edited(_deidentified(), nested), "(0008,1140)[0]>(0008,1070) Operators' Name holds a person's name"
    )


def test_our_output_with_the_original_study_uid_put_back() -> None:
    original = str(pydicom.dcmread(file("CT_small.dcm")).StudyInstanceUID)
    out = _edited(_deidentified(), lambda ds: setattr(ds, "StudyInstanceUID", original))
    _refused(
        out,
        "(0020,000D) Study Instance UID holds a UID that is neither registered by the standard nor a 2.25",
    )


def test_original_uids_pass_only_when_retain_uids_is_accepted_and_claimed() -> None:
    kept = _deidentified(config=Config(key=TEST_KEY, options=DEFAULT_OPTIONS | {Option.RETAIN_UIDS}))
    _refused(kept, "--accept-option retain-uids", "(0020,000D) Study Instance UID holds a UID")
    accepting = Policy.from_flags(["retain-uids"])
    assert check_deidentified(kept, accepting).ok
    original = str(pydicom.dcmread(file("CT_small.dcm")).StudyInstanceUID)
    unclaimed = _edited(_deidentified(), lambda ds: setattr(ds, "StudyInstanceUID", original))
    _refused(unclaimed, "(0020,000D) Study Instance UID", policy=accepting)


def _claiming(codes: list[str]) -> Callable[[Dataset], None]:
    def change(ds: Dataset) -> None:
        from anonymizer.rules.marking import code_sequence

        ds.PatientIdentityRemoved = "YES"
        ds.DeidentificationMethodCodeSequence = code_sequence(codes)

    return change


RETAINING = ["113100", "113112", "113109", "113108"]  # Basic + Institution, Device, Patient Characteristics


def test_an_original_claiming_retain_options_is_refused_naming_each_option_and_its_flag() -> None:
    crafted = _edited(file("CT_small.dcm").read_bytes(), _claiming(RETAINING))
    _refused(
        crafted,
        "retain-institution-identity (113112",
        "--accept-option retain-institution-identity",
        "--accept-option retain-device-identity",
        "--accept-option retain-patient-characteristics",
        "(0012,0063) De-identification Method does not name this product's uploader",
    )
    # Even with those options and other tools accepted, the removal checks find what it holds.
    lenient = Policy.from_flags(
        ["retain-institution-identity", "retain-device-identity", "retain-patient-characteristics"],
        accept_other_deidentifiers=True,
    )
    problems = _refused(crafted, "the profile removes it", policy=lenient)
    assert not any("--accept-option" in p or "(0012,0063)" in p for p in problems)


def _with_jpeg_comment(ds: Dataset) -> None:
    """A COM segment after SOI in the first frame's codestream (PS3.5 A.4: one fragment per frame here)."""
    frames = list(generate_frames(ds.PixelData, number_of_frames=int(ds.get("NumberOfFrames", 1) or 1)))
    text = b"Patient Doe^John MRN 0042"
    com = b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text
    frames[0] = frames[0][:2] + com + frames[0][2:]
    ds.PixelData = encapsulate(frames)


@pytest.mark.parametrize("name", ["SC_rgb_jpeg_dcmtk.dcm", "JPEG-lossy.dcm"])
def test_a_jpeg_comment_added_to_our_output_is_refused(name: str) -> None:
    out = _deidentified(name, PAGE, reviewed=True)
    assert check_deidentified(out, Policy()).ok
    _refused(
        _edited(out, _with_jpeg_comment), "(7FE0,0010) Pixel Data: text inside the compressed image", "COM"
    )


def test_an_ultrasound_nobody_reviewed_is_refused() -> None:
    out = _deidentified("US1_UNCR.dcm", PAGE)
    _refused(out, "the pixels of US often hold burned-in text and nobody confirmed them clean", "113101")
    assert check_deidentified(_deidentified("US1_UNCR.dcm", PAGE, reviewed=True), Policy()).ok


def _burned_in(ds: Dataset) -> None:
    ds.BurnedInAnnotation = "YES"


def test_burned_in_annotation_yes_with_the_flag_deleted_is_refused() -> None:
    original = _edited(file("SC_rgb_jpeg_dcmtk.dcm").read_bytes(), _burned_in)
    unreviewed = deidentify(original, PAGE).data
    _refused(unreviewed, "(0028,0301) Burned In Annotation is YES")
    _refused(_edited(unreviewed, lambda ds: delattr(ds, "BurnedInAnnotation")), "must claim 113101")


def test_clean_pixel_data_claimed_without_burned_in_annotation_no_is_not_our_output() -> None:
    """Reviewed, the engine writes 113101 and Burned In Annotation NO together (marking.py)."""
    original = _edited(file("CT_small.dcm").read_bytes(), _burned_in)
    reviewed = deidentify(original, PAGE, pixels=PixelEdit(reviewed=True)).data
    assert check_deidentified(reviewed, Policy()).ok
    deleted = _edited(reviewed, lambda ds: delattr(ds, "BurnedInAnnotation"))
    _refused(deleted, "(0028,0301) Burned In Annotation is missing although 113101")


def _pdf() -> bytes:
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.104.1"
    ds.SOPInstanceUID = "1.2.826.0.1.3680043.10.998.1"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.826.0.1.3680043.10.998.2", "1.2.826.0.1.3680043.10.998.3"
    ds.PatientName, ds.PatientID, ds.Modality, ds.InstanceNumber = "Doe^Jane", "PID0001", "DOC", 1
    ds.BurnedInAnnotation, ds.MIMETypeOfEncapsulatedDocument = "YES", "application/pdf"
    ds.EncapsulatedDocument = PDF_BYTES
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


PDF_BYTES = b"%PDF-1.4\n% Doe^Jane PID0001\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def test_an_encapsulated_pdf_with_its_bytes_put_back_is_refused() -> None:
    out = deidentify(_pdf(), PAGE).data
    documents = Policy(accept_documents=True)
    _refused(out, "encapsulated document", "--accept-documents")
    assert check_deidentified(out, documents).ok
    put_back = _edited(out, lambda ds: setattr(ds, "EncapsulatedDocument", PDF_BYTES))
    _refused(put_back, "encapsulated document")
    _refused(
        put_back,
        "(0042,0011) EncapsulatedDocument holds a value where the profile writes a dummy",
        policy=documents,
    )


def test_phi_in_the_file_meta_and_preamble_is_not_refused_and_not_stored() -> None:
    out = _deidentified()
    ds = pydicom.dcmread(io.BytesIO(out))
    ds.file_meta.SourceApplicationEntityTitle = "DOE_JOHN_MRN42"
    ds.preamble = b"Doe^John MRN 0042".ljust(128, b"\0")
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    crafted = buf.getvalue()
    assert b"DOE_JOHN_MRN42" in crafted and b"Doe^John" in crafted
    verdict = check_deidentified(crafted, Policy())
    assert verdict.ok, verdict.problems
    assert b"DOE_JOHN_MRN42" not in verdict.stored and b"Doe^John" not in verdict.stored
    assert verdict.stored == out


def test_other_deidentifiers_are_refused_unless_accepted_then_removal_checks_only() -> None:
    other = _edited(_deidentified(), lambda ds: setattr(ds, "DeidentificationMethod", "Another Tool 2.1"))
    _refused(other, "(0012,0063) De-identification Method does not name this product's uploader")
    accepting = Policy(accept_other_deidentifiers=True)
    verdict = check_deidentified(other, accepting)
    assert verdict.ok and verdict.family is Family.OTHER, verdict.problems
    # Our shapes are not judged for others' files (their pseudonyms are theirs), the removals are.
    renamed = _edited(other, lambda ds: setattr(ds, "PatientName", "SUBJ^0042"))
    assert check_deidentified(renamed, accepting).ok
    _refused(
        _edited(other, lambda ds: setattr(ds, "PatientAddress", "1 Main St")),
        "Patient's Address",
        policy=accepting,
    )
