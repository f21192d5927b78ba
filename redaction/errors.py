"""Typed errors of the pixel library. Each says what is wrong; the caller adds which file."""

from __future__ import annotations


class RedactionError(Exception):
    """Pixels could not be redacted as asked: the file must not be written as if they were (fail closed)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class UnsupportedPixelsError(RedactionError):
    """A pixel layout, photometric interpretation or encoding this library cannot redact exactly."""


class RegionsError(RedactionError):
    """A regions file (REGIONS.json) or a region in it is not valid."""


class SignatureScriptError(RedactionError):
    """The CTP burned-in annotation library could not be parsed."""
