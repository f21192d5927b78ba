"""The C action on free text: the file's own identifiers are blanked, the rest of the text is kept."""

from __future__ import annotations

import io

import pydicom
import pytest
from conftest import TEST_KEY
from corpus import file
from pydicom.dataset import Dataset

from anonymizer.config import Config
from anonymizer.engine import deidentify
from anonymizer.rules.options import DEFAULT_OPTIONS, Option
from anonymizer.rules.scrub import Scrubber, compile_scrubber, identifiers, scrub


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


# -- names as people write them (issue 12) -----------------------------------------------------------


def _name_scrubber(name: str) -> Scrubber:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = name
    found = compile_scrubber(identifiers(ds))
    assert found is not None
    return found


# (the patient's name, a text, the text scrubbed)
NAMES_FOUND = [
    # split on every separator, joined forms too, accents folded on both sides
    ("García-Núñez^José^María", "García-Núñez José", "*****************"),  # family and given together
    ("García-Núñez^José^María", "CT for Garcia Nunez", "CT for ************"),
    ("García-Núñez^José^María", "dr. GarciaNunez", "dr. ***********"),
    ("García-Núñez^José^María", "NÚÑEZ, MARIA", "*****, *****"),
    ("García-Núñez^José^María", "Jose visit", "**** visit"),
    ("García-Núñez^José^María", "Jose\u0301 visit", "***** visit"),  # é written as e + combining acute
    ("O'Brien-Smith^Mary", "Smith", "*****"),
    ("O'Brien-Smith^Mary", "OBrien referral", "****** referral"),
    ("O'Brien-Smith^Mary", "O Brien", "*******"),
    ("O'Brien-Smith^Mary", "O'Brien", "*******"),
    ("O'Brien-Smith^Mary", "Mrs O\u2019Brien", "Mrs *******"),  # typographic apostrophe
    # case folding (ß -> ss) and German transliteration, both ways
    ("Müßig^Jürgen", "MÜSSIG", "******"),
    ("Müßig^Jürgen", "Juergen Muessig", "***************"),
    ("Müßig^Jürgen", "Jurgen", "******"),
    ("Müßig^Jürgen", "Herr Müßig", "Herr *****"),
    ("MUELLER^HANS", "Dr. Müller", "Dr. ******"),
    ("MUELLER^HANS", "Mu\u0308l\u00adler", "********"),  # ü decomposed, a soft hyphen inside
    ("Søren^Kierkegaard", "Soeren", "******"),
    # parts of one or two letters: whole words only
    ("Li^Wu", "Li Wu", "*****"),
    ("Li^Wu", "seen by WU today", "seen by ** today"),
    ("Li^Wu", "LiWu", "****"),
    ("Li^Wu", "Li-ion? Li.", "**-ion? **."),
    # ideographic, Hangul and kana names: every part, of any length, inside the text
    ("山田^太郎", "山田太郎様の検査", "****様の検査"),
    ("山田^太郎", "山田様", "**様"),
    ("山田^太郎", "太郎くん", "**くん"),
    ("山田^太郎", "山田\u3000太郎", "*****"),
    ("홍^길동", "홍길동 환자", "*** 환자"),
    ("佐々木^一", "佐々木一さん", "****さん"),
    # a PN with groups (alphabetic=ideographic=phonetic) contributes every group
    ("Yamada^Tarou=山田^太郎=やまだ^たろう", "やまだ たろう様", "*******様"),
    ("Yamada^Tarou=山田^太郎=やまだ^たろう", "TAROU YAMADA", "************"),
    ("Yamada^Tarou=山田^太郎=やまだ^たろう", "太郎", "**"),
]


@pytest.mark.parametrize(("name", "text", "expected"), NAMES_FOUND)
def test_names_as_people_write_them(name: str, text: str, expected: str) -> None:
    scrubber = _name_scrubber(name)
    assert scrubber.finds(text)
    out = scrubber.scrub(text)
    assert out == expected
    assert scrub(text, scrubber) == expected
    # Every original character is replaced by one character: lengths hold, whatever the folding did.
    assert len(out) == len(text)
    assert not scrubber.finds(out)


