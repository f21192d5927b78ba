"""The re-check on arrival: everything the engine writes passes; originals and tampered files are refused."""

from __future__ import annotations

import io
from collections.abc import Callable

import pydicom
import pytest
from conftest import TEST_KEY
from corpus import file, public_files
from pydicom.dataset import Dataset

from anonymizer.config import PACSBIN, Config
from anonymizer.ctp_script import load_builtin_pacsbin
from anonymizer.engine import deidentify
from anonymizer.errors import DeidentificationError
from anonymizer.options import Option
from anonymizer.verify import CHECKS, Policy, check_deidentified

CONFIG = Config(key=TEST_KEY)


def _deidentified(name: str = "CT_small.dcm", config: Config = CONFIG) -> bytes:
    return deidentify(file(name).read_bytes(), config).data


def _edited(data: bytes, change: Callable[[Dataset], None]) -> bytes:
    ds = pydicom.dcmread(io.BytesIO(data))
    change(ds)
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


@pytest.mark.parametrize("path", public_files(), ids=lambda p: p.name)
def test_engine_output_passes_and_the_original_does_not(path: object) -> None:
    data = path.read_bytes()  # type: ignore[attr-defined]
    try:
        out = deidentify(data, CONFIG).data
    except DeidentificationError:
        return
    verdict = check_deidentified(out, Policy())
    assert verdict.ok, verdict.problems
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
    assert len(CHECKS) >= 8
