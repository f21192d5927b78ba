"""Typed errors. Every one says which file and what is wrong, so a batch can report it and go on."""

from __future__ import annotations

import re


class DeidentificationError(Exception):
    """Base class: the file could not be de-identified and must not be written (fail closed)."""

    def __init__(self, reason: str, *, path: str | None = None) -> None:
        self.reason = reason
        self.path = path
        super().__init__(f"{path}: {reason}" if path else reason)

    def with_path(self, path: str) -> DeidentificationError:
        """The same error, now naming the file it came from."""
        err = type(self)(self.reason, path=path)
        err.__cause__ = self.__cause__ or self.__context__
        return err


class NotDicomError(DeidentificationError):
    """The input is not a DICOM file (no preamble + DICM and no recognisable data set)."""


class DicomDirError(DeidentificationError):
    """A DICOMDIR: its records hold names and IDs, and it is never copied."""


class MalformedDicomError(DeidentificationError):
    """The file is DICOM but could not be read completely (truncated, bad length, bad VR...)."""


class UnsupportedError(DeidentificationError):
    """The file is readable but holds something the engine cannot de-identify safely."""


_PYDICOM_TAG = re.compile(r"^With tag \((\w{4}),(\w{4})\) got exception: ")


def unexpected(what: str, exc: BaseException) -> str:
    """One line for an error nobody anticipated (a bug, or a file stranger than the checks know): what it
    means first, then the exception's first line (pydicom appends element dumps and tracebacks)."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    text = _PYDICOM_TAG.sub(lambda m: f"element ({m[1].upper()},{m[2].upper()}): ", text)
    why = "an unexpected problem: please report it with this line"
    return f"{what} ({why}): {type(exc).__name__}: {text[:300]}"


class KeyFileError(Exception):
    """The secret key file is missing, unreadable or of the wrong format."""


class ScriptError(Exception):
    """A CTP-style anonymization script could not be parsed."""
