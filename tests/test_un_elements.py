"""UN elements (PS3.5 6.2.2): a tag the dictionary knows is read with the dictionary's VR and handled by its
attribute's rule, whatever its length; only what stays unknown (unregistered or private tags) meets the UN
safety net. The real case: an RT Structure Set whose Contour Data (3006,0050) is over 64 KB, which explicit
VR DS cannot hold, so writers encode it UN (pydicom does too); the safety net used to remove it."""

from __future__ import annotations

import io
import shutil
import subprocess
import warnings
from pathlib import Path

import pydicom
import pytest
from corpus import file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.uid import ExplicitVRLittleEndian

from anonymizer.config import Config
from anonymizer.engine import deidentify, plan_bytes
from anonymizer.reading.reader import read_dataset
from anonymizer.verification.verify import Policy, check_deidentified

DCIODVFY = shutil.which("dciodvfy")
CONTOUR_DATA = 0x30060050


def _explicit(ds: Dataset) -> bytes:
    """`ds` saved as explicit VR little endian (values over 64 KB in 2-byte-length VRs become UN)."""
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom says it writes UN: that is the point
        ds.save_as(out, implicit_vr=False, little_endian=True, enforce_file_format=True)
    return out.getvalue()


BIG_CONTOUR = [f"{v:.4f}" for i in range(4000) for v in (10 + i * 0.01, -20.5 + i * 0.001, 33.25)]


def _contours(ds: Dataset) -> list[list[str]]:
    return [[str(v) for v in c.ContourData] for roi in ds.ROIContourSequence for c in roi.ContourSequence]


def big_contour_rtstruct() -> bytes:
    """pydicom's real rtstruct.dcm, as an exporter writes it in explicit VR with a 107 KB contour."""
    ds = pydicom.dcmread(file("rtstruct.dcm"), force=True)
    contour = ds.ROIContourSequence[0].ContourSequence[0]
    contour.ContourData = BIG_CONTOUR
    contour.NumberOfContourPoints = len(BIG_CONTOUR) // 3
    return _explicit(ds)


def _expected_contours() -> list[list[str]]:
    ds = pydicom.dcmread(file("rtstruct.dcm"), force=True)
    return [BIG_CONTOUR, *_contours(ds)[1:]]


def _raw_vr(data: bytes, tag: int) -> set[str]:
    """The VRs `tag` is encoded with in the file (any depth), without any dictionary replacement."""
    old = pydicom.config.replace_un_with_known_vr
    pydicom.config.replace_un_with_known_vr = False
    try:
        ds = pydicom.dcmread(io.BytesIO(data))
        found: set[str] = set()

        def walk(d: Dataset) -> None:
            for elem in d:
                if elem.tag == tag:
                    found.add(elem.VR)
                elif elem.VR == "SQ":
                    for item in elem.value:
                        walk(item)

        walk(ds)
        return found
    finally:
        pydicom.config.replace_un_with_known_vr = old


def test_the_input_really_holds_contour_data_as_un() -> None:
    data = big_contour_rtstruct()
    assert _raw_vr(data, CONTOUR_DATA) == {"UN", "DS"}


def test_reader_gives_a_known_un_tag_its_dictionary_vr() -> None:
    ds = read_dataset(big_contour_rtstruct())
    first = ds.ROIContourSequence[0].ContourSequence[0]["ContourData"]
    assert first.VR == "DS"
    assert len(first.value) == 12000


def test_contour_data_over_64_kb_survives_de_identification(config: Config) -> None:
    data = big_contour_rtstruct()
    result = deidentify(data, config)
    expected = _expected_contours()
    assert _contours(read_dataset(data)) == expected
    assert _contours(read_dataset(result.data)) == expected
    steps = [s for s in result.plan.steps() if s.tag == CONTOUR_DATA]
    assert len(steps) == len(expected) and all(s.vr == "DS" and s.action == "K" for s in steps)
    # written as explicit VR again, the long value can only be UN (PS3.5 6.2.2), as in the input
    assert _raw_vr(result.data, CONTOUR_DATA) == {"UN", "DS"}


