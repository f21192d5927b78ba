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


# What a reader's refusal means for the user, said before the technical detail (the detail names the
# element and offset for whoever exports the file again or reports it).
INCOMPLETE = "the file is incomplete (cut off before its end); export it again"
DAMAGED = "the file is damaged (it breaks the DICOM format); export it again or ask for a new copy"
CANNOT_READ = "the file is stored in a way this tool cannot read, so it was not de-identified"
_CUT_PREFIX = "truncated: "
_CUT_WORDS = ("truncated", "end of file", "eof", "no tag to read", "before the data ends", "before its end")


def plain_reading_reason(err: DeidentificationError) -> str:
    """A reader's refusal with its plain-words lead (idempotent): incomplete, damaged, or unreadable."""
    reason = err.reason
    if not isinstance(err, (MalformedDicomError, UnsupportedError)) or reason.startswith(
        (INCOMPLETE, DAMAGED, CANNOT_READ)
    ):
        return reason
    if isinstance(err, UnsupportedError):
        return f"{CANNOT_READ}: {reason}"
    if reason.startswith(_CUT_PREFIX):
        return f"{INCOMPLETE}: {reason[len(_CUT_PREFIX) :]}"
    if any(w in reason.lower() for w in _CUT_WORDS):
        return f"{INCOMPLETE}: {reason}"
    return f"{DAMAGED}: {reason}"


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
