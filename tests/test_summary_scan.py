"""The fast header scan for the study list: the same values as pydicom, or None (pydicom then reads it)."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from corpus import file, public_files
from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import RawDataElement, convert_raw_data_element
from pydicom.tag import Tag

from anonymizer.reading.study_summary import LAST_SUMMARY_TAG, SCANNED_TAGS, SUMMARY_KEYWORDS, text_of
from anonymizer.reading.summary_scan import plain_text, scan_summary


@pytest.mark.parametrize("path", public_files(), ids=lambda p: p.name)
def test_scan_agrees_with_pydicom_or_steps_aside(path: Path) -> None:
    data = path.read_bytes()
    result = scan_summary(data, SCANNED_TAGS, LAST_SUMMARY_TAG)
    if result is None:
        return
    ds = result.dataset()
    full = pydicom.dcmread(path, stop_before_pixels=True, force=True)
    for keyword in SUMMARY_KEYWORDS:
        if keyword in ds:
            assert str(ds.get(keyword)) == str(full.get(keyword)), keyword
            vr, raw = result.elements[tag_for_keyword(keyword) or 0]
            text = plain_text(vr, raw)
            assert text is None or text == text_of(full.get(keyword)), keyword


PLAIN_VALUES = [b"", b" ", b"\0", b"12", b" 12 ", b"+5", b"012", b"1.0", b"abc", b"1\\2", b"1\\ 2 ", b"\\"]
PLAIN_VALUES += [b"a^b=c=d", b"Doe^John=", b"x\\y\0", b" a \\ b ", b"20200101", b"2020.01.01 ", b"\t1.2\t"]
PLAIN_VALUES += [b"ORIGINAL\\PRIMARY\\", b"1.2.3\0", b"\xe9", b"a\x1bb", b"\x01\x00", b"\x01\x00\x02\x00"]


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom warns about the invalid ones, as it should
@pytest.mark.parametrize("vr", ["UI", "CS", "AS", "SH", "LO", "IS", "PN", "DA", "TM", "DT", "US", "DS", "UT"])
@pytest.mark.parametrize("value", PLAIN_VALUES)
def test_plain_text_is_pydicoms_value_or_none(vr: str, value: bytes) -> None:
    raw = RawDataElement(Tag(0x00100010), vr, len(value), value, 0, False, True)
    text = plain_text(vr, value)
    assert text is None or text == text_of(convert_raw_data_element(raw, encoding=["iso8859"]).value)


@pytest.mark.parametrize("value", [b"\xe9", b"a\x1b$Bb", b"\xc3\xa9"])
def test_plain_text_leaves_character_set_dependent_bytes_to_pydicom(value: bytes) -> None:
    assert plain_text("PN", value) is None
    assert plain_text("LO", value) is None


def test_most_files_take_the_fast_path() -> None:
    """Explicit VR little endian Part 10 files are the common case and must not fall back."""
    assert scan_summary(file("CT_small.dcm").read_bytes(), SCANNED_TAGS, LAST_SUMMARY_TAG) is not None
    assert scan_summary(file("MR_small.dcm").read_bytes(), SCANNED_TAGS, LAST_SUMMARY_TAG) is not None


@pytest.mark.parametrize("cut", [140, 400, 900, 3000])
def test_a_short_prefix_has_not_reached_the_end_of_the_summary(cut: int) -> None:
    data = file("CT_small.dcm").read_bytes()[:cut]
    result = scan_summary(data, SCANNED_TAGS, LAST_SUMMARY_TAG)
    assert result is None or result.reached is False


def test_unusual_encodings_step_aside() -> None:
    assert scan_summary(b"\0" * 200, SCANNED_TAGS, LAST_SUMMARY_TAG) is None  # no DICM
    implicit = file("rtplan.dcm").read_bytes()  # Implicit VR Little Endian
    assert pydicom.dcmread(file("rtplan.dcm")).file_meta.TransferSyntaxUID == "1.2.840.10008.1.2"
    assert scan_summary(implicit, SCANNED_TAGS, LAST_SUMMARY_TAG) is None
    dicomdir = (file("dicomdirtests") / "DICOMDIR").read_bytes()
    assert scan_summary(dicomdir, SCANNED_TAGS, LAST_SUMMARY_TAG) is None


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom warns that it writes the long name as UN
def test_a_value_written_as_un_is_summarised_with_its_attributes_vr(tmp_path: Path) -> None:
    """A name over 64 KB cannot be written as explicit VR PN: writers make it UN. The list showed it as
    "b'Very^Long...'" (PS3.5 6.2.2: a known tag keeps its attribute's VR)."""
    from anonymizer.reading.study_summary import summarize

    ds = pydicom.dcmread(file("CT_small.dcm"))
    ds.PatientName = "Very^Long" + "x" * 100_000
    ds.save_as(tmp_path / "long.dcm", enforce_file_format=True)
    data = (tmp_path / "long.dcm").read_bytes()
    assert pydicom.dcmread(tmp_path / "long.dcm")["PatientName"].VR == "UN"
    name = summarize(data, True, len(data))["header"]["PatientName"]
    assert name == "Very^Long" + "x" * 100_000
