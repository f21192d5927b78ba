"""Whole-day date shifts: intervals kept, precision kept, times and offsets kept, bad values refused."""

from __future__ import annotations

from datetime import date

import pytest

from anonymizer.rules.dates import InvalidDateError, shift_da, shift_dt, shift_value


@pytest.mark.parametrize(
    "value, days, expected",
    [
        ("20200301", -1, "20200229"),
        ("20210301", -1, "20210228"),
        ("20200101", -366, "20181231"),
        ("2020", -400, "2018"),
        ("202003", -31, "202001"),
        ("2020.03.01", -1, "20200229"),
        ("2020-03-01", -1, "20200229"),
        ("20200301 ", 0, "20200301"),
    ],
)
def test_shift_da(value: str, days: int, expected: str) -> None:
    assert shift_da(value, days) == expected


@pytest.mark.parametrize(
    "value, days, expected",
    [
        ("20200301101112.123456+0130", -1, "20200229101112.123456+0130"),
        ("20200301101112", -3650, "20100304101112"),
        ("2020-0500", -400, "2018-0500"),
        ("20200301", -1, "20200229"),
        ("2020030110", 1, "2020030210"),
    ],
)
def test_shift_dt(value: str, days: int, expected: str) -> None:
    assert shift_dt(value, days) == expected


@pytest.mark.parametrize(
    "value", ["", "hello", "20201301", "20200230", "2020030", "20200301T1010", "99999999"]
)
def test_invalid_dates_refused(value: str) -> None:
    with pytest.raises(InvalidDateError):
        shift_da(value, -10)


def test_interval_preserved() -> None:
    a, b = "19991231", "20240229"
    sa, sb = shift_da(a, -1234), shift_da(b, -1234)
    parse = lambda s: date(int(s[:4]), int(s[4:6]), int(s[6:]))  # noqa: E731
    assert (parse(b) - parse(a)) == (parse(sb) - parse(sa))


def test_range() -> None:
    assert shift_value("DA", "20200301-20200305", -1) == "20200229-20200304"
    assert shift_value("DA", "-20200305", -1) == "-20200304"
