"""Every row of Table E.1-1, under the Basic Profile and under each option: the output shows the action
the table asks for (resolved by the attribute's Type in the CT Image IOD), and the plan names the row.

One CT file per option set carries an attribute for every row (each with its own value), so the
parametrized per-row checks read a cached result.
"""

from __future__ import annotations

import io
from functools import cache

import pydicom
import pytest
from conftest import TEST_KEY
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from synthetic.e11_table import vr_vm

from anonymizer.config import Config
from anonymizer.engine import deidentify
from anonymizer.planning.plan import Plan, Step
from anonymizer.rules.date_kinds import DateKind, date_kind
from anonymizer.rules.iod_types import resolve
from anonymizer.rules.options import DEFAULT_OPTIONS, Option
from anonymizer.rules.pseudonyms import Derivations, patient_identity
from anonymizer.rules.table import Row, load_table

CT = "1.2.840.10008.5.1.4.1.1.2"
OPTION_SETS: dict[str, frozenset[Option]] = {"basic": frozenset(), "default": DEFAULT_OPTIONS}
OPTION_SETS |= {o.value: frozenset({o}) for o in Option if o.column}
ROWS = [
    r for r in load_table().rows if "x" not in r.tag.lower() and r.tag[:4] not in ("0000", "0002", "gggg")
]
BASE = {0x00080016, 0x00080018, 0x0020000D, 0x0020000E, 0x00100020, 0x00100010}


def _count(vm: str) -> int:
    head = vm.split("-")[0].replace("n", "1")
    return int(head) if head.isdigit() else 1


def planted(tag: int, vr: str) -> object:
    t = f"{tag:08X}"
    if tag == 0x00080201:
        return "+0130"  # Timezone Offset From UTC: cleaning keeps only a real offset
    if vr == "SQ":
        item = Dataset()
        item.CodeMeaning = f"M{t}"
        item.PersonName = f"P{t}^Given"
        item.ReferencedSOPInstanceUID = f"1.2.826.0.1.3680043.10.998.{tag}"
        return Sequence([item])
    values: dict[str, object] = {
        "PN": f"N{t}^Given",
        "DA": "20010203",
        "TM": "101112",
        "DT": "20010203101112.5+0100",
        "UI": f"1.2.826.0.1.3680043.10.999.{tag}",
        "AE": f"AE{t}",
        "AS": "042Y",
        "DS": "42.5",
        "IS": "42",
        "US": 42,
        "SS": 42,
        "UL": 42,
        "SL": 42,
        "UV": 42,
        "SV": 42,
        "FL": 42.0,
        "FD": 42.0,
        "AT": 0x00100010,
        "OB": b"\x01\x02",
        "OW": b"\x01\x02",
        "UN": b"\x01\x02",
        "OF": b"\0\0\0\0",
        "OD": bytes(8),
        "OL": bytes(4),
        "OV": bytes(8),
        "UR": f"http://h{t}.example/",
        "CS": f"C{t}",
    }
    return values.get(vr, f"V{t}")


def _dataset() -> bytes:
    ds = Dataset()
    ds.SOPClassUID = CT
    ds.SOPInstanceUID = "1.2.826.0.1.3680043.10.997.1"
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.10.997.2"
    ds.SeriesInstanceUID = "1.2.826.0.1.3680043.10.997.3"
    ds.PatientID = "PID42"
    ds.PatientName = "Planted^Patient"
    for row in ROWS:
        tag = int(row.tag.replace(",", ""), 16)
        if tag in BASE:
            continue
        vr, vm = vr_vm(tag)
        value = planted(tag, vr)
        n = _count(vm)
        if n > 1 and vr not in ("SQ", "OB", "OW", "UN", "OF", "OD", "OL", "OV"):
            value = [value] * n
        ds.add_new(tag, vr, value)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CT
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()


@cache
def result(name: str) -> tuple[Dataset, Dataset, Plan, int | None]:
    data = _dataset()
    options = OPTION_SETS[name]
    r = deidentify(data, Config(key=TEST_KEY, options=options))
    original = pydicom.dcmread(io.BytesIO(data))
    shift = None
    if Option.RETAIN_MODIFIED_DATES in options:
        shift = Derivations(TEST_KEY).date_shift_days(patient_identity(original))
    return original, pydicom.dcmread(io.BytesIO(r.data)), r.plan, shift


