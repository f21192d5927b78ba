"""Table E.1-1 as the generators see it: its rows (``anonymizer/data/ps315_e11.csv``), the VR, VM
and keyword of a tag (also for tags newer than pydicom's dictionary), and how a planting location
("where") is written.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydicom.datadict import dictionary_VM, dictionary_VR, keyword_for_tag

TABLE_CSV = Path(__file__).resolve().parents[2] / "anonymizer" / "data" / "ps315_e11.csv"


# Tags in Table E.1-1 2026d that are newer than the pydicom 3.0.2 dictionary (PS3.6 2024c); see
# anonymizer/data/SOURCES-standard.md. VR and VM are from PS3.6. They were checked against an
# independent PS3.6-generated dictionary (a Go DICOM library's tag table) for every tag except
# (0040,A034)/(0040,A035)/(0040,E012), which that table lacks. For those, the DateTime attributes
# are DT and Display URI is UR. (3004,007F) is LO, VM 1, per the cosyte/dicom 2026d changeset.
# Note that (0040,B03B) Montage Name is LT, not LO.
NEW_TAG_VR_VM: dict[int, tuple[str, str, str]] = {
    0x00081301: ("SQ", "1", "PrincipalDiagnosisCodeSequence"),
    0x00081302: ("SQ", "1", "PrimaryDiagnosisCodeSequence"),
    0x00081303: ("SQ", "1", "SecondaryDiagnosesCodeSequence"),
    0x00081304: ("SQ", "1", "HistologicalDiagnosesCodeSequence"),
    0x00100011: ("SQ", "1", "PersonNamesToUseSequence"),
    0x00100012: ("LT", "1", "NameToUse"),
    0x00100013: ("UT", "1", "NameToUseComment"),
    0x00100014: ("SQ", "1", "ThirdPersonPronounsSequence"),
    0x00100015: ("SQ", "1", "PronounCodeSequence"),
    0x00100016: ("UT", "1", "PronounComment"),
    0x00100041: ("SQ", "1", "GenderIdentitySequence"),
    0x00100042: ("UT", "1", "SexParametersForClinicalUseCategoryComment"),
    0x00100043: ("SQ", "1", "SexParametersForClinicalUseCategorySequence"),
    0x00100044: ("SQ", "1", "GenderIdentityCodeSequence"),
    0x00100045: ("UT", "1", "GenderIdentityComment"),
    0x00100046: ("SQ", "1", "SexParametersForClinicalUseCategoryCodeSequence"),
    0x00100047: ("UR", "1-n", "SexParametersForClinicalUseCategoryReference"),
    0x00102162: ("UC", "1-n", "EthnicGroups"),
    0x0040A034: ("DT", "1", "EffectiveStartDateTime"),
    0x0040A035: ("DT", "1", "EffectiveStopDateTime"),
    0x0040B034: ("DT", "1", "AnnotationDateTime"),
    0x0040B036: ("DT", "1", "SegmentDefinitionDateTime"),
    0x0040B03B: ("LT", "1", "MontageName"),
    0x0040B03F: ("LO", "1", "MontageChannelLabel"),
    0x0040E012: ("UR", "1", "DisplayURI"),
    0x3004007F: ("LO", "1", "DoseCalculationModelName"),
}


@dataclass(frozen=True)
class TableRow:
    tag: str  # as in the CSV, e.g. "0010,0010", "60xx,3000", "gggg,eeee"
    keyword: str
    name: str
    basic: str

    @property
    def is_wildcard(self) -> bool:
        return "x" in self.tag.lower() or self.tag.lower().startswith("gggg")

    @property
    def tag_int(self) -> int:
        return int(self.tag.replace(",", ""), 16)


@cache
def table_rows() -> tuple[TableRow, ...]:
    """All rows of ``anonymizer/data/ps315_e11.csv``."""
    with TABLE_CSV.open(newline="", encoding="utf-8") as fh:
        return tuple(TableRow(r["tag"], r["keyword"], r["name"], r["basic"]) for r in csv.DictReader(fh))


def tag_str(tag: int) -> str:
    """``0x00100010`` -> ``"0010,0010"`` (the CSV's spelling)."""
    return f"{tag >> 16:04X},{tag & 0xFFFF:04X}"


def vr_vm(tag: int) -> tuple[str, str]:
    """VR and VM used for planting. For a multi-VR entry ("OB or OW", "US or SS") this is the
    first one."""
    if tag in NEW_TAG_VR_VM:
        vr, vm, _ = NEW_TAG_VR_VM[tag]
        return vr, vm
    if (tag >> 16) & 1:
        raise KeyError(f"no dictionary VR for private tag {tag_str(tag)}")
    return dictionary_VR(tag).split(" or ")[0], dictionary_VM(tag)  # also resolves 50xx/60xx


def _keyword(tag: int) -> str:
    if tag in NEW_TAG_VR_VM:
        return NEW_TAG_VR_VM[tag][2]
    return keyword_for_tag(tag) or ""


def _loc(prefix: str, tag: int, label: str | None = None) -> str:
    here = f"({tag_str(tag)}) {label if label is not None else _keyword(tag)}".rstrip()
    if not prefix:
        return here
    return f"{prefix} {here}" if prefix.endswith(":") else f"{prefix} > {here}"


def _vm_count(vm: str) -> int:
    """How many values to plant: the fixed VM, or at least 2 for a range, so that a "first value
    only" clean-up shows up."""
    m = re.match(r"\d+", vm)
    low = int(m.group()) if m else 1
    return max(low, 2) if "-" in vm else low
