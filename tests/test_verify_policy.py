"""The server's policy (anonymizer/verification/verify_policy.py) and the `serve` flags that widen it
(app/cli.py)."""

from __future__ import annotations

import pytest
from conftest import TEST_KEY

from anonymizer.config import Config
from anonymizer.rules.marking import method_text
from anonymizer.rules.options import DEFAULT_OPTIONS, Option
from anonymizer.verification.verify_policy import IDENTITY_OPTIONS, PAGE_OPTIONS, Policy, refused_option
from anonymizer.verification.verify_upload import Family, family_of
from app.cli import _parser, serve_policy


def test_the_default_is_what_the_page_writes() -> None:
    assert (
        Policy().options
        == PAGE_OPTIONS
        == {
            Option.RETAIN_MODIFIED_DATES,
            Option.CLEAN_PIXEL_DATA,
            Option.CLEAN_DESCRIPTORS,
            Option.CLEAN_STRUCTURED_CONTENT,
            Option.CLEAN_GRAPHICS,
        }
    )
    assert Policy().options >= DEFAULT_OPTIONS
    assert not Policy().options & IDENTITY_OPTIONS
    p = Policy()
    assert not (p.allow_legacy_pacsbin or p.accept_other_deidentifiers or p.accept_documents)


@pytest.mark.parametrize("option", sorted(IDENTITY_OPTIONS, key=lambda o: o.value), ids=lambda o: o.value)
def test_each_identity_option_is_accepted_only_by_name(option: Option) -> None:
    assert option not in Policy().options
    assert Policy.from_flags([option.value]).options == PAGE_OPTIONS | {option}
    text = refused_option(option)
    assert option.value in text and f"--accept-option {option.value}" in text and option.code.value in text


def test_unknown_option_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown option"):
        Policy.from_flags(["retain-everything"])


def test_serve_flags_make_the_policy() -> None:
    args = _parser().parse_args(
        [
            "serve",
            "--accept-option",
            "retain-uids",
            "--accept-option",
            "retain-device-identity",
            "--accept-other-deidentifiers",
            "--accept-documents",
            "--allow-legacy-pacsbin",
        ]
    )
    assert serve_policy(args) == Policy(
        options=PAGE_OPTIONS | {Option.RETAIN_UIDS, Option.RETAIN_DEVICE_IDENTITY},
        allow_legacy_pacsbin=True,
        accept_other_deidentifiers=True,
        accept_documents=True,
    )
    assert serve_policy(_parser().parse_args(["serve"])) == Policy()


def test_serve_refuses_an_unknown_option_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["serve", "--accept-option", "retain-everything"])
    assert "retain-uids" in capsys.readouterr().err  # the choices are listed


def test_who_marked_the_file_is_read_from_the_method() -> None:
    ours = method_text(Config(key=TEST_KEY))
    assert family_of(tuple(ours)) is Family.OURS
    assert family_of(("Pacsbin: basic: 20240101",)) is Family.LEGACY
    assert family_of(("DicomCleaner 2024",)) is Family.OTHER
    assert family_of(()) is Family.OTHER
    assert family_of(("Pacsbin Uploader",)) is Family.OTHER  # no version, no colon: not our engine's text