def expected_action(row: Row, options: frozenset[Option], vr: str) -> str:
    tag = int(row.tag.replace(",", ""), 16)
    code, _ = row.action(options)
    action, _ = resolve(code, CT, (tag,))
    if action == "C" and vr in ("DA", "DT") and Option.RETAIN_MODIFIED_DATES not in options:
        action = "D"
    elif action == "C" and vr in ("DA", "DT"):
        # Only dates of the patient's care are shifted (data/dates.csv; tests/test_date_shift_leak.py)
        kind = date_kind(tag)
        if kind is DateKind.RESOURCE:
            action = "K"
        elif kind is DateKind.OTHER:
            action, _ = resolve(row.basic, CT, (tag,))
    if tag in (0x00100010, 0x00100020) and action in ("Z", "D"):
        action = "pseudonym"
    if action == "C" and vr in ("OB", "OW", "UN", "UR"):
        action = "X"  # binary content cannot be cleaned: removed (actions.clean)
    if action == "U" and Option.RETAIN_UIDS in options:
        action = "K"
    return action


def _step(plan: Plan, tag: int) -> Step:
    return next(s for s in plan.dataset if s.tag == tag)


@pytest.mark.parametrize("options", list(OPTION_SETS), ids=list(OPTION_SETS))
@pytest.mark.parametrize("row", ROWS, ids=[r.tag for r in ROWS])
def test_row_action(row: Row, options: str) -> None:
    from anonymizer.rules.dates import shift_value

    tag = int(row.tag.replace(",", ""), 16)
    vr, _ = vr_vm(tag)
    original, out, plan, shift = result(options)
    action = expected_action(row, OPTION_SETS[options], vr)
    step = _step(plan, tag)
    assert step.rule.startswith(row.label) or tag in (0x00120062, 0x00120063, 0x00120064), step.rule
    old = original[tag].value
    if action == "X":
        assert tag not in out
        return
    assert tag in out, f"{row.label}: expected {action}, removed"
    new = out[tag].value
    if action == "Z":
        assert new in (None, "", b"") or (vr == "SQ" and len(new) == 0), new
    elif action == "K":
        if vr == "SQ":
            assert len(new) == len(old)
            assert new[0].CodeMeaning == old[0].CodeMeaning
            assert new[0].PersonName != old[0].PersonName  # K cleans sequences
        else:
            assert new == old
    elif action == "D":
        assert new not in (None, "", b"")
        if vr == "SQ":
            assert len(new) == len(old) and new[0].PersonName != old[0].PersonName
            assert new[0].CodeMeaning != old[0].CodeMeaning  # free text inside a D sequence is replaced
        elif vr == "UI":
            assert new == Derivations(TEST_KEY).uid(str(old))
        else:
            assert new != old
    elif action == "U":
        if vr == "SQ":
            assert new[0].ReferencedSOPInstanceUID == Derivations(TEST_KEY).uid(
                old[0].ReferencedSOPInstanceUID
            )
        else:
            assert new == Derivations(TEST_KEY).uid(str(old)) and new.startswith("2.25.")
    elif action == "C":
        if vr in ("DA", "DT"):
            assert shift is not None and new == shift_value(vr, str(old), shift)
        elif vr == "TM":
            assert new == old
        elif vr == "AE":
            assert new == Derivations(TEST_KEY).ae_title(str(old))
        elif vr == "SQ":
            assert len(new) == len(old) and new[0].PersonName != old[0].PersonName
        else:
            assert new == old or "*" in str(new)
    elif action == "pseudonym":
        assert new not in (None, "") and new != old
    else:
        pytest.fail(f"unexpected action {action}")


def test_every_row_is_planted() -> None:
    original, *_ = result("basic")
    missing = [r.tag for r in ROWS if int(r.tag.replace(",", ""), 16) not in original]
    assert not missing
