"""anonymizer.planning.profiles and anonymizer.legacy.pacsbin: the Profile interface and the frozen per-file
context."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pydicom
import pytest
from conftest import TEST_KEY
from corpus import file

from anonymizer.config import ProfileName, build_config
from anonymizer.legacy.ctp import ctp_hashdate_shift_days, ctp_hashuid
from anonymizer.legacy.pacsbin import PacsbinProfile
from anonymizer.planning.context import FileContext, Profile
from anonymizer.planning.plan import Action
from anonymizer.planning.profiles import BasicProfile, derivations, file_context, profile_for
from anonymizer.rules.options import DEFAULT_OPTIONS, Option
from anonymizer.rules.pseudonyms import patient_identity

CLOCK = datetime(2026, 11, 25, 13, 14, 15, tzinfo=UTC)
BASIC = build_config(TEST_KEY, DEFAULT_OPTIONS)
PACSBIN = build_config(TEST_KEY, DEFAULT_OPTIONS, "pacsbin", clock=lambda: CLOCK)
NO_DATES = build_config(TEST_KEY, frozenset(DEFAULT_OPTIONS - {Option.RETAIN_MODIFIED_DATES}), "pacsbin")


def _ds() -> pydicom.Dataset:
    return pydicom.dcmread(file("CT_small.dcm"))


def test_basic_profile_maps_with_the_key_and_decides_nothing_itself() -> None:
    ds = _ds()
    profile = profile_for(ds, BASIC)
    assert isinstance(profile, BasicProfile) and profile.name is ProfileName.BASIC
    derive = derivations(BASIC)
    assert profile.map_uid(ds.StudyInstanceUID) == derive.uid(ds.StudyInstanceUID)
    assert profile.shift_days == derive.date_shift_days(patient_identity(ds))
    assert profile.created() == () and profile.method() is None


def test_pacsbin_profile_is_the_script_bound_to_the_file() -> None:
    ds = _ds()
    profile = profile_for(ds, PACSBIN)
    assert isinstance(profile, PacsbinProfile) and profile.name is ProfileName.PACSBIN
    assert profile.map_uid(ds.StudyInstanceUID) == ctp_hashuid("1613192914", ds.StudyInstanceUID)
    assert profile.map_uid("1.2.840.10008.1.2.1") == "1.2.840.10008.1.2.1"  # registered: kept
    assert profile.shift_days == ctp_hashdate_shift_days(ds.PatientID)
    assert profile.method() == ["Pacsbin: DICOM-PS3.15E-Basic: 20261125:131415"]
    assert all(s.created and s.action.value.startswith("ctp:") for s in profile.created())


def test_pacsbin_shifts_dates_only_when_the_option_says_so() -> None:
    assert profile_for(_ds(), NO_DATES).shift_days is None


@pytest.mark.parametrize("config", [BASIC, PACSBIN], ids=["basic", "pacsbin"])
def test_the_file_context_is_frozen_and_built_from_the_profile(config: object) -> None:
    ds = _ds()
    ctx = file_context(ds, config)  # type: ignore[arg-type]
    profile: Profile = ctx.profile
    assert isinstance(ctx, FileContext)
    assert ctx.shift_days == profile.shift_days
    assert ctx.map_uid(ds.SOPInstanceUID) == profile.map_uid(ds.SOPInstanceUID)
    assert ctx.sop_class == ds.SOPClassUID
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.shift_days = 0  # type: ignore[misc]


def test_pacsbin_override_takes_only_top_level_script_elements() -> None:
    from anonymizer.planning.context import Mode, Where

    ds = _ds()
    ctx = file_context(ds, PACSBIN)
    top = ctx.profile.override(ctx, ds["PatientID"], Where("(0010,0020)", (0x00100020,), "", Mode.NORMAL))
    assert top is not None and top.action is Action.CTP_HASH
    nested = Where("(0008,1115)[0]>(0010,0020)", (0x00081115, 0x00100020), "", Mode.NORMAL)
    assert ctx.profile.override(ctx, ds["PatientID"], nested) is None
