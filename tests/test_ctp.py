"""anonymizer.legacy.ctp: the CTP script loader and CTP's value functions (expected values from
hashlib/datetime)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from anonymizer.errors import ScriptError
from anonymizer.legacy import ctp
from anonymizer.legacy.ctp import (
    CtpAction,
    CtpOperation,
    ctp_append,
    ctp_contents,
    ctp_format_date,
    ctp_format_time,
    ctp_hash,
    ctp_hashdate,
    ctp_hashdate_shift_days,
    ctp_hashuid,
    ctp_param,
    ctp_shift_date,
    ctp_value_for_absent,
    evaluate_append_value,
    evaluate_operation,
    resolve_element_tag,
)
from anonymizer.legacy.ctp_script import CtpOptions, load_builtin_pacsbin, load_script

CLOCK = datetime(2024, 2, 29, 7, 5, 3)


def md5_decimal(s: str) -> str:
    """Java's new BigInteger(1, MessageDigest("MD5").digest(s.getBytes("UTF-8"))).toString()."""
    return str(int(hashlib.md5(s.encode("utf-8")).hexdigest(), 16))


def expected_shift(s: str) -> int:
    inc = -(int(md5_decimal(s)[-4:]) % 3650)
    return inc or -1


# ---------------------------------------------------------------- hash


@pytest.mark.parametrize("value", ["12345", "", "PAT^ID", "Ünïcödé 患者", "A\\B", " padded ", "X40299"])
@pytest.mark.parametrize("length", [10, 16, 1, 39, 100, 0, -1])
def test_hash_matches_md5_decimal(value: str, length: int) -> None:
    full = md5_decimal(value)
    assert ctp_hash(value, length) == (full if length < 1 else full[:length])


def test_hash_length_beyond_digits_is_not_padded() -> None:
    assert len(md5_decimal("X40299")) == 34  # an MD5 whose decimal is short
    assert ctp_hash("X40299", 39) == md5_decimal("X40299")


def test_hash_of_empty_value() -> None:
    assert ctp_hash("", 10) == "2819497684"  # MD5("") = d41d8cd98f00b204e9800998ecf8427e


# ---------------------------------------------------------------- hashuid


@pytest.mark.parametrize(
    ("root", "prefix"),
    [
        ("1613192914", "1613192914."),
        ("1.2.3.", "1.2.3."),
        ("", "."),  # DICOMAnonymizer.hashuid appends "." before hashUID sees it
        ("  ", "."),
        (" 1.2.3 ", "1.2.3 ."),  # the "." is added before the trim
        ("1.2.3. ", "1.2.3. ."),  # not ending in "." before the trim
    ],
)
@pytest.mark.parametrize("uid", ["1.2.840.113619.2.55.3.604688.1", "", "1.2.3\\4.5.6"])
def test_hashuid(root: str, prefix: str, uid: str) -> None:
    assert ctp_hashuid(root, uid) == (prefix + md5_decimal(uid))[:64]


def test_hashuid_cut_to_64() -> None:
    root = "1.2.826.0.1.3680043.10.543.1234567890"
    out = ctp_hashuid(root, "1.2.3")
    assert len(out) == 64 and out == (root + "." + md5_decimal("1.2.3"))[:64]


def test_hashuid_leading_zero_gets_9(monkeypatch: pytest.MonkeyPatch) -> None:
    # unreachable with a real MD5 (a BigInteger decimal has no leading zero), so force it
    monkeypatch.setattr(ctp, "_usmd5", lambda s: "0123")
    assert ctp_hashuid("1.2", "x") == "1.2.90123"


# ---------------------------------------------------------------- hashdate


@pytest.mark.parametrize("source", ["12345", "", "PID9827", "PID14046", "Ünï", "PATIENT 007"])
def test_shift_days(source: str) -> None:
    days = ctp_hashdate_shift_days(source)
    assert days == expected_shift(source)
    assert -3649 <= days <= -1


@pytest.mark.parametrize("source", ["PID9827", "PID14046"])  # last 4 digits 3650 and 0000
def test_shift_zero_becomes_minus_one(source: str) -> None:
    assert int(md5_decimal(source)[-4:]) % 3650 == 0
    assert ctp_hashdate_shift_days(source) == -1


