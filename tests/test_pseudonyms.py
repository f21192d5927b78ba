"""Keyed derivations: deterministic per key, different across keys, well-known UIDs untouched."""

from __future__ import annotations

import re
import uuid

import pytest
from pydicom.dataset import Dataset

from anonymizer.keys import SecretKey
from anonymizer.rules.pseudonyms import MAX_SHIFT_DAYS, MIN_SHIFT_DAYS, Derivations, patient_identity

K1, K2 = SecretKey(b"1" * 32), SecretKey(b"2" * 32)


def test_uid_is_a_valid_uuid_derived_uid() -> None:
    new = Derivations(K1).uid("1.2.826.0.1.3680043.2.1125.1.123")
    assert re.fullmatch(r"2\.25\.(0|[1-9]\d*)", new) and len(new) <= 64
    u = uuid.UUID(int=int(new[5:]))
    assert u.version == 8 and u.variant == uuid.RFC_4122


def test_uid_deterministic_and_keyed() -> None:
    a = Derivations(K1).uid("1.2.3.4")
    assert Derivations(K1).uid("1.2.3.4") == a
    assert Derivations(K1).uid("1.2.3.4 ") == a  # padding is not part of the UID
    assert Derivations(K2).uid("1.2.3.4") != a
    assert Derivations(K1).uid("1.2.3.5") != a


@pytest.mark.parametrize("uid", ["1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.2.16.4"])
def test_well_known_uids_untouched(uid: str) -> None:
    assert Derivations(K1).uid(uid) == uid


def test_many_uids_do_not_collide() -> None:
    d = Derivations(K1)
    out = {d.uid(f"1.2.3.{i}") for i in range(20000)}
    assert len(out) == 20000


def test_date_shift_range_and_determinism() -> None:
    d = Derivations(K1)
    shifts = [d.date_shift_days(f"id:|{i}") for i in range(500)]
    assert all(-MAX_SHIFT_DAYS <= s <= -MIN_SHIFT_DAYS for s in shifts)
    assert len(set(shifts)) > 300
    assert d.date_shift_days("id:|7") == Derivations(K1).date_shift_days("id:|7")


def _ds(**kw: str) -> Dataset:
    ds = Dataset()
    for k, v in kw.items():
        setattr(ds, k, v)
    return ds


def test_patient_identity_fallbacks_do_not_collapse() -> None:
    ids = {
        patient_identity(_ds(PatientID="123")),
        patient_identity(_ds(PatientID="123", IssuerOfPatientID="B")),
        patient_identity(_ds(PatientID="", PatientName="Doe^Jane", PatientBirthDate="19700101")),
        patient_identity(_ds(PatientID="", PatientName="Doe^John", PatientBirthDate="19700101")),
        patient_identity(_ds(PatientID="", StudyInstanceUID="1.2.3")),
        patient_identity(_ds(PatientID="", StudyInstanceUID="1.2.4")),
    }
    assert len(ids) == 6


def test_pseudonyms_valid_for_vr() -> None:
    d = Derivations(K1)
    pid, name = d.patient_id("id:|1"), d.patient_name("id:|1")
    assert len(pid) <= 64 and re.fullmatch(r"[A-Z0-9]+", pid)
    assert name.startswith("Anonymous^") and len(name) <= 64
    assert d.patient_id("id:|2") != pid
    assert len(d.ae_title("CT_SCANNER_1")) <= 16