def test_what_if_plan_and_server_recheck_agree_with_the_engine(config: Config) -> None:
    data = big_contour_rtstruct()
    planned = [(s.path, s.action) for s in plan_bytes(data, config).steps() if s.tag == CONTOUR_DATA]
    done = [(s.path, s.action) for s in deidentify(data, config).plan.steps() if s.tag == CONTOUR_DATA]
    assert planned == done and {a for _, a in planned} == {"K"}
    verdict = check_deidentified(deidentify(data, config).data, Policy())
    assert verdict.ok, verdict.problems


@pytest.mark.skipif(DCIODVFY is None, reason="dciodvfy missing: `python3 build.py test` installs it")
def test_dciodvfy_finds_no_missing_contour_data(config: Config, tmp_path: Path) -> None:
    out = tmp_path / "out.dcm"
    out.write_bytes(deidentify(big_contour_rtstruct(), config).data)
    proc = subprocess.run([DCIODVFY or "dciodvfy", str(out)], capture_output=True, text=True, timeout=60)
    errors = [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith("Error")]
    assert not [e for e in errors if "ContourData" in e], errors


def _implicit_bytes(ds: Dataset) -> bytes:
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, True
    write_dataset(fp, ds)
    return fp.getvalue()


def _base() -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.481.3"
    ds.SOPInstanceUID = "1.2.3.4.5"
    ds.StudyInstanceUID = "1.2.3.4"
    ds.SeriesInstanceUID = "1.2.3.4.6"
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "MRN-778899"
    return ds


def test_a_known_sequence_encoded_un_over_64_kb_is_cleaned_item_by_item(config: Config) -> None:
    """A whole sequence passed on as UN (implicit VR inside, PS3.5 6.2.2) is read and cleaned, not lost."""
    item = Dataset()
    item.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    item.ReferencedSOPInstanceUID = "1.2.3.4.99"
    item.ContourData = ["1.5"] * 30000  # makes the sequence over 64 KB
    item.ContourGeometricType = "CLOSED_PLANAR"
    item.NumberOfContourPoints = 10000
    seq_item = Dataset()
    seq_item.ContourSequence = [item]
    seq_item.ReferencedROINumber = 1
    holder = Dataset()
    holder.ROIContourSequence = [seq_item]
    raw = _implicit_bytes(holder)[8:]  # the sequence's value: after its implicit tag and length
    assert len(raw) > 0xFFFF
    ds = _base()
    ds.add_new(0x30060039, "UN", raw)
    data = _explicit(ds)
    assert _raw_vr(data, 0x30060039) == {"UN"}
    result = deidentify(data, config)
    contour = read_dataset(result.data).ROIContourSequence[0].ContourSequence[0]
    assert len(contour.ContourData) == 30000
    # the nested UID was mapped like every other (cleaned by its rule, not kept as opaque bytes)
    assert contour.ReferencedSOPInstanceUID != "1.2.3.4.99"


def test_a_known_name_encoded_un_gets_its_attribute_rule(config: Config) -> None:
    ds = _base()
    ds.add_new(0x00080090, "UN", b"Smith^Referring")  # Referring Physician's Name: Z in Table E.1-1
    result = deidentify(_explicit(ds), config)
    [step] = [s for s in result.plan.steps() if s.tag == 0x00080090]
    assert step.vr == "PN" and step.action == "Z"
    assert b"Smith" not in result.data


@pytest.mark.parametrize(
    "tag",
    [0x00080999, 0x00291010],  # an unregistered public tag; a private one (its creator present)
    ids=["unregistered", "private"],
)
def test_un_that_stays_unknown_is_still_removed(config: Config, tag: int) -> None:
    ds = _base()
    if tag >> 16 & 1:
        ds.add_new(0x00290010, "LO", "SOME CREATOR")
    ds.add_new(tag, "UN", b"MRN-778899 secret" * 5000)  # long too: length is not what decides
    result = deidentify(_explicit(ds), config)
    [step] = [s for s in result.plan.steps() if s.tag == tag]
    assert step.action == "X"
    assert b"secret" not in result.data
