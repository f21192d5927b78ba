"""The C (clean) action for free text: keep the text, remove every identifying value the file itself holds.

PS3.15 Table E.1-1a: C = "replace with values of similar meaning known not to contain identifying
information". We cannot understand free text, so cleaning keeps the words and blanks out, case-insensitively,
every identifier found elsewhere in the same file (names and their parts, IDs, accession and order numbers,
addresses, phone numbers, institution, station and physician names, dates in common spellings). Text that
carries identity the file does not hold elsewhere is not found by this: with the Clean Descriptors option
off (the default), such attributes are removed instead, and the review screen shows what was kept.

The identifiers are taken at every depth (a name may be held only in Request Attributes Sequence), names
from every PN element; names are found as people write them (name_forms.py). Text and identifiers are
compared folded (case, accents, ß/ss, ü/ue), and the original characters that matched are blanked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from .name_forms import SEPARATOR_CLASS, fold, fold_char, is_east_asian, name_forms, spellings, words

# Attributes whose values are identifiers to look for in free text, at any depth (besides every PN).
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
_IDENTIFIER_TAGS = frozenset(tag_for_keyword(k) for k in IDENTIFIER_KEYWORDS)
_WALKED_VRS = frozenset({"SQ", "PN"})
_MIN_TOKEN = 3  # shorter values and parts of values ("MR", "JR") would blank out ordinary words
_MAX_FLEXIBLE_WORDS = 16  # more words than any name, ID or address
_MAX_DEPTH = 64  # the walker refuses deeper files (walker.MAX_DEPTH)
# Not preceded / followed by a letter or digit: the guard of a short name part ("Li" but not "Lithium").
_NOT_AFTER_WORD = r"(?<![^\W_])"
_NOT_BEFORE_WORD = r"(?![^\W_])"


def text_values(value: object) -> list[str]:
    """An element's values as text, one per value (none for an empty or binary value)."""
    if value is None or isinstance(value, (bytes, bytearray, memoryview)):
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


def _nothing_kept(tag: int) -> bool:
    return False


# What this product itself writes (dummies, the pseudonym's "Anonymous"): not identifiers. Without this the
# server's re-check of our own output (verify.py) would find "ANONYMIZED" in one element and call it an
# identifier held in another.
_OWN_WORDS = frozenset({"ANONYMIZED", "ANONYMOUS", "Anonymous", "anonymized", "anonymous"})


_MAX_PAIRED_WORDS = 12


def _word_pairs(text: str) -> list[str]:
    """Two neighbouring words of an institution or address ("Saint Elsewhere" of "Saint Elsewhere
    Hospital"): how people shorten a name. Single words are not identifiers: "MED" of "BAPTIST MED CTR" or
    "General" of a hospital's name would be blanked in every kept text ("G.E. ***ical Systems").
    Person names are split into their parts instead (name_forms)."""
    parts = [w for w in re.split(r"[\s,^=]+", text) if w]
    pairs = [f"{a} {b}" for a, b in zip(parts, parts[1:], strict=False)]
    if not 2 < len(parts) <= _MAX_PAIRED_WORDS:
        return []  # a long value (a whole address, a crafted 100,000-character one) is matched as written
    return [p for p in pairs if sum(c.isalnum() for c in p) >= 2 * _MIN_TOKEN]


def identifiers_by_attribute(ds: Dataset, kept: Callable[[int], bool] = _nothing_kept) -> dict[str, set[str]]:
    """Identifying strings of a data set by the keyword of the attribute that holds them, at every depth:
    the values of the identifier attributes and every form of every Person Name. A value of an attribute
    the chosen options retain (`kept(tag)`, e.g. Institution Name under Retain Institution Identity) is
    not one. The text finder marks what burned-in text matches with these keywords (text_matches.py)."""
    found: dict[str, set[str]] = {}
    stack = [(ds, 0)]
    while stack:
        current, depth = stack.pop()
        for tag, stored in current.items():  # as stored: no conversion of elements not looked at
            if tag & 0x10000:
                continue  # private elements are removed unconverted (walker); they may not even parse
            vr = stored.VR or current[tag].VR  # a raw element read implicit VR has no VR until converted
            if vr not in _WALKED_VRS and int(tag) not in _IDENTIFIER_TAGS:
                continue
            elem = stored if type(stored) is DataElement else current[tag]
            if elem.VR == "SQ":
                # Into a retained sequence too: what its items hold is judged element by element.
                if depth < _MAX_DEPTH:
                    stack.extend((item, depth + 1) for item in elem.value)
                continue
            if kept(tag):
                continue
            terms = found.setdefault(elem.keyword or str(tag), set())
            if elem.VR == "PN":
                for text in text_values(elem.value):
                    terms.update(name_forms(text))
            elif tag in _IDENTIFIER_TAGS:
                for text in text_values(elem.value):
                    text = text.strip()
                    # Separators are optional in the search ("1,0" would find every "10"): what counts is
                    # the letters and digits.
                    if sum(c.isalnum() for c in text) < _MIN_TOKEN:
                        continue
                    terms.add(text)
                    terms.update(_date_spellings(text))
                    terms.update(_word_pairs(text))
    for keyword in list(found):
        found[keyword] -= _OWN_WORDS
        if not found[keyword]:
            del found[keyword]
    return found


