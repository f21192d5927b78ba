"""The engine on every public test file: de-identified and valid, or refused with a reason; never half."""

from __future__ import annotations

import io
from pathlib import Path

import pydicom
import pytest
from conftest import TEST_KEY
from corpus import public_files
from pydicom.dataset import Dataset
from synthetic.embedded_overlay import embedded_overlay_ct

from anonymizer.config import Config
from anonymizer.engine import deidentify, plan_bytes
from anonymizer.errors import DeidentificationError
from anonymizer.rules.options import Option
from anonymizer.rules.table import is_repeating_group

FILES = public_files()
CONFIG = Config(key=TEST_KEY)
# Values too short or too generic to search for in output bytes.
_GENERIC = {"", "ANONYMOUS", "ANONYMIZED", "ANON", "NONE", "UNKNOWN", "TEST"}


def _identifying_values(ds: Dataset) -> list[str]:
    out = []
    for keyword in (
        "PatientName",
        "PatientID",
        "OtherPatientIDs",
        "PatientBirthDate",
        "InstitutionName",
        "ReferringPhysicianName",
        "AccessionNumber",
        "OperatorsName",
        "StationName",
        "PerformingPhysicianName",
        "InstitutionAddress",
        "DeviceSerialNumber",
    ):
        value = str(ds.get(keyword, "") or "").strip()
        kept = str(ds.get("Manufacturer", "")) + str(
            ds.get("ManufacturerModelName", "")
        )  # kept by the profile
        if len(value) >= 5 and value.upper() not in _GENERIC and value not in kept and len(set(value)) > 1:
            out.append(value)
    return out


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_public_file(path: Path) -> None:
    data = path.read_bytes()
    try:
        result = deidentify(data, CONFIG, path=path.name)
    except DeidentificationError as exc:
        assert exc.reason and exc.path == path.name
        return
    original = pydicom.dcmread(io.BytesIO(data), force=True)
    out = pydicom.dcmread(io.BytesIO(result.data))
    assert result.data[:128] == b"\x00" * 128 and result.data[128:132] == b"DICM"
    assert out.PatientIdentityRemoved == "YES"
    assert "113100" in [i.CodeValue for i in out.DeidentificationMethodCodeSequence]
    assert out.LongitudinalTemporalInformationModified == "MODIFIED"
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID != original.SOPInstanceUID
    assert out.SOPClassUID == original.SOPClassUID
    for elem in out.iterall():
        assert not elem.tag.is_private, f"private element {elem.tag} left"
        assert not is_repeating_group(elem.tag.group, 0x5000), f"curve {elem.tag} left"
        assert not is_repeating_group(elem.tag.group, 0x6000), f"overlay {elem.tag} left"
    for meta_tag in (0x00020016, 0x00020017, 0x00020018, 0x00020100, 0x00020102):
        assert meta_tag not in out.file_meta
    for value in _identifying_values(original):
        assert value.encode("latin-1", "replace") not in result.data, f"{value!r} left in output"
    ts = pydicom.uid.UID(str(original.file_meta.get("TransferSyntaxUID", "1.2.840.10008.1.2")))
    if "PixelData" in original and not ts.is_compressed and out.PixelData != original.PixelData:
        # Only bits outside Bits Stored are cleared (mlut_18.dcm: negative values not sign-extended):
        # a reader that masks to Bits Stored sees the same values, and the plan says what changed.
        assert any("outside Bits Stored" in f for f in result.plan.flags)
        assert (out.pixel_array == original.pixel_array).all()


def test_deterministic(config: Config) -> None:
    data = FILES[0].read_bytes()
    assert deidentify(data, config).data == deidentify(data, Config(key=TEST_KEY)).data


def test_plan_is_what_apply_does(config: Config) -> None:
    from corpus import file

    data = file("CT_small.dcm").read_bytes()
    plan = plan_bytes(data, config)
    out = pydicom.dcmread(io.BytesIO(deidentify(data, config).data))
    for step in plan.dataset:
        if step.removed:
            assert step.tag not in out, step.path
        elif step.action not in ("K",) and step.items is None and step.vr not in ("SQ",):
            got, want = out[step.tag].value, step.new
            assert str(got or "") == str(want or "") or got == want, step.path
    counts = plan.counts()
    assert counts["removed"] > 0 and counts["changed"] > 0 and counts["kept"] > 0


def test_what_if_json_has_no_secrets(config: Config) -> None:
    from corpus import file

    text = plan_bytes(file("CT_small.dcm").read_bytes(), config).to_json()
    assert TEST_KEY.material.hex() not in text


def test_options_change_codes() -> None:
    from corpus import file

    data = file("CT_small.dcm").read_bytes()
    cfg = Config(key=TEST_KEY, options=frozenset({Option.RETAIN_FULL_DATES, Option.RETAIN_UIDS}))
    out = pydicom.dcmread(io.BytesIO(deidentify(data, cfg).data))
    codes = [i.CodeValue for i in out.DeidentificationMethodCodeSequence]
    assert codes == ["113100", "113106", "113110"]
    assert out.LongitudinalTemporalInformationModified == "UNMODIFIED"
    original = pydicom.dcmread(file("CT_small.dcm"))
    assert out.SOPInstanceUID == original.SOPInstanceUID and out.StudyDate == original.StudyDate


def test_clean_pixel_data_only_claimed_when_cleaned() -> None:
    from corpus import file

    data = file("CT_small.dcm").read_bytes()
    for cleaned in (False, True):
        out = pydicom.dcmread(io.BytesIO(deidentify(data, Config(key=TEST_KEY, pixels_cleaned=cleaned)).data))
        assert ("113101" in [i.CodeValue for i in out.DeidentificationMethodCodeSequence]) is cleaned


