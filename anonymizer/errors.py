"""Typed errors. Every one says which file and what is wrong, so a batch can report it and go on."""

from __future__ import annotations


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


class KeyFileError(Exception):
    """The secret key file is missing, unreadable or of the wrong format."""


class ScriptError(Exception):
    """A CTP-style anonymization script could not be parsed."""