@pytest.mark.parametrize(
    ("value", "days", "expected"),
    [
        ("20200301", -1, "20200229"),  # leap year
        ("20210301", -1, "20210228"),
        ("20000301", -1, "20000229"),  # 400-year leap
        ("19000301", -1, "19000228"),  # 100-year non-leap
        ("20200101", -1, "20191231"),  # year boundary
        ("20200501", -1, "20200430"),  # month boundary
        ("20240315", -3649, (date(2024, 3, 15) - timedelta(days=3649)).strftime("%Y%m%d")),
        ("20201301", -1, "20201231"),  # lenient calendar: month 13 = January next year
        ("20200100", -1, "20191230"),  # day 0 = last day of the previous month
        ("00200101", -1, "19191231"),  # leading "00" read as "19"
        ("2020:01:01", -1, "2019123101"),  # ':' dropped for parsing; original tail "01" kept
        ("20200101123000.000000", -1, "20191231123000.000000"),  # DT keeps its time as written
        ("202001011230", -2, "20191230" + "1230"),
        ("20200101240000", -1, "20200101240000"[:8] + "240000"),  # hour 24 rolls into Jan 2
        ("20200101235959.9999999", -1, "20200101235959.9999999"),  # float32 rounds to 60 s
        ("20200101+0100", -1, "20191231+0100"),  # parsed as time +0:10:0
    ],
)
def test_shift_date(value: str, days: int, expected: str) -> None:
    assert ctp_shift_date(value, days) == expected


@pytest.mark.parametrize(
    "value",
    [
        "2020",
        "2020010",
        "202001011",
        "20200101120000+0100",
        "2020.01.01",
        "2020-01-01",
        "ABCDEFGH",
        "15000101",
    ],
)
def test_shift_date_invalid(value: str) -> None:
    with pytest.raises(ValueError):
        ctp_shift_date(value, -1)


def test_hashdate() -> None:
    days = expected_shift("PID1")
    shifted = (date(2020, 1, 1) + timedelta(days=days)).strftime("%Y%m%d")
    shifted2 = (date(2021, 6, 15) + timedelta(days=days)).strftime("%Y%m%d")
    assert ctp_hashdate("20200101", "PID1") == shifted
    assert ctp_hashdate("20200101\\20210615", "PID1") == shifted + "\\" + shifted2
    assert ctp_hashdate("20200101\\", "PID1") == shifted  # Java split drops trailing empties
    assert ctp_hashdate(None, "PID1") is CtpAction.REMOVE
    assert ctp_hashdate("20200101", None) is CtpAction.REMOVE
    assert ctp_hashdate("2020", "PID1") is CtpAction.EMPTY  # partial date
    assert ctp_hashdate("2020", None) is CtpAction.EMPTY  # length is checked before the hash element
    assert ctp_hashdate("", "PID1") is CtpAction.EMPTY
    assert ctp_hashdate("20200101\\bad", "PID1") is CtpAction.EMPTY  # one bad value empties all


# ---------------------------------------------------------------- contents, params, names


@pytest.mark.parametrize(
    ("raw", "vr", "expected"),
    [
        ("  ABC  ", "LO", "ABC"),
        (" A \\ B ", "SH", "A \\ B"),  # trimmed as a whole, not per value
        ("CS1\\CS2 ", "CS", "CS1\\CS2"),
        ("  DOE^JOHN^^ ", "PN", "  DOE^JOHN"),
        ("1.2.3\0", "UI", "1.2.3"),
        ("20200101 ", "DA", "20200101"),
        ("  text  ", "LT", "  text"),
        (" 12Y", "AS", " 12Y"),
        ("", "LO", ""),
    ],
)
def test_contents(raw: str, vr: str, expected: str) -> None:
    assert ctp_contents(raw, vr) == expected


def test_param() -> None:
    variables = {"UIDROOT": "1.2.3", "PAD": " x "}
    assert ctp_param("@UIDROOT", variables) == "1.2.3"
    assert ctp_param(" $UIDROOT ", variables) == "1.2.3"
    assert ctp_param("@PAD", variables) == " x "  # variable values are not trimmed
    assert ctp_param(" 16 ", variables) == "16"
    with pytest.raises(ScriptError):
        ctp_param("@NOPE", variables)


@pytest.mark.parametrize(
    ("name", "tag"),
    [
        ("this", 0x00080050),
        (" this ", 0x00080050),
        ("PatientID", 0x00100020),
        ("00100020", 0x00100020),
        ("[00100020]", 0x00100020),
        ("(0010,0020)", 0x00100020),
        ("10,20", 0x00100020),
        ("[PatientID]", 0x00100020),
    ],
)
def test_resolve_element_tag(name: str, tag: int) -> None:
    assert resolve_element_tag(name, 0x00080050) == tag