def identifiers(ds: Dataset, kept: Callable[[int], bool] = _nothing_kept) -> list[str]:
    """Identifying strings of a data set, at every depth, longest first (identifiers_by_attribute, all
    attributes together)."""
    found: set[str] = set()
    for terms in identifiers_by_attribute(ds, kept).values():
        found |= terms
    return sorted(found, key=lambda s: (-len(s), s))


def _short(word: str) -> bool:
    return len(word) < _MIN_TOKEN and not any(is_east_asian(c) for c in word)


def _pattern(spelling: str, guard_short: bool) -> str | None:
    """One folded spelling as a regular expression: separators between its words optional (Garcia Nunez,
    GarciaNunez, Garcia-Nunez); a Latin word of one or two letters at either end stands alone."""
    parts = words(spelling)
    if not parts:
        return None
    if len(parts) > _MAX_FLEXIBLE_WORDS:
        return re.escape(spelling)  # as written; a pattern per word of a long text compiles for seconds
    body = (SEPARATOR_CLASS + "*").join(re.escape(w) for w in parts)
    if guard_short and _short(parts[0]):
        body = _NOT_AFTER_WORD + body
    if guard_short and _short(parts[-1]):
        body += _NOT_BEFORE_WORD
    return body


@dataclass(frozen=True)
class Scrubber:
    """The identifiers of one file, compiled once, looked for in folded text."""

    pattern: re.Pattern[str]

    def finds(self, text: str) -> bool:
        return self.pattern.search(fold(text)) is not None

    def scrub(self, text: str) -> str:
        """The text with every identifier found replaced by one `*` per original character."""
        if text.isascii():
            folded, parts = text.lower(), None
        else:
            parts = [fold_char(c) for c in text]
            folded = "".join(parts)
        spans = [m.span() for m in self.pattern.finditer(folded)]
        if not spans:
            return text
        out = list(text)
        if parts is None:
            for start, end in spans:
                out[start:end] = "*" * (end - start)
            return "".join(out)
        # Folding changed lengths (ß -> ss, accents dropped): map folded positions back to the original.
        origin = [i for i, p in enumerate(parts) for _ in p]
        for start, end in spans:
            lo, hi = origin[start], origin[end - 1] + 1
            while hi < len(text) and not parts[hi]:
                hi += 1  # combining accents and invisible characters that follow the last letter matched
            out[lo:hi] = "*" * (hi - lo)
        return "".join(out)


def compile_scrubber(terms: Iterable[str]) -> Scrubber | None:
    patterns: dict[str, int] = {}
    for term in terms:
        for found, length in _term_patterns(term):
            patterns[found] = length
    if not patterns:
        return None
    # Longest first: the whole name is blanked with its separators rather than word by word.
    ordered = sorted(patterns, key=lambda p: (-patterns[p], p))
    return Scrubber(re.compile("|".join(ordered)))


@lru_cache(maxsize=2048)
def _term_patterns(term: str) -> tuple[tuple[str, int], ...]:
    """The patterns of one term with their spellings' lengths (cached: the files of a study share them)."""
    # One or two letters at an end of a term with no digit are a short name part ("Li", "O Brien");
    # IDs and dates keep being found anywhere.
    guard = not any(c.isdigit() for c in term)
    found = ((_pattern(spelling, guard), len(spelling)) for spelling in spellings(term))
    return tuple((p, n) for p, n in found if p is not None)


def scrub(text: str, scrubber: Scrubber | None) -> str:
    """The text with every identifier replaced by asterisks of the same length."""
    return text if scrubber is None else scrubber.scrub(text)
