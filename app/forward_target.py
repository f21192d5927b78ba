"""Where `--forward` sends, and as whom: checked once, at start, so a mistake is a clear refusal and not a
queue that silently never empties.

- https, except to loopback (127.0.0.1, ::1, localhost): de-identified or not, DICOM does not cross a
  network in the clear (the same rule as where the server itself listens, app/listen.py).
- No user or password inside the URL: the URL is logged and shown; credentials are not.
- Credentials (optional): a bearer token or a user and password (HTTP Basic, RFC 7617), from
  `--forward-credentials FILE` or from the environment, the same names either way:
  PACSBIN_FORWARD_TOKEN, or PACSBIN_FORWARD_USER + PACSBIN_FORWARD_PASSWORD. The file holds NAME=VALUE
  lines (blank lines and # comments allowed; systemd's EnvironmentFile reads it too) and may be readable by
  its owner only. Giving both a file and the environment is refused: which one counts would be a guess.
"""

from __future__ import annotations

import base64
import enum
import stat
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from app.listen import is_loopback

TOKEN = "PACSBIN_FORWARD_TOKEN"
USER = "PACSBIN_FORWARD_USER"
PASSWORD = "PACSBIN_FORWARD_PASSWORD"
NAMES = (TOKEN, USER, PASSWORD)


class ForwardConfigError(ValueError):
    """--forward or its credentials cannot be used; the message says why and what to do."""


class Scheme(enum.Enum):
    BEARER = "Bearer"
    BASIC = "Basic"


@dataclass(frozen=True)
class Credentials:
    scheme: Scheme
    user: str  # empty for a bearer token
    secret: str = field(repr=False)  # the token or the password: never logged, never shown

    def authorization(self) -> str:
        if self.scheme is Scheme.BEARER:
            return f"Bearer {self.secret}"
        pair = f"{self.user}:{self.secret}".encode()
        return f"Basic {base64.b64encode(pair).decode('ascii')}"

    def describe(self) -> str:
        return "a bearer token" if self.scheme is Scheme.BEARER else f"user {self.user!r} (HTTP Basic)"


@dataclass(frozen=True)
class ForwardTarget:
    root: str  # the PACS's DICOMweb root, as given
    credentials: Credentials | None = None

    @property
    def stow_url(self) -> str:
        return self.root.rstrip("/") + "/studies"


def check_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ForwardConfigError(
            f"--forward {url!r} is not a DICOMweb address: give https://HOST/PATH (the PACS's DICOMweb root)"
        )
    if parts.username is not None or parts.password is not None:
        raise ForwardConfigError(
            "--forward: the address holds a user or password, which would be logged and shown: "
            f"remove it and give them in --forward-credentials FILE or {USER}/{PASSWORD}"
        )
    if scheme == "http" and not is_loopback(parts.hostname):
        raise ForwardConfigError(
            f"refusing to forward to {url!r} over plain HTTP: instances must not cross a network in the "
            "clear. Use https:// (plain http:// is allowed only to 127.0.0.1, ::1, localhost)."
        )
    return url


def _read_file(path: Path) -> dict[str, str]:
    try:
        mode = path.stat().st_mode
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ForwardConfigError(f"--forward-credentials: cannot read {path} ({exc.strerror})") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ForwardConfigError(
            f"--forward-credentials: {path} can be read by other users of this machine: "
            f"chmod 600 {path} (it holds the PACS's password or token)"
        )
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.partition("=")
        name = name.strip()
        if not equals or name not in NAMES:
            raise ForwardConfigError(
                f"--forward-credentials: {path} line {number} is not one of {', '.join(NAMES)} =VALUE"
            )
        values[name] = value.strip()
    return values


def _credentials(values: Mapping[str, str], where: str) -> Credentials | None:
    token, user, password = (values.get(n) for n in NAMES)
    if token is not None and (user is not None or password is not None):
        raise ForwardConfigError(f"{where}: give either {TOKEN} or {USER} and {PASSWORD}, not both")
    if token is not None:
        if not token or any(c.isspace() or not c.isprintable() for c in token):
            raise ForwardConfigError(f"{where}: {TOKEN} is empty or holds spaces or control characters")
        return Credentials(Scheme.BEARER, "", token)
    if user is None and password is None:
        return None
    if not user or not password:
        raise ForwardConfigError(f"{where}: {USER} and {PASSWORD} go together, neither empty")
    if ":" in user or not (user + password).isprintable():
        raise ForwardConfigError(f"{where}: {USER} holds a ':' or control characters (RFC 7617 2)")
    return Credentials(Scheme.BASIC, user, password)


def forward_target(url: str, credentials_file: Path | None, environ: Mapping[str, str]) -> ForwardTarget:
    """The checked target, or ForwardConfigError saying what is wrong."""
    check_url(url)
    from_env = {n: environ[n] for n in NAMES if n in environ}
    if credentials_file is not None:
        if from_env:
            raise ForwardConfigError(
                f"credentials for the PACS both in {credentials_file} and in the environment "
                f"({', '.join(sorted(from_env))}): give them in one place"
            )
        credentials = _credentials(_read_file(credentials_file), str(credentials_file))
        if credentials is None:
            raise ForwardConfigError(f"--forward-credentials: {credentials_file} holds no credentials")
        return ForwardTarget(url, credentials)
    return ForwardTarget(url, _credentials(from_env, "the environment"))
