"""The C (clean) action for free text: keep the text, remove every identifying value the file itself holds.

PS3.15 Table E.1-1a: C = "replace with values of similar meaning known not to contain identifying
information". We cannot understand free text, so cleaning keeps the words and blanks out, case-insensitively,
every identifier found elsewhere in the same file (names and their parts, IDs, accession and order numbers,
addresses, phone numbers, institution, station and physician names, dates in common spellings). Text that
carries identity the file does not hold elsewhere is not found by this: with the Clean Descriptors option
off (the default), such attributes are removed instead, and the review screen shows what was kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

# Top-level attributes whose values are identifiers to look for in free text.
IDENTIFIER_KEYWORDS = (
    "PatientName",
    "PatientID",
    "OtherPatientIDs",
    "OtherPatientNames",
    "PatientBirthName",
    "PatientMotherBirthName",
    "PatientAddress",
    "PatientTelephoneNumbers",
    "MilitaryRank",
    "BranchOfService",
    "MedicalRecordLocator",
    "IssuerOfPatientID",
    "AccessionNumber",
    "StudyID",
    "ReferringPhysicianName",
    "PerformingPhysicianName",
    "NameOfPhysiciansReadingStudy",
    "OperatorsName",
    "PhysiciansOfRecord",
    "RequestingPhysician",
    "InstitutionName",
    "InstitutionAddress",
    "InstitutionalDepartmentName",
    "StationName",
    "DeviceSerialNumber",
    "PlacerOrderNumberImagingServiceRequest",
    "FillerOrderNumberImagingServiceRequest",
    "AdmissionID",
    "PatientBirthDate",
    "StudyDate",
    "SeriesDate",
    "AcquisitionDate",
    "ContentDate",
    "PerformedProcedureStepID",
    "RequestedProcedureID",
    "ScheduledProcedureStepID",
)
_MIN_TOKEN = 3  # shorter fragments ("MR", "JR") would blank out ordinary words


def _values(value: object) -> Iterable[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, MultiValue)):
        return [str(v) for v in value]
    return [str(value)]


def _date_spellings(da: str) -> list[str]:
    if not re.fullmatch(r"\d{8}", da):
        return []
    y, m, d = da[:4], da[4:6], da[6:]
    return [
        da,
        f"{y}-{m}-{d}",
        f"{y}.{m}.{d}",
        f"{y}/{m}/{d}",
        f"{m}/{d}/{y}",
        f"{d}/{m}/{y}",
        f"{d}.{m}.{y}",
        f"{m}-{d}-{y}",
        f"{d}-{m}-{y}",
    ]


def identifiers(ds: Dataset) -> list[str]:
    """Identifying strings from the top level of a data set, longest first."""
    found: set[str] = set()
    for keyword in IDENTIFIER_KEYWORDS:
        for text in _values(ds.get(keyword)):
            text = text.strip()
            if len(text) < _MIN_TOKEN:
                continue
            found.add(text)
            found.update(_date_spellings(text))
            # Person names: each component and each word ("Doe^John^^Dr" -> Doe, John).
            for part in re.split(r"[\^=\s,]+", text):
                if len(part) >= _MIN_TOKEN and not part.isdigit():
                    found.add(part)
    return sorted(found, key=lambda s: (-len(s), s))


def compile_scrubber(terms: list[str]) -> re.Pattern[str] | None:
    if not terms:
        return None
    return re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)


def scrub(text: str, pattern: re.Pattern[str] | None) -> str:
    """The text with every identifier replaced by asterisks of the same length."""
    if pattern is None:
        return text
    return pattern.sub(lambda m: "*" * len(m.group(0)), text)
