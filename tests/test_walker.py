"""Walking rules outside the per-row table: private elements, group lengths, overlays, curves, depth."""

from __future__ import annotations

import io

import pydicom
import pytest
from conftest import TEST_KEY
from corpus import file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from synthetic.all_table_rows import all_table_rows_file

from anonymizer.config import Config
from anonymizer.engine import deidentify
from anonymizer.errors import DeidentificationError
from anonymizer.rules.options import DEFAULT_OPTIONS, Option


def _out(data: bytes, options: frozenset[Option] = DEFAULT_OPTIONS) -> Dataset:
    return pydicom.dcmread(io.BytesIO(deidentify(data, Config(key=TEST_KEY, options=options)).data))


def test_retain_safe_private_keeps_only_listed_elements_and_their_creator() -> None:
    source = all_table_rows_file(1)
    plain = _out(source.data)
    assert not [e for e in plain.iterall() if e.tag.is_private]
    kept = _out(source.data, DEFAULT_OPTIONS | {Option.RETAIN_SAFE_PRIVATE})
    private = [e for e in kept.iterall() if e.tag.is_private]
    assert {(e.tag.group, e.tag.element) for e in private} == {(0x7053, 0x0010), (0x7053, 0x1000)}
    assert kept[0x70531000].value == pytest.approx(1.234)
    assert "113111" in [i.CodeValue for i in kept.DeidentificationMethodCodeSequence]


def _dataset_bytes(ds: Dataset) -> bytes:
    base = pydicom.dcmread(file("CT_small.dcm"))
    for elem in ds:
        base.add(elem)
    buf = io.BytesIO()
    base.save_as(buf)
    return buf.getvalue()


def test_overlay_group_removed_whole() -> None:
    ds = Dataset()
    ds.add_new(0x60000010, "US", 8)
    ds.add_new(0x60000011, "US", 8)
    ds.add_new(0x60000040, "CS", "G")
    ds.add_new(0x60000050, "SS", [1, 1])
    ds.add_new(0x60000100, "US", 1)
    ds.add_new(0x60000102, "US", 0)
    ds.add_new(0x60003000, "OW", b"\xff" * 8)
    ds.add_new(0x60020022, "LO", "Overlay of Doe^Jane")
    out = _out(_dataset_bytes(ds))
    assert not [e for e in out if 0x6000 <= e.tag.group <= 0x601E]


def test_group_length_removed() -> None:
    ds = Dataset()
    ds.add_new(0x00080000, "UL", 1234)
    out = _out(_dataset_bytes(ds))
    assert 0x00080000 not in out


def test_table_attribute_inside_unlisted_sequence() -> None:
    item = Dataset()
    item.PatientName = "Doe^Jane"
    item.PatientBirthDate = "19700412"
    item.ReferencedSOPInstanceUID = "1.2.826.0.1.3680043.10.999.55"
    inner = Dataset()
    inner.OperatorsName = "Smith^Bob"
    item.ReferencedInstanceSequence = Sequence([inner])
    ds = Dataset()
    ds.ReferencedSeriesSequence = Sequence([item])  # not in Table E.1-1
    out = _out(_dataset_bytes(ds))
    got = out.ReferencedSeriesSequence[0]
    assert "PatientBirthDate" not in got or got.PatientBirthDate in ("", None)
    assert str(got.get("PatientName", "")) in ("", "ANONYMIZED") or "Doe" not in str(got.PatientName)
    assert got.ReferencedSOPInstanceUID.startswith("2.25.")
    assert "OperatorsName" not in got.ReferencedInstanceSequence[0]


def test_deep_nesting_is_refused_not_crashed() -> None:
    ds = Dataset()
    node = ds
    for _ in range(80):
        item = Dataset()
        node.ReferencedSeriesSequence = Sequence([item])
        node = item
    node.PatientName = "Doe^Jane"
    with pytest.raises(DeidentificationError, match="nested deeper|deeper than"):
        deidentify(_dataset_bytes(ds), Config(key=TEST_KEY))


def test_unknown_vr_content_removed() -> None:
    ds = Dataset()
    ds.add_new(0x00311000, "UN", b"secret")  # private: removed anyway
    ds.add_new(0x0009_0010, "LO", "ACME")
    out = _out(_dataset_bytes(ds))
    assert not [e for e in out if e.tag.is_private]


def test_command_elements_and_encrypted_attributes_removed() -> None:
    item = Dataset()
    item.add_new(0x00000902, "LO", "Error about Doe^Jane")  # a command element misused in a data set
    item.add_new(0x00001030, "AE", "DOE_WORKSTATION")
    encrypted = Dataset()
    encrypted.EncryptedContentTransferSyntaxUID = "1.2.840.10008.1.2.1"
    encrypted.EncryptedContent = b"\x01" * 16
    ds = Dataset()
    ds.ReferencedSeriesSequence = Sequence([item])
    ds.EncryptedAttributesSequence = Sequence([encrypted])
    out = _out(_dataset_bytes(ds))
    assert len(out.ReferencedSeriesSequence[0]) == 0
    assert "EncryptedAttributesSequence" not in out


@pytest.mark.parametrize(
    "keyword, value, kept",
    [
        ("ContextGroupExtensionCreatorUID", "1.2.826.0.1.3680043.10.999.77", False),
        ("CodingSchemeUID", "1.2.840.10008.2.16.4", True),  # DCM, registered (PS3.6 Annex A)
        ("ReferencedSOPClassUID", "1.2.840.10008.5.1.4.1.1.2", True),
        ("MappingResourceUID", "1.2.840.10008.8.1.1", True),
        # Issue 12: a definition attribute holding an unregistered value may carry anything: mapped.
        ("CodingSchemeUID", "1.2.826.0.1.3680043.10.999.77", False),
        ("ReferencedSOPClassUID", "1.2.840.10008.5.1.4.1.1.2.1234567", False),
    ],
)
def test_registered_definition_uids_kept_others_mapped(keyword: str, value: str, kept: bool) -> None:
    item = Dataset()
    setattr(item, keyword, value)
    ds = Dataset()
    ds.ReferencedSeriesSequence = Sequence([item])
    out = _out(_dataset_bytes(ds))
    assert (getattr(out.ReferencedSeriesSequence[0], keyword) == value) is kept


