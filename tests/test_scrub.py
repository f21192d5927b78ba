"""The C action on free text: the file's own identifiers are blanked, the rest of the text is kept."""

from __future__ import annotations

import io

import pydicom
from conftest import TEST_KEY
from corpus import file

from anonymizer.config import Config
from anonymizer.engine import deidentify
from anonymizer.options import DEFAULT_OPTIONS, Option
from anonymizer.scrub import compile_scrubber, identifiers, scrub


def _with_description(text: str) -> bytes:
    ds = pydicom.dcmread(file("CT_small.dcm"))
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "MRN778899"
    ds.PatientBirthDate = "19700412"
    ds.InstitutionName = "Saint Elsewhere Hospital"
    ds.StudyDescription = text
    buf = io.BytesIO()
    ds.save_as(buf)
    return buf.getvalue()


def test_identifiers_of_a_dataset() -> None:
    ds = pydicom.dcmread(io.BytesIO(_with_description("x")))
    found = identifiers(ds)
    assert {
        "Doe^Jane",
        "Doe",
        "Jane",
        "MRN778899",
        "19700412",
        "1970-04-12",
        "Saint Elsewhere Hospital",
    } <= set(found)


def test_scrub_keeps_words_and_length() -> None:
    pattern = compile_scrubber(["Doe", "MRN778899"])
    assert scrub("CT chest for DOE mrn778899 follow-up", pattern) == "CT chest for *** ********* follow-up"
    assert scrub("nothing here", pattern) == "nothing here"
    assert scrub("x", None) == "x"


def test_clean_descriptors_blanks_identifiers() -> None:
    data = _with_description("CT abdomen Jane Doe 12/04/1970 MRN778899 Saint Elsewhere")
    options = DEFAULT_OPTIONS | {Option.CLEAN_DESCRIPTORS}
    out = pydicom.dcmread(io.BytesIO(deidentify(data, Config(key=TEST_KEY, options=options)).data))
    assert out.StudyDescription.startswith("CT abdomen ")
    for word in ("Jane", "Doe", "MRN778899", "Elsewhere", "12/04/1970"):
        assert word not in out.StudyDescription
    # Without the option the description is removed (Basic Profile: X).
    out = pydicom.dcmread(io.BytesIO(deidentify(data, Config(key=TEST_KEY)).data))
    assert "StudyDescription" not in out
