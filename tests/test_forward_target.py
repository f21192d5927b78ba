"""Where --forward may send and with which credentials (app/forward_target.py): refused at start, clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.forward_target import ForwardConfigError, Scheme, forward_target


@pytest.mark.parametrize(
    "url",
    [
        "https://pacs.example/dicom-web",
        "http://127.0.0.1:8042/dicom-web",
        "http://localhost/dicom-web",
        "http://[::1]:8042/dicom-web",
    ],
)
def test_https_or_loopback_is_accepted(url: str) -> None:
    assert forward_target(url, None, {}).stow_url == url.rstrip("/") + "/studies"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://pacs.example/dicom-web", "over plain HTTP"),
        ("http://10.0.0.5/dicom-web", "over plain HTTP"),
        ("https://admin:pw@pacs.example/dicom-web", "holds a user or password"),
        ("file:///etc/passwd", "not a DICOMweb address"),
        ("pacs.example/dicom-web", "not a DICOMweb address"),
    ],
)
def test_other_addresses_are_refused_with_a_reason(url: str, words: str) -> None:
    with pytest.raises(ForwardConfigError, match=words):
        forward_target(url, None, {})


def _file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "pacs.env"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_credentials_from_a_file(tmp_path: Path) -> None:
    path = _file(tmp_path, "# the PACS\nPACSBIN_FORWARD_USER = pacs\nPACSBIN_FORWARD_PASSWORD=p=w rd\n")
    credentials = forward_target("https://p/dw", path, {}).credentials
    assert credentials is not None and credentials.scheme is Scheme.BASIC
    assert (credentials.user, credentials.secret) == ("pacs", "p=w rd")
    assert "p=w rd" not in repr(credentials) and "pacs" in credentials.describe()


def test_credentials_from_the_environment() -> None:
    credentials = forward_target("https://p/dw", None, {"PACSBIN_FORWARD_TOKEN": "abc.def"}).credentials
    assert credentials is not None and credentials.authorization() == "Bearer abc.def"
    assert forward_target("https://p/dw", None, {}).credentials is None


@pytest.mark.parametrize(
    ("text", "environ", "mode", "words"),
    [
        ("PACSBIN_FORWARD_TOKEN=t\n", {}, 0o644, "chmod 600"),
        ("PACSBIN_FORWARD_TOKEN=t\n", {"PACSBIN_FORWARD_TOKEN": "u"}, 0o600, "in one place"),
        ("PACSBIN_FORWARD_TOKN=t\n", {}, 0o600, "line 1"),
        ("# nothing\n", {}, 0o600, "holds no credentials"),
        ("PACSBIN_FORWARD_TOKEN=t\nPACSBIN_FORWARD_USER=u\n", {}, 0o600, "not both"),
        ("PACSBIN_FORWARD_USER=u\n", {}, 0o600, "go together"),
        ("PACSBIN_FORWARD_USER=a:b\nPACSBIN_FORWARD_PASSWORD=p\n", {}, 0o600, "':'"),
        ("PACSBIN_FORWARD_TOKEN=a b\n", {}, 0o600, "spaces"),
    ],
)
def test_unusable_credentials_are_refused(
    tmp_path: Path, text: str, environ: dict[str, str], mode: int, words: str
) -> None:
    with pytest.raises(ForwardConfigError, match=words):
        forward_target("https://p/dw", _file(tmp_path, text, mode), environ)


def test_a_missing_credentials_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ForwardConfigError, match="cannot read"):
        forward_target("https://p/dw", tmp_path / "absent", {})