@pytest.mark.parametrize("name", ["", "NotAKeyword", "@UIDROOT", "123456789", "0010,0020,0030"])
def test_resolve_element_tag_invalid(name: str) -> None:
    with pytest.raises(ScriptError):
        resolve_element_tag(name, 0x00080050)


# ---------------------------------------------------------------- append, date/time


def test_format_date_time() -> None:
    assert ctp_format_date(CLOCK) == "20240229"
    assert ctp_format_time(CLOCK) == "070503"
    assert ctp_format_date(CLOCK, "-") == "2024-02-29"
    assert ctp_format_time(datetime(2024, 1, 1, 23, 0, 0), ":") == "23:00:00"


def test_builtin_append_rendering() -> None:
    script = load_builtin_pacsbin()
    op = script.rules[0x00120063].operation
    assert (
        evaluate_append_value(op, script.variables, CLOCK) == "Pacsbin: DICOM-PS3.15E-Basic: 20240229:070503"
    )


def test_append_with_separators() -> None:
    op = CtpOperation("append", ("D=", CtpOperation("date", (' "/" ',)), " T=", CtpOperation("time", ("-",))))
    assert evaluate_append_value(op, {}, CLOCK) == "D=2024/02/29 T=07-05-03"


@pytest.mark.parametrize(
    ("existing", "expected"),
    [(None, "NEW"), ("", "NEW"), ("OLD", "OLD\\NEW"), ("A\\B", "A\\B\\NEW")],
)
def test_append_to_existing(existing: str | None, expected: str) -> None:
    assert ctp_append(existing, "NEW") == expected
    assert ctp_append(existing, "NEW  ") == expected  # processElements trims the result


# ---------------------------------------------------------------- evaluate_operation on the builtin script

ORIGINAL = {
    0x00100010: "DOE^JANE",
    0x00100020: "PID1",
    0x00080050: "ACC123",
    0x00080018: "1.2.3.4",
    0x00080020: "20200101",
    0x00100030: "19800229",
    0x00120063: "Earlier method",
    0x00080060: "CT",
}


def run(tag: int, data: dict[int, str] | None = None) -> str | CtpAction:
    script = load_builtin_pacsbin()
    values = ORIGINAL if data is None else data
    return evaluate_operation(script.rules[tag].operation, tag, script.variables, values.get, CLOCK)


def test_evaluate_builtin_operations() -> None:
    days = expected_shift("PID1")
    assert run(0x00100010) == md5_decimal("PID1")[:10]  # PatientName <- hash(PatientID, 10)
    assert run(0x00100020) == md5_decimal("PID1")[:10]
    assert run(0x00080050) == md5_decimal("ACC123")[:16]
    assert run(0x00080018) == "1613192914." + md5_decimal("1.2.3.4")
    assert run(0x00080020) == (date(2020, 1, 1) + timedelta(days=days)).strftime("%Y%m%d")
    assert run(0x00100030) == (date(1980, 2, 29) + timedelta(days=days)).strftime("%Y%m%d")
    assert run(0x00120062) == "YES"
    assert run(0x00120063) == "Earlier method\\Pacsbin: DICOM-PS3.15E-Basic: 20240229:070503"
    assert run(0x00080060) is CtpAction.KEEP  # require
    assert run(0x00080005) is CtpAction.KEEP
    assert run(0x00080012) is CtpAction.REMOVE
    assert run(0x00080030) is CtpAction.EMPTY


def test_evaluate_without_patient_id() -> None:
    data = {k: v for k, v in ORIGINAL.items() if k != 0x00100020}
    assert run(0x00100010, data) is CtpAction.REMOVE  # hash of an absent element
    assert run(0x00080020, data) is CtpAction.REMOVE  # hashdate without its hash element
    assert run(0x00080050, {0x00080050: ""}) == md5_decimal("")[:16]  # empty, not absent


def test_values_for_absent_elements() -> None:
    script = load_builtin_pacsbin()
    assert ctp_value_for_absent(script.rules[0x00120062].operation, script.variables, CLOCK) == "YES"
    for tag in (0x00120063, 0x00080060, 0x00100020):  # append, require, hash: never created
        assert ctp_value_for_absent(script.rules[tag].operation, script.variables, CLOCK) is None