def _codes(out: Dataset) -> list[str]:
    return [str(i.CodeValue) for i in out.DeidentificationMethodCodeSequence]


@pytest.mark.parametrize("name", ["CT_small.dcm", "SC_rgb_jpeg_dcmtk.dcm", "US1_UNCR.dcm"])
def test_regions_are_redacted_and_clean_pixel_data_claimed(name: str) -> None:
    from corpus import data_file as file

    from redaction.apply import PixelEdit
    from redaction.rectangles import Rect
    from redaction.regions import Region

    data = file(name).read_bytes()
    original = pydicom.dcmread(io.BytesIO(data))
    region = Region(Rect(0, 0, 16, 8), None, series_instance_uid=original.SeriesInstanceUID)
    result = deidentify(data, CONFIG, pixels=PixelEdit(regions=(region,)))
    out = pydicom.dcmread(io.BytesIO(result.data))
    assert result.plan.redacted == int(original.get("NumberOfFrames", 1))
    assert "113101" in _codes(out) and out.BurnedInAnnotation == "NO"
    pixels = out.pixel_array
    frames = pixels if int(original.get("NumberOfFrames", 1)) > 1 else pixels[None]
    lowest = frames.min() if out.PixelRepresentation == 0 else -(1 << (out.BitsStored - 1))
    assert (frames[:, :8, :16] == (0 if out.PixelRepresentation == 0 else lowest)).all()
    assert not any("Clean Pixel Data not claimed" in f for f in result.plan.flags)


def test_reviewed_is_claimed_without_changing_pixels_and_nothing_is_claimed_otherwise() -> None:
    from corpus import data_file as file

    from redaction.apply import PixelEdit
    from redaction.rectangles import Rect
    from redaction.regions import Region

    data = file("US1_UNCR.dcm").read_bytes()
    before = pydicom.dcmread(io.BytesIO(data)).PixelData
    reviewed = pydicom.dcmread(io.BytesIO(deidentify(data, CONFIG, pixels=PixelEdit(reviewed=True)).data))
    assert "113101" in _codes(reviewed) and reviewed.BurnedInAnnotation == "NO"
    assert reviewed.PixelData == before
    elsewhere = PixelEdit(regions=(Region(Rect(0, 0, 5, 5), None, "1.2.3.4"),))  # another file's region
    for pixels in (None, PixelEdit(), elsewhere):
        result = deidentify(data, CONFIG, pixels=pixels)
        out = pydicom.dcmread(io.BytesIO(result.data))
        assert "113101" not in _codes(out) and out.get("BurnedInAnnotation") != "NO"
        assert out.PixelData == before
        assert any("Clean Pixel Data not claimed" in f for f in result.plan.flags)


def test_pixels_that_cannot_be_redacted_fail_the_file() -> None:
    from corpus import data_file as file

    from redaction.apply import PixelEdit
    from redaction.rectangles import Rect
    from redaction.regions import Region

    data = file("JPEG-lossy.dcm").read_bytes()  # no installed decoder reads it
    sop = pydicom.dcmread(io.BytesIO(data)).SOPInstanceUID
    with pytest.raises(DeidentificationError, match="pixels not redacted: cannot decode"):
        deidentify(
            data, CONFIG, path="x.dcm", pixels=PixelEdit(regions=(Region(Rect(0, 0, 5, 5), None, sop),))
        )


def _values(ds: Dataset) -> list[int]:
    data = ds.PixelData
    return [int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data), 2)]


def test_an_embedded_overlay_in_the_high_bits_is_cleared_and_the_plan_says_so() -> None:
    data, _ = embedded_overlay_ct()
    original = pydicom.dcmread(io.BytesIO(data))
    assert sum(v >> 12 != 0 for v in _values(original)) == 550
    result = deidentify(data, CONFIG)
    out = pydicom.dcmread(io.BytesIO(result.data))
    assert _values(out) == [v & 0x0FFF for v in _values(original)]
    assert not any(elem.tag.group == 0x6000 for elem in out)
    step = next(s for s in result.plan.dataset if s.tag == 0x7FE00010)
    assert step.action == "C" and step.old == original.PixelData and step.new == out.PixelData
    assert step.rule.startswith("bits above High Bit zeroed: 550 pixel values had bits set")
    assert any("550 pixel values had bits set outside Bits Stored" in f for f in result.plan.flags)
    assert plan_bytes(data, CONFIG).dataset == result.plan.dataset  # --what-if shows the same


def test_a_redaction_and_the_high_bit_clean_of_one_file_both_apply() -> None:
    from redaction.apply import PixelEdit
    from redaction.rectangles import Rect
    from redaction.regions import Region

    data, written = embedded_overlay_ct()
    region = Region(Rect(0, 0, 40, 20), None, series_instance_uid=written.SeriesInstanceUID)
    result = deidentify(data, CONFIG, pixels=PixelEdit(regions=(region,)))
    out = _values(pydicom.dcmread(io.BytesIO(result.data)))
    expected = [
        0 if i // written.Columns < 20 and i % written.Columns < 40 else v & 0x0FFF
        for i, v in enumerate(_values(written))
    ]
    assert out == expected
    assert result.plan.redacted == 1
    step = next(s for s in result.plan.dataset if s.tag == 0x7FE00010)
    # The text from row 10 down is partly under the region; only what the region left is counted.
    assert step.action == "C" and 0 < int(step.rule.split(": ")[1].split()[0]) < 550


def test_pixels_with_nothing_outside_bits_stored_are_kept_as_they_are() -> None:
    from corpus import file

    result = deidentify(file("CT_small.dcm").read_bytes(), CONFIG)
    step = next(s for s in result.plan.dataset if s.tag == 0x7FE00010)
    assert step.action == "K"
    assert not any("Bits Stored" in f for f in result.plan.flags)
