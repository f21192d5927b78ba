"""The secret key behind every keyed derivation (UIDs, date shifts, pseudonyms).

One key file format for the CLI and the page (which exports and imports it):

    {"format": "pacsbin-uploader-key", "version": 1, "key": "<64 hex digits>"}

A passphrase is turned into a key with PBKDF2-HMAC-SHA256 (RFC 8018), written on `hmac` because Pyodide's
hashlib has no pbkdf2_hmac; natively hashlib.pbkdf2_hmac is used, with the same result (tested). Every
derivation uses its own sub-key, HMAC(key, purpose), so no two derivations can be related to each other.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from .errors import KeyFileError

KEY_FORMAT = "pacsbin-uploader-key"
KEY_VERSION = 1
PASSPHRASE_SALT = b"pacsbin-uploader/passphrase/v1"
PASSPHRASE_ITERATIONS = 100_000


def pbkdf2_sha256(password: bytes, salt: bytes, iterations: int, length: int = 32) -> bytes:
    """PBKDF2-HMAC-SHA256 (RFC 8018 5.2), for runtimes without hashlib.pbkdf2_hmac."""
    prf = hmac.new(password, digestmod=hashlib.sha256)
    out = b""
    block = 1
    while len(out) < length:
        mac = prf.copy()
        mac.update(salt + block.to_bytes(4, "big"))
        u = mac.digest()
        acc = int.from_bytes(u, "big")
        for _ in range(iterations - 1):
            mac = prf.copy()
            mac.update(u)
            u = mac.digest()
            acc ^= int.from_bytes(u, "big")
        out += acc.to_bytes(32, "big")
        block += 1
    return out[:length]


@dataclass(frozen=True)
class SecretKey:
    """32 secret bytes. `repr` never shows them."""

    material: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.material) != 32:
            raise KeyFileError("a secret key is 32 bytes")

    @classmethod
    def generate(cls) -> SecretKey:
        return cls(secrets.token_bytes(32))

    @classmethod
    def from_passphrase(cls, passphrase: str) -> SecretKey:
        if not passphrase:
            raise KeyFileError("the passphrase is empty")
        password = passphrase.encode("utf-8")
        if hasattr(hashlib, "pbkdf2_hmac"):  # natively: OpenSSL's, ~10x faster than the hmac loop
            return cls(hashlib.pbkdf2_hmac("sha256", password, PASSPHRASE_SALT, PASSPHRASE_ITERATIONS))
        return cls(pbkdf2_sha256(password, PASSPHRASE_SALT, PASSPHRASE_ITERATIONS))

    @classmethod
    def from_json(cls, text: str | bytes) -> SecretKey:
        try:
            raw = json.loads(text)
            if raw.get("format") != KEY_FORMAT or raw.get("version") != KEY_VERSION:
                raise KeyFileError(f"not a {KEY_FORMAT} version {KEY_VERSION} file")
            return cls(bytes.fromhex(raw["key"]))
        except KeyFileError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyFileError(f"malformed key file: {exc}") from None

    @classmethod
    def load(cls, path: Path) -> SecretKey:
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise KeyFileError(f"{path}: cannot read key file: {exc.strerror}") from None
        try:
            return cls.from_json(text)
        except KeyFileError as exc:
            raise KeyFileError(f"{path}: {exc}") from None

    def to_json(self) -> str:
        return json.dumps({"format": KEY_FORMAT, "version": KEY_VERSION, "key": self.material.hex()}) + "\n"

    def save(self, path: Path) -> None:
        """Write the key file readable by its owner only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.to_json(), "utf-8")
        tmp.chmod(0o600)
        tmp.replace(path)

    def subkey(self, purpose: str) -> bytes:
        return hmac.new(self.material, purpose.encode("ascii"), hashlib.sha256).digest()

    def digest(self, purpose: str, message: str) -> bytes:
        """HMAC-SHA256 of a message under the purpose's sub-key."""
        return hmac.new(self.subkey(purpose), message.encode("utf-8"), hashlib.sha256).digest()