# ---------------------------------------------------------------- loading


def test_builtin_script_counts() -> None:
    script = load_builtin_pacsbin()
    assert len(script.rules) == 1030
    enabled = Counter(r.operation.name for r in script.rules.values() if r.enabled)
    disabled = Counter(r.operation.name for r in script.rules.values() if not r.enabled)
    assert enabled == {
        "remove": 207, "hashuid": 28, "empty": 7, "keep": 5, "hash": 5,
        "hashdate": 4, "require": 2, "always": 1, "append": 1,
    }  # fmt: skip
    assert disabled == {"keep": 761, "param": 7, "always": 1, "remove": 1}
    assert script.variables["UIDROOT"] == "1613192914"
    assert script.options.remove_private_groups and script.options.remove_overlays
    assert script.options.keep_groups == {0x0018, 0x0020, 0x0028}
    assert script.options.sequence_action == "remove"
    assert script.rules[0x00100010].operation == CtpOperation("hash", ("PatientID", "10"))


def test_builtin_is_cached_and_read_only() -> None:
    script = load_builtin_pacsbin()
    assert load_builtin_pacsbin() is script
    with pytest.raises(TypeError):
        script.rules[1] = script.rules[0x00100010]  # type: ignore[index]


def _doc(*rules: object, variables: object = None, options: object = None) -> str:
    doc: dict[str, object] = {
        "variables": variables or [{"name": "UIDROOT", "value": "1.2"}],
        "rules": list(rules),
    }
    if options is not None:
        doc["options"] = options
    return json.dumps(doc)


def _rule(tag: str, name: str, *params: object, enabled: bool = True) -> dict[str, object]:
    op: dict[str, object] = {"operationName": name}
    if params:
        op["operationParameters"] = list(params)
    return {"enabled": enabled, "tag": tag, "name": "X", "operation": op}


def test_load_minimal_script() -> None:
    script = load_script(_doc(_rule("00100020", "hash", "this", "@UIDROOT")).encode())
    assert script.rules[0x00100020].operation.params == ("this", "@UIDROOT")
    assert script.options == CtpOptions()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not JSON"),
        ("[]", "expected an object"),
        (json.dumps({"rules": [], "extra": 1}), "expected an object"),
        (
            _doc(_rule("00100020", "keep"), _rule("00080050", "lookup", "this")),
            "rule 1 (00080050): unknown operation",
        ),
        (_doc(_rule("0010002", "keep")), "rule 0 (0010002): tag must be 8 hex digits"),
        (_doc(_rule("0010002G", "keep")), "rule 0 (0010002G)"),
        (_doc(_rule("00100020", "keep"), _rule("00100020", "remove")), "rule 1 (00100020): duplicate tag"),
        (_doc(_rule("00100020", "keep", "x")), "takes 0..0 parameters"),
        (_doc(_rule("00100020", "hashuid", "@UIDROOT", "this", "PatientID")), "takes 2..2"),
        (_doc(_rule("00100020", "hash", "this", {"operationName": "date"})), "bad parameter"),
        (_doc(_rule("00100020", "hash", "this", 10)), "bad parameter"),
        (_doc(_rule("00100020", "hashuid", "@NOROOT", "this")), "rule 0 (00100020): undefined variable"),
        (_doc(_rule("00100020", "hash", "PatientIdd", "10")), "not an element name"),
        (_doc(_rule("00120063", "append", {"operationName": "hash"})), "unknown operation"),
        (
            _doc(_rule("00120063", "append", {"operationName": "param", "operationParameters": ["@X"]})),
            "undefined",
        ),
        (_doc({"enabled": "yes", "tag": "00100020", "operation": {"operationName": "keep"}}), "boolean"),
        (_doc({"enabled": True, "tag": "00100020"}), "bad operation"),
        (_doc(variables=[{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]), "duplicate variable"),
        (_doc(options={"removePrivateGroup": True}), "bad option"),
        (_doc(options={"removeCurves": "yes"}), "bad option"),
    ],
)
def test_script_errors(text: str, message: str) -> None:
    with pytest.raises(ScriptError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_script(text)


def test_disabled_rules_may_reference_undefined_variables() -> None:
    script = load_script(_doc(_rule("00120010", "param", "@TRIALSPONSOR", enabled=False)))
    assert not script.rules[0x00120010].enabled
