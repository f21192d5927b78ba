"""anonymizer.config: the one place a configuration is built from a profile chosen by name."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import TEST_KEY

from anonymizer.config import BASIC, PACSBIN, Config, ProfileName, build_config
from anonymizer.legacy.ctp_script import load_builtin_pacsbin
from anonymizer.rules.options import DEFAULT_OPTIONS, Option


def test_basic_needs_no_script() -> None:
    config = build_config(TEST_KEY, DEFAULT_OPTIONS)
    assert config.profile is ProfileName.BASIC and config.script is None


def test_pacsbin_loads_the_builtin_script() -> None:
    config = build_config(TEST_KEY, DEFAULT_OPTIONS, "pacsbin")
    assert config.profile is ProfileName.PACSBIN
    assert config.script == load_builtin_pacsbin()


def test_a_users_script_runs_as_the_legacy_profile() -> None:
    script = load_builtin_pacsbin()
    config = build_config(TEST_KEY, DEFAULT_OPTIONS, PACSBIN, script=script)
    assert config.script is script


@pytest.mark.parametrize("name", ["Basic", "ctp", ""])
def test_an_unknown_profile_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="unknown profile"):
        build_config(TEST_KEY, DEFAULT_OPTIONS, name)
    with pytest.raises(ValueError, match="unknown profile"):
        Config(key=TEST_KEY, profile=name)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["basic", BASIC])
def test_a_plain_name_becomes_the_enum(name: str) -> None:
    assert Config(key=TEST_KEY, profile=name).profile is ProfileName.BASIC  # type: ignore[arg-type]


def test_options_clock_and_pixels_pass_through() -> None:
    options = frozenset({Option.RETAIN_UIDS})
    now = datetime(2026, 1, 2, tzinfo=UTC)
    config = build_config(TEST_KEY, options, clock=lambda: now, pixels_cleaned=True)
    assert config.options == options and config.pixels_cleaned and config.clock() == now
