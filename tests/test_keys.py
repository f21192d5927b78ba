"""Secret keys: PBKDF2 on hmac equals hashlib's, the key file round-trips, errors are specific."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from anonymizer.errors import KeyFileError
from anonymizer.keys import PASSPHRASE_ITERATIONS, PASSPHRASE_SALT, SecretKey, pbkdf2_sha256


@pytest.mark.parametrize(
    "password, salt, rounds, length",
    [
        (b"password", b"salt", 1, 32),
        (b"password", b"salt", 2, 32),
        (b"pass\0word", b"sa\0lt", 4096, 16),
        (b"x" * 100, b"salt", 10, 64),
    ],
)
def test_pbkdf2_matches_hashlib(password: bytes, salt: bytes, rounds: int, length: int) -> None:
    assert pbkdf2_sha256(password, salt, rounds, length) == hashlib.pbkdf2_hmac(
        "sha256", password, salt, rounds, length
    )


def test_passphrase_key_is_pbkdf2() -> None:
    key = SecretKey.from_passphrase("correct horse")
    assert key.material == hashlib.pbkdf2_hmac(
        "sha256", b"correct horse", PASSPHRASE_SALT, PASSPHRASE_ITERATIONS
    )
    assert SecretKey.from_passphrase("correct horse") == key
    assert SecretKey.from_passphrase("correct horsE") != key


def test_key_file_round_trip(tmp_path: Path) -> None:
    key = SecretKey.generate()
    path = tmp_path / "k" / "key.json"
    key.save(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert SecretKey.load(path) == key
    assert json.loads(path.read_text())["format"] == "pacsbin-uploader-key"
    assert key.material.hex() not in repr(key)


@pytest.mark.parametrize(
    "text, reason",
    [
        ("{", "malformed"),
        ('{"format": "x", "version": 1, "key": "00"}', "not a pacsbin-uploader-key"),
        ('{"format": "pacsbin-uploader-key", "version": 1, "key": "zz"}', "malformed"),
        ('{"format": "pacsbin-uploader-key", "version": 1, "key": "00"}', "32 bytes"),
    ],
)
def test_bad_key_files(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "key.json"
    path.write_text(text)
    with pytest.raises(KeyFileError, match=reason) as info:
        SecretKey.load(path)
    assert str(path) in str(info.value)


def test_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="cannot read"):
        SecretKey.load(tmp_path / "nope.json")


def test_empty_passphrase() -> None:
    with pytest.raises(KeyFileError):
        SecretKey.from_passphrase("")


def test_passphrase_key_without_pbkdf2_hmac(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in Pyodide (no hashlib.pbkdf2_hmac): the hmac loop gives the same key as OpenSSL's."""
    native = SecretKey.from_passphrase("correct horse")
    monkeypatch.delattr(hashlib, "pbkdf2_hmac")
    assert SecretKey.from_passphrase("correct horse") == native