NAMES_NOT_FOUND = [
    ("Li^Wu", "Lithium level"),
    ("Wu^Li", "CT HEAD"),
    ("Li^Wu", "Wuhan, Liaoning"),
    ("Kim^Ho", "Chosen protocol"),
    ("Doe^J", "J-shaped catheter"),  # a lone initial is no identifier
    ("Smith^John^^Dr^Jr", "Dr review, Jr staff"),  # nor are short prefixes and suffixes
    ("山田^太郎", "田中花子"),
]


@pytest.mark.parametrize(("name", "text"), NAMES_NOT_FOUND)
def test_ordinary_words_are_kept(name: str, text: str) -> None:
    scrubber = _name_scrubber(name)
    assert not scrubber.finds(text)
    assert scrubber.scrub(text) == text


def _with_nested_identity() -> Dataset:
    ds = pydicom.dcmread(file("CT_small.dcm"))
    for keyword in ("PatientName", "ReferringPhysicianName", "OperatorsName", "PatientID"):
        if keyword in ds:
            del ds[keyword]
    request = Dataset()
    request.RequestingPhysician = "Kowalski^Jan"
    request.RequestedProcedureID = "RP4711"
    ds.RequestAttributesSequence = [request]
    other = Dataset()
    other.PatientID = "XYZ98765"
    ds.OtherPatientIDsSequence = [other]
    ds.InstitutionName = "Saint Elsewhere Hospital"
    return ds


@pytest.mark.parametrize("implicit", [False, True])
def test_identifiers_at_any_depth(implicit: bool) -> None:
    ds = _with_nested_identity()
    if implicit:  # read back unconverted: raw elements of an implicit VR file carry no VR yet
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
        buf = io.BytesIO()
        ds.save_as(buf, enforce_file_format=True)
        ds = pydicom.dcmread(io.BytesIO(buf.getvalue()))
        assert ds.get_item(0x00400275).VR is None
    found = set(identifiers(ds))
    assert {"Kowalski^Jan", "Kowalski", "Jan", "RP4711", "XYZ98765"} <= found


def test_kept_attributes_are_not_terms() -> None:
    ds = _with_nested_identity()
    kept = {0x00080080, 0x00321032}  # Institution Name, Requesting Physician
    found = set(identifiers(ds, kept=lambda tag: tag in kept))
    assert not {"Saint Elsewhere Hospital", "Elsewhere", "Kowalski", "Jan"} & found
    assert "XYZ98765" in found


def test_a_name_held_only_in_a_sequence_is_scrubbed() -> None:
    ds = _with_nested_identity()
    ds.StudyDescription = "CT brain, seen by KOWALSKI for XYZ98765"
    buf = io.BytesIO()
    ds.save_as(buf)
    options = DEFAULT_OPTIONS | {Option.CLEAN_DESCRIPTORS}
    out = pydicom.dcmread(io.BytesIO(deidentify(buf.getvalue(), Config(key=TEST_KEY, options=options)).data))
    assert out.StudyDescription == "CT brain, seen by ******** for ********"


def test_ids_and_dates_as_before() -> None:
    scrubber = compile_scrubber(["MRN778899", "1970-04-12", "12/04/1970"])
    assert scrubber is not None
    assert scrubber.scrub("ref MRN778899x, born 12/04/1970") == "ref *********x, born **********"
    assert scrubber.scrub("MRN77889") == "MRN77889"


@pytest.mark.filterwarnings("ignore:The (PN component|value) length:UserWarning")  # overlong on purpose
def test_a_value_longer_than_any_name_gives_its_words_only() -> None:
    # Joined forms of every run of words would make the pattern grow with the square of the length
    # (a 100,000-character name compiled for a minute); each word is still found.
    words = [f"w{i:05d}x" for i in range(2000)]
    ds = Dataset()
    ds.PatientName = " ".join(words[:1000]) + "^" + " ".join(words[1000:])
    ds.InstitutionAddress = " ".join(words)
    found = identifiers(ds)
    assert len(found) <= len(words) + 2
    scrubber = compile_scrubber(found)
    assert scrubber is not None
    assert scrubber.scrub(f"seen {words[1500]} and {words[3]}.") == "seen ******* and *******."
