"""Synthetic DICOM test data with identifying values planted everywhere.

This is a helper for the engine's tests, not a test module. Every generator is a pure function of its
seed. Each one builds a DICOM Part 10 file in memory and returns a :class:`PlantedFile`. It holds the
encoded bytes and records of what was planted and where, so a test can de-identify ``data`` and then
assert that nothing identifying survives (:func:`find_markers`), that what must survive did
(``kept``), and that UID and date relationships are preserved (``uids``, ``temporal``).

Markers
    Each identifying text value contains a unique *token* such as ``PHIx0042QZKW``: ``PHIx``, a
    4-digit running number and 4 seeded random letters. Such a string cannot turn up by chance.
    Tokens are upper-cased where the VR allows only upper case (CS, AE). :func:`find_markers`
    matches them case-insensitively, in ASCII, UTF-16LE and UTF-16BE. The VR shapes the value
    around the token:

    * PN ``PHIx0042QZKW^Given``, LO/SH/UC the bare token, CS/AE ``PHIX0042QZKW``
    * LT/ST/UT a sentence containing the token; UR ``http://phix0042qzkw.example/``
    * OB/OW/UN/OF/OD/OL/OV bytes ``PHI:<token>`` plus NUL padding
    * SQ one item carrying PatientName (PN), InstitutionName (LO), StudyDate (DA) and
      ReferencedSOPInstanceUID (UI) markers

    Values that cannot hold a token are recorded as follows:

    * UI: fresh UIDs under ``1.2.826.0.1.3680043.10.999`` with a fixed-width last component, so
      none is a prefix of another. They go in ``uids``, which maps each UID to every place it was
      planted. The same UID planted twice, for example a StudyInstanceUID that a reference points
      back to, is a relationship the engine must keep.
    * DA: distinctive dates. Most fall in 1931-1969. The "key" dates (``temporal``) fall in
      1977-1989 and are spaced a known number of days apart. They go in ``dates``.
    * TM: times with a unique 6-digit fraction, ``HHMMSS.FFFFFF``. They go in ``times``.
    * DT: ``<date><time>+0130``. Its parts are recorded in ``dates`` and ``times``.
    * IS/DS: unique 7-digit numbers ``42xxxxx``. They go in ``numbers``.
    * AS, US/SS/UL/SL, FL/FD, AT: ``values``, keyed by location, because they cannot be searched
      for in bytes.

Locations ("where") are written ``(GGGG,EEEE) Keyword``, joined by `` > `` down through sequence
items, for example ``(0008,1115) ReferencedSeriesSequence[0] > (0010,0010) PatientName``. A path
without `` > `` and without a ``file meta:``/``preamble`` prefix is a top-level element.
``[not in E.1-1]`` marks attributes that Table E.1-1 does not list.

``kept`` maps a path to the value that must survive unchanged. The path is written in keywords,
e.g. ``Rows``, ``AnatomicRegionSequence[0].CodeValue`` or ``file_meta.TransferSyntaxUID``; resolve
it with :func:`get_path`. Keys that start with ``#`` name special checks that are described where
they are made (``#jpeg_scan_data``).
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import random
import re
import string
import struct
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.datadict import dictionary_VM, dictionary_VR, keyword_for_tag
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.filewriter import dcmwrite
from pydicom.sequence import Sequence
from pydicom.uid import UID

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
SECONDARY_CAPTURE_STORAGE = "1.2.840.10008.5.1.4.1.1.7"
COMPREHENSIVE_SR_STORAGE = "1.2.840.10008.5.1.4.1.1.88.33"
GRAYSCALE_SOFTCOPY_PS_STORAGE = "1.2.840.10008.5.1.4.1.1.11.1"
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
JPEG_BASELINE_8BIT = "1.2.840.10008.1.2.4.50"
PLANTED_UID_ROOT = "1.2.826.0.1.3680043.10.999"

TABLE_CSV = Path(__file__).resolve().parents[1] / "anonymizer" / "data" / "ps315_e11.csv"

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

# Table E.1-1 rows with a real tag that are not planted at the top level of all_table_rows_file(),
# and why. The test suite checks this list against the CSV.
NOT_TOP_LEVEL: dict[str, str] = {
    "0000,1000": "command element (PS3.7): planted in nested items (ReferencedImageSequence and a "
    "private sequence), the misuse E.1-1 Note 1 warns about",
    "0000,1001": "command element (PS3.7): planted in nested items, as for (0000,1000)",
    "0002,0003": "file meta element: planted in the file meta information (= SOP Instance UID)",
    "0004,1511": "DICOMDIR directory record element: planted in a nested ReferencedImageSequence item",
}

# Attributes that Table E.1-1 does not list, planted to check that the engine also handles
# identifying VRs it has no table row for. (AE: PS3.6 has no AE attribute outside groups 0000
# and 0002 that E.1-1 does not already list. Instead, (0000,1030) is planted in nested items and
# (0002,0016-0018) in the file meta.)
UNLISTED_BY_VR: dict[int, str] = {
    0x00140104: "PN",  # Secondary Reviewer Name
    0x00142006: "PN",  # Evaluator Name
    0x0040A067: "PN",  # Document Author (Trial), retired
    0x00140102: "DA",  # Secondary Review Date
    0x00141020: "DA",  # Expiry Date
    0x00140103: "TM",  # Secondary Review Time
    0x0008041F: "DT",  # Study Update DateTime
    0x00080404: "DT",  # Item Inventory DateTime
    0x00081167: "UI",  # Multi-frame Source SOP Instance UID
    0x00200242: "UI",  # SOP Instance UID of Concatenation Source
    0x00209312: "UI",  # Volume Frame of Reference UID
    0x00440102: "UI",  # Assertion UID
    0x00081190: "UR",  # Retrieve URL
    0x0040E010: "UR",  # Retrieve URI
    0x0074100A: "UR",  # Contact URI
    0x0040A160: "UT",  # Text Value (normally inside SR content items)
}

TOKEN_RE = re.compile(r"PHIX\d{4}[A-Z]{4}", re.IGNORECASE)
_TOKEN_BYTES_RE = re.compile(rb"phix\d{4}[a-z]{4}")
_TOKEN_UTF16_RE = re.compile(rb"p\x00h\x00i\x00x\x00(?:\d\x00){4}(?:[a-z]\x00){4}")


# --------------------------------------------------------------------------------------------
# Result type
# --------------------------------------------------------------------------------------------


@dataclass
class PlantedFile:
    """One generated file and a record of what was planted in it (see the module docstring)."""

    data: bytes
    markers: dict[str, str] = field(default_factory=dict)  # token -> where
    uids: dict[str, str] = field(default_factory=dict)  # original UID -> where (all places)
    dates: dict[str, str] = field(default_factory=dict)  # YYYYMMDD -> where
    times: dict[str, str] = field(default_factory=dict)  # HHMMSS.FFFFFF -> where
    numbers: dict[str, str] = field(default_factory=dict)  # IS/DS digit string -> where
    values: dict[str, str] = field(default_factory=dict)  # where -> unsearchable planted value
    kept: dict[str, Any] = field(default_factory=dict)  # keyword path -> value that must survive
    temporal: dict[str, str] = field(default_factory=dict)  # keyword -> key date/datetime
    table_rows: dict[str, str] = field(default_factory=dict)  # E.1-1 csv tag -> where planted
    safe_private: dict[str, Any] = field(default_factory=dict)  # Table E.3.10-1 attr -> value
    labels: dict[str, str] = field(default_factory=dict)  # e.g. patient/series/instance
    name: str = ""

    def dataset(self) -> Dataset:
        """The planted file, parsed by pydicom."""
        return dcmread(io.BytesIO(self.data))

    def leaks(
        self, output: bytes, *, uids: bool = True, temporal: bool = True, numbers: bool = True
    ) -> list[str]:
        """:func:`find_markers` on ``output``, each leak described with where it was planted."""
        where: dict[str, str] = {
            **self.markers,
            **(self.uids if uids else {}),
            **(self.dates if temporal else {}),
            **(self.times if temporal else {}),
            **(self.numbers if numbers else {}),
        }
        found = find_markers(output, self, uids=uids, temporal=temporal, numbers=numbers)
        return [f"{key}  <- planted at {where.get(key, '?')}" for key in found]


# --------------------------------------------------------------------------------------------
# Table E.1-1
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Planting machinery
# --------------------------------------------------------------------------------------------


class _Source:
    """Deterministic supply of unique tokens, UIDs, dates, times and numbers."""

    def __init__(self, seed: int, salt: str) -> None:
        self.seed = seed
        self._rng = random.Random(f"pacsbin-synthetic/{seed}/{salt}")
        self._uid_prefix = f"{PLANTED_UID_ROOT}.{abs(seed)}.{zlib.crc32(salt.encode()) % 1000}"
        self._n = 0
        self._used: set[str] = set()

    def _fresh(self, make: Callable[[], str]) -> str:
        for _ in range(100_000):
            value = make()
            if value not in self._used:
                self._used.add(value)
                return value
        raise RuntimeError("value space exhausted")

    def _next(self) -> int:
        self._n += 1
        if self._n > 9999:
            raise RuntimeError("more than 9999 plantings in one source")
        return self._n

    def token(self) -> str:
        n = self._next()
        letters = "".join(self._rng.choice(string.ascii_uppercase) for _ in range(4))
        return f"PHIx{n:04d}{letters}"

    def uid(self) -> str:
        n = self._next()
        return f"{self._uid_prefix}.1{n:05d}{self._rng.randrange(100_000):05d}"

    def _day(self, first: _dt.date, last: _dt.date) -> _dt.date:
        return first + _dt.timedelta(days=self._rng.randrange((last - first).days + 1))

    def date(self) -> str:
        return self._fresh(lambda: self._day(_dt.date(1931, 1, 1), _dt.date(1969, 12, 31)).strftime("%Y%m%d"))

    def key_dates(self, offsets: Iterable[int]) -> list[str]:
        """Dates at the given day offsets from a seeded base day in 1977-1989."""
        offs = list(offsets)
        for _ in range(1000):
            base = self._day(_dt.date(1977, 1, 1), _dt.date(1989, 6, 30))
            days = [(base + _dt.timedelta(days=o)).strftime("%Y%m%d") for o in offs]
            if not self._used.intersection(days):
                self._used.update(days)
                return days
        raise RuntimeError("no free key dates")

    def time(self) -> str:
        return self._fresh(
            lambda: (
                f"{self._rng.randrange(7, 20):02d}{self._rng.randrange(60):02d}"
                f"{self._rng.randrange(60):02d}.{self._rng.randrange(100_000, 1_000_000)}"
            )
        )

    def number(self) -> str:
        return self._fresh(lambda: str(self._rng.randrange(4_200_000, 4_300_000)))

    def age(self) -> str:
        return f"{self._rng.randrange(18, 99):03d}Y"


def _blob(token: str, *, utf16: bool = False, size: int = 0) -> bytes:
    raw = token.encode("utf-16-le") if utf16 else token.encode("ascii")
    data = b"PHI:" + raw + b"\x00"
    data = data.ljust(max(size, len(data)), b"\x00")
    return data + b"\x00" * (-len(data) % 8)


def _text(token: str) -> str:
    return f"Free text: {token} lives at 42 Elm Street, phone 555-0199."


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


_SINGLE_VALUED = frozenset({"LT", "ST", "UT", "UR", "SQ", "OB", "OW", "UN", "OF", "OD", "OL", "OV"})


class _Planter:
    """Records plantings for one file; draws values from a (possibly shared) :class:`_Source`."""

    def __init__(self, src: _Source) -> None:
        self.src = src
        self.out = PlantedFile(data=b"")

    @staticmethod
    def _note(book: dict[str, str], key: str, where: str) -> None:
        book[key] = f"{book[key]} | {where}" if key in book else where

    # -- primitives ---------------------------------------------------------------------------
    def tok(self, where: str, *, upper: bool = False, value: str | None = None) -> str:
        token = value if value is not None else self.src.token()
        token = token.upper() if upper else token
        self._note(self.out.markers, token, where)
        return token

    def uid(self, where: str, value: str | None = None) -> str:
        uid = value if value is not None else self.src.uid()
        self._note(self.out.uids, uid, where)
        return uid

    def date(self, where: str, value: str | None = None) -> str:
        date = value if value is not None else self.src.date()
        self._note(self.out.dates, date, where)
        return date

    def time(self, where: str, value: str | None = None) -> str:
        time = value if value is not None else self.src.time()
        self._note(self.out.times, time, where)
        return time

    def dt(self, where: str, date: str | None = None, time: str | None = None) -> str:
        return f"{self.date(where, date)}{self.time(where, time)}+0130"

    def number(self, where: str) -> str:
        number = self.src.number()
        self._note(self.out.numbers, number, where)
        return number

    def opaque(self, where: str, value: Any) -> Any:
        self.out.values[where] = str(value)
        return value

    def keep(self, ds: Dataset, path: str, keyword: str, value: Any) -> None:
        setattr(ds, keyword, value)
        self.out.kept[f"{path}{keyword}"] = value

    # -- VR-driven values ---------------------------------------------------------------------
    def one(self, vr: str, where: str) -> Any:
        if vr == "PN":
            return f"{self.tok(where)}^Given"
        if vr in ("LO", "SH", "UC"):
            return self.tok(where)
        if vr in ("CS", "AE"):
            return self.tok(where, upper=True)
        if vr in ("LT", "ST", "UT"):
            return _text(self.tok(where))
        if vr == "UR":
            return f"http://{self.tok(where).lower()}.example/"
        if vr == "DA":
            return self.date(where)
        if vr == "TM":
            return self.time(where)
        if vr == "DT":
            return self.dt(where)
        if vr == "UI":
            return self.uid(where)
        if vr in ("IS", "DS"):
            return self.number(where)
        if vr == "AS":
            return self.opaque(where, self.src.age())
        if vr in ("US", "SS", "UL", "SL", "UV", "SV"):
            return self.opaque(where, 1)
        if vr in ("FL", "FD"):
            return self.opaque(where, 42.42)
        if vr == "AT":
            return self.opaque(where, 0x00100010)
        if vr in ("OB", "OW", "UN", "OF", "OD", "OL", "OV"):
            return _blob(self.tok(where))
        if vr == "SQ":
            return Sequence([self.marker_item(f"{where}[0]")])
        raise ValueError(f"no planting rule for VR {vr} at {where}")

    def value(self, vr: str, vm: str, where: str) -> Any:
        count = 1 if vr in _SINGLE_VALUED else _vm_count(vm)
        if count == 1:
            return self.one(vr, where)
        return [self.one(vr, f"{where} value {i + 1}") for i in range(count)]

    def put(
        self,
        ds: Dataset,
        tag: int,
        prefix: str,
        make: Callable[[str], Any] | None = None,
        *,
        vr: str | None = None,
        label: str | None = None,
    ) -> str:
        """Plant ``tag`` in ``ds`` (a generic VR-driven marker unless ``make`` is given); return
        where it was planted."""
        dict_vr, vm = vr_vm(tag) if vr is None else (vr, "1")
        where = _loc(prefix, tag, label)
        ds.add_new(tag, dict_vr, make(where) if make else self.value(dict_vr, vm, where))
        return where

    def marker_item(self, prefix: str) -> Dataset:
        """A sequence item with a PN, LO, DA and UI marker."""
        item = Dataset()
        for tag in (0x00100010, 0x00080080, 0x00080020, 0x00081155):
            self.put(item, tag, prefix)
        return item

    def private(
        self,
        ds: Dataset,
        prefix: str,
        group: int,
        creator: str,
        entries: Iterable[tuple[int, str, Callable[[str], Any]]],
    ) -> None:
        block = ds.private_block(group, creator, create=True)
        for offset, vr, make in entries:
            tag = block.get_tag(offset)
            where = _loc(prefix, tag, f"private [{creator}] {vr}")
            block.add_new(offset, vr, make(where))

    def finish(self, ds: Dataset, meta: FileMetaDataset, preamble: bytes | None = None) -> PlantedFile:
        self.out.data = encode(ds, meta, preamble)
        return self.out


def encode(ds: Dataset, meta: FileMetaDataset, preamble: bytes | None = None) -> bytes:
    """Write ``ds`` as a Part 10 file (preamble, DICM, file meta, data set) and return the bytes."""
    ds.file_meta = meta
    ds.preamble = (preamble or b"").ljust(128, b"\x00")[:128]
    buf = io.BytesIO()
    dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()


def _file_meta(
    sop_class: str, sop_uid: str, transfer_syntax: str = EXPLICIT_VR_LITTLE_ENDIAN
) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class)
    meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    meta.TransferSyntaxUID = UID(transfer_syntax)
    return meta


def _pixels16() -> bytes:
    """16x16 MONOCHROME2 pixels with 12 bits stored and a known pattern."""
    return struct.pack("<256H", *(((r * 16 + c) * 13) % 4096 for r in range(16) for c in range(16)))


def _image_module(p: _Planter, ds: Dataset, pixel_data: bytes | None = None) -> None:
    """Kept image attributes of a small 16x16 CT-like image."""
    keep = p.keep
    keep(ds, "", "ImageType", ["ORIGINAL", "PRIMARY", "AXIAL"])
    keep(ds, "", "SamplesPerPixel", 1)
    keep(ds, "", "PhotometricInterpretation", "MONOCHROME2")
    keep(ds, "", "Rows", 16)
    keep(ds, "", "Columns", 16)
    keep(ds, "", "PixelSpacing", [0.5, 0.5])
    keep(ds, "", "BitsAllocated", 16)
    keep(ds, "", "BitsStored", 12)
    keep(ds, "", "HighBit", 11)
    keep(ds, "", "PixelRepresentation", 0)
    keep(ds, "", "RescaleIntercept", -1024.0)
    keep(ds, "", "RescaleSlope", 1.0)
    keep(ds, "", "WindowCenter", 40.0)
    keep(ds, "", "WindowWidth", 400.0)
    keep(ds, "", "KVP", 120.0)
    keep(ds, "", "SliceThickness", 1.0)
    keep(ds, "", "ImageOrientationPatient", [1.0, 0.0, 0.0, 0.0, 1.0, 0.0])
    keep(ds, "", "PixelData", pixel_data if pixel_data is not None else _pixels16())
    ds["PixelData"].VR = "OW"


# --------------------------------------------------------------------------------------------
# all_table_rows_file
# --------------------------------------------------------------------------------------------


def all_table_rows_file(seed: int = 0, *, sop_class: str = CT_IMAGE_STORAGE) -> PlantedFile:
    """A CT-like file with an identifying value in every Table E.1-1 row that a VR allows, plus
    overlays, curves, private tags, unlisted attributes, nested copies, the file meta and the
    preamble. See ``table_rows`` for where each row was planted, and :data:`NOT_TOP_LEVEL`."""
    p = _Planter(_Source(seed, "all-table-rows"))
    out = p.out
    out.name = "all_table_rows"
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    p.keep(ds, "", "SOPClassUID", sop_class)
    p.keep(ds, "", "Modality", "CT")

    src = p.src
    sop_uid, study_uid, series_uid, for_uid = src.uid(), src.uid(), src.uid(), src.uid()
    ref_a, ref_b, prior_series = src.uid(), src.uid(), src.uid()
    study_d, series_d, acq_d, content_d = src.key_dates([0, 1, 2, 4])
    acq_t = src.time()
    out.temporal.update(
        StudyDate=study_d,
        SeriesDate=series_d,
        AcquisitionDate=acq_d,
        ContentDate=content_d,
        AcquisitionDateTime=f"{acq_d}{acq_t}+0130",
    )

    # -- sequences with realistic content ------------------------------------------------------
    def ref_image_seq(where: str) -> Sequence:
        pre = f"{where}[0]"
        item = Dataset()
        item.ReferencedSOPClassUID = CT_IMAGE_STORAGE
        p.put(item, 0x00081155, pre, lambda w: p.uid(w, ref_a))
        for tag in (0x00100010, 0x00080080, 0x00080020):
            p.put(item, tag, pre)
        out.table_rows["0000,1000"] = p.put(item, 0x00001000, pre, lambda w: p.uid(w, sop_uid))
        out.table_rows["0000,1001"] = p.put(item, 0x00001001, pre, lambda w: p.uid(w, ref_b))
        p.put(item, 0x00001030, pre, label="MoveOriginatorApplicationEntityTitle [not in E.1-1]")
        out.table_rows["0004,1511"] = p.put(item, 0x00041511, pre, lambda w: p.uid(w, ref_a))
        return Sequence([item])

    def source_image_seq(where: str) -> Sequence:
        pre = f"{where}[0]"
        item = Dataset()
        item.ReferencedSOPClassUID = CT_IMAGE_STORAGE
        p.put(item, 0x00081155, pre, lambda w: p.uid(w, ref_b))
        item.PurposeOfReferenceCodeSequence = Sequence([_code("121320", "DCM", "Uncompressed predecessor")])
        p.put(item, 0x00100010, pre)
        return Sequence([item])

    def ref_patient_seq(where: str) -> Sequence:
        item = Dataset()
        item.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.1.1"
        p.put(item, 0x00081155, f"{where}[0]")
        return Sequence([item])

    def ref_study_seq(where: str) -> Sequence:
        item = Dataset()
        item.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"
        p.put(item, 0x00081155, f"{where}[0]", lambda w: p.uid(w, study_uid))
        return Sequence([item])

    def request_attributes_seq(where: str) -> Sequence:
        pre = f"{where}[0]"
        item = Dataset()
        for tag in (0x00401001, 0x00400009, 0x00400007, 0x00321060, 0x00080050, 0x00401002, 0x00400002):
            p.put(item, tag, pre)
        p.put(item, 0x0020000D, pre, lambda w: p.uid(w, study_uid))
        return Sequence([item])

    def original_attributes_seq(where: str) -> Sequence:
        pre = f"{where}[0]"
        item = Dataset()
        old = Dataset()
        pre_old = f"{pre} > (0400,0550) ModifiedAttributesSequence[0]"
        p.put(old, 0x00100010, pre_old, lambda w: f"{p.tok(w)}^OldName")
        p.put(old, 0x00100020, pre_old)
        p.put(old, 0x00100030, pre_old)
        item.ModifiedAttributesSequence = Sequence([old])
        p.put(item, 0x04000562, pre)  # AttributeModificationDateTime
        p.put(item, 0x04000563, pre)  # ModifyingSystem
        p.put(item, 0x04000564, pre)  # SourceOfPreviousValues
        item.ReasonForTheAttributeModification = "COERCE"
        return Sequence([item])

    def icon_image_seq(where: str) -> Sequence:
        pre = f"{where}[0]"
        icon = Dataset()
        icon.SamplesPerPixel = 1
        icon.PhotometricInterpretation = "MONOCHROME2"
        icon.Rows = 4
        icon.Columns = 4
        icon.BitsAllocated = 8
        icon.BitsStored = 8
        icon.HighBit = 7
        icon.PixelRepresentation = 0
        p.put(
            icon,
            0x7FE00010,
            pre,
            lambda w: _blob(p.tok(w), size=16),
            vr="OB",
            label="PixelData (icon with burned-in token)",
        )
        return Sequence([icon])

    specials: dict[int, Callable[[str], Any]] = {
        0x00080018: lambda w: p.uid(w, sop_uid),
        0x0020000D: lambda w: p.uid(w, study_uid),
        0x0020000E: lambda w: p.uid(w, series_uid),
        0x00200052: lambda w: p.uid(w, for_uid),
        0x00080020: lambda w: p.date(w, study_d),
        0x00080021: lambda w: p.date(w, series_d),
        0x00080022: lambda w: p.date(w, acq_d),
        0x00080023: lambda w: p.date(w, content_d),
        0x0008002A: lambda w: p.dt(w, acq_d, acq_t),
        0x00100010: lambda w: f"{p.tok(w)}^Zoë^^Dr",
        0x00081140: ref_image_seq,
        0x00082112: source_image_seq,
        0x00081120: ref_patient_seq,
        0x00081110: ref_study_seq,
        0x00400275: request_attributes_seq,
        0x04000561: original_attributes_seq,
        0x00880200: icon_image_seq,
    }

    # -- every table row --------------------------------------------------------------------
    for row in table_rows():
        if row.is_wildcard:
            continue
        tag = row.tag_int
        if tag >> 16 in (0x0000, 0x0002, 0x0004):
            continue  # planted elsewhere; see NOT_TOP_LEVEL
        out.table_rows[row.tag] = p.put(ds, tag, "", specials.get(tag))

    # -- wildcard rows: overlays (60xx), curves (50xx), private attributes ------------------
    for group in (0x6000, 0x6002):
        base = group << 16
        ds.add_new(base | 0x0010, "US", 16)
        ds.add_new(base | 0x0011, "US", 16)
        ds.add_new(base | 0x0040, "CS", "G")
        ds.add_new(base | 0x0050, "SS", [1, 1])
        ds.add_new(base | 0x0100, "US", 1)
        ds.add_new(base | 0x0102, "US", 0)
        p.put(ds, base | 0x3000, "", lambda w: _blob(p.tok(w), size=32), vr="OW")
        p.put(ds, base | 0x0022, "", label="OverlayDescription [not in E.1-1]")
        p.put(ds, base | 0x1500, "", label="OverlayLabel [not in E.1-1]")
        p.put(ds, base | 0x4000, "")
    out.table_rows["60xx,3000"] = "(6000,3000) OverlayData | (6002,3000) OverlayData"
    out.table_rows["60xx,4000"] = "(6000,4000) OverlayComments | (6002,4000) OverlayComments"

    ds.add_new(0x50000005, "US", 1)  # CurveDimensions
    ds.add_new(0x50000010, "US", 4)  # NumberOfPoints
    ds.add_new(0x50000020, "CS", "PHYSIO")  # TypeOfData
    ds.add_new(0x50000103, "US", 0)  # DataValueRepresentation
    for tag in (0x50000022, 0x50000030, 0x50000040, 0x50002500, 0x50020022, 0x50022500):
        p.put(ds, tag, "")
    for tag in (0x50003000, 0x50023000):
        p.put(ds, tag, "", lambda w: _blob(p.tok(w), size=16), vr="OB")
    out.table_rows["50xx,xxxx"] = "(5000,xxxx) curve group 5000 | (5002,xxxx) curve group 5002"

    def priv_entries(nested: Callable[[str], Sequence] | None) -> list[tuple[int, str, Callable[[str], Any]]]:
        entries: list[tuple[int, str, Callable[[str], Any]]] = [
            (0x10, "LO", p.tok),
            (0x11, "PN", lambda w: f"{p.tok(w)}^Private"),
            (0x12, "DA", p.date),
            (0x13, "UI", p.uid),
            (0x14, "UN", lambda w: _blob(p.tok(w))),
            (0x15, "OB", lambda w: _blob(p.tok(w), utf16=True)),
            (0x17, "LT", lambda w: _text(p.tok(w))),
            (0x18, "DS", p.number),
        ]
        if nested is not None:
            entries.append((0x16, "SQ", nested))
        return entries

    def private_sq(where: str) -> Sequence:
        pre1 = f"{where}[0]"
        level1 = Dataset()
        p.put(level1, 0x00100010, pre1)

        def level2_seq(where2: str) -> Sequence:
            pre2 = f"{where2}[0]"
            level2 = Dataset()
            p.put(level2, 0x00100020, pre2)
            p.put(level2, 0x00001000, pre2, lambda w: p.uid(w, sop_uid))
            p.put(level2, 0x00001001, pre2, lambda w: p.uid(w, ref_b))
            p.put(level2, 0x00001030, pre2, label="MoveOriginatorApplicationEntityTitle [not in E.1-1]")
            p.private(level2, pre2, 0x0009, "SYNTH PHI 1.0", [(0x10, "PN", lambda w: f"{p.tok(w)}^Deep")])
            return Sequence([level2])

        p.private(level1, pre1, 0x0009, "SYNTH PHI 1.0", [(0x10, "LO", p.tok), (0x11, "SQ", level2_seq)])
        return Sequence([level1])

    p.private(ds, "", 0x0009, "SYNTH PHI 1.0", priv_entries(private_sq))
    creator_token = p.tok("(0011,0010) private creator (its value holds a token)")
    p.private(ds, "", 0x0011, f"{creator_token} CORP", [(0x10, "LO", p.tok)])
    if ds[0x00110010].value != f"{creator_token} CORP":
        raise RuntimeError("private creator not at (0011,0010)")
    safe = ds.private_block(0x7053, "Philips PET Private Group", create=True)
    safe.add_new(0x00, "DS", "1.234")
    out.safe_private[f"({tag_str(safe.get_tag(0x00))}) [Philips PET Private Group] SUV Factor"] = 1.234
    out.table_rows["gggg,eeee"] = "(0009,xxxx), (0011,xxxx) top level; private SQ; nested private blocks"

    # -- unlisted standard sequences, 3 levels deep -----------------------------------------
    l1_where = _loc("", 0x00081115)
    level1 = Dataset()
    pre1 = f"{l1_where}[0]"
    p.put(level1, 0x0020000E, pre1, lambda w: p.uid(w, prior_series))
    for tag in (0x00100010, 0x00080080, 0x00080020, 0x00081155):
        p.put(level1, tag, pre1)
    p.private(
        level1,
        pre1,
        0x0019,
        "SYNTH PHI NESTED",
        [(0x10, "PN", lambda w: f"{p.tok(w)}^Nested"), (0x11, "UI", p.uid)],
    )
    level2 = Dataset()
    pre2 = f"{pre1} > {_loc('', 0x0008114A)}[0]"
    kept2 = "ReferencedSeriesSequence[0].ReferencedInstanceSequence[0]."
    p.keep(level2, kept2, "ReferencedSOPClassUID", CT_IMAGE_STORAGE)
    p.put(level2, 0x00081155, pre2, lambda w: p.uid(w, ref_a))
    for tag in (0x00100010, 0x00100020, 0x00100030):
        p.put(level2, tag, pre2)
    level3 = _code("121311", "DCM", "Localizer")
    pre3 = f"{pre2} > {_loc('', 0x0040A170)}[0]"
    kept3 = f"{kept2}PurposeOfReferenceCodeSequence[0]."
    for kw in ("CodeValue", "CodingSchemeDesignator", "CodeMeaning"):
        out.kept[f"{kept3}{kw}"] = level3[kw].value
    for tag in (0x00100010, 0x00080080, 0x00080020, 0x00081155):
        p.put(level3, tag, pre3)
    p.put(level3, 0x00140104, pre3, label="SecondaryReviewerName [not in E.1-1]")
    level2.PurposeOfReferenceCodeSequence = Sequence([level3])
    level1.ReferencedInstanceSequence = Sequence([level2])
    ds.ReferencedSeriesSequence = Sequence([level1])

    # -- unlisted attributes by VR (top level) ---------------------------------------------
    for tag in UNLISTED_BY_VR:
        p.put(ds, tag, "", label=f"{_keyword(tag)} [not in E.1-1]")

    # -- kept, not identifying ---------------------------------------------------------------
    p.keep(ds, "", "Manufacturer", "SYNTHETIC")
    p.keep(ds, "", "ManufacturerModelName", "MODEL 1")
    p.keep(ds, "", "BodyPartExamined", "CHEST")
    p.keep(ds, "", "SeriesNumber", 3)
    p.keep(ds, "", "InstanceNumber", 7)
    ds.AnatomicRegionSequence = Sequence([_code("51185008", "SCT", "Chest")])
    ds.ProcedureCodeSequence = Sequence([_code("24627-2", "LN", "CT Chest")])
    for seq_kw, item in (
        ("AnatomicRegionSequence", ds.AnatomicRegionSequence[0]),
        ("ProcedureCodeSequence", ds.ProcedureCodeSequence[0]),
    ):
        for kw in ("CodeValue", "CodingSchemeDesignator", "CodeMeaning"):
            out.kept[f"{seq_kw}[0].{kw}"] = item[kw].value
    ds.ImagePositionPatient = [-4.0, -4.0, 12.5]
    _image_module(p, ds)

    # -- file meta and preamble -------------------------------------------------------------
    meta = _file_meta(sop_class, sop_uid)
    out.table_rows["0002,0003"] = "file meta: (0002,0003) MediaStorageSOPInstanceUID"
    p.uid(out.table_rows["0002,0003"], sop_uid)
    for tag in (0x00020016, 0x00020017, 0x00020018, 0x00020026, 0x00020100, 0x00020102):
        p.put(meta, tag, "file meta:", label=f"{_keyword(tag)} [not in E.1-1]")
    out.kept["file_meta.TransferSyntaxUID"] = EXPLICIT_VR_LITTLE_ENDIAN
    out.kept["file_meta.MediaStorageSOPClassUID"] = sop_class
    preamble = f"PHI {p.tok('preamble (128 bytes before DICM)')} ".encode()
    return p.finish(ds, meta, preamble)


# --------------------------------------------------------------------------------------------
# Shared patient/study/series planting for the smaller files
# --------------------------------------------------------------------------------------------


def _patient_study(p: _Planter, ds: Dataset, study_uid: str, study_date: str) -> None:
    """Patient and General Study attributes with markers."""
    p.put(ds, 0x00100010, "", lambda w: f"{p.tok(w)}^Pat")
    p.put(ds, 0x00100020, "")
    p.put(ds, 0x00100030, "")
    ds.PatientSex = "O"
    p.put(ds, 0x0020000D, "", lambda w: p.uid(w, study_uid))
    p.put(ds, 0x00080020, "", lambda w: p.date(w, study_date))
    p.put(ds, 0x00080030, "")
    p.put(ds, 0x00080050, "")
    p.put(ds, 0x00080090, "")
    p.put(ds, 0x00200010, "")
    p.put(ds, 0x00081030, "")
    p.put(ds, 0x00080080, "")
    p.put(ds, 0x00081010, "")  # StationName


# --------------------------------------------------------------------------------------------
# sr_file
# --------------------------------------------------------------------------------------------


def _content_item(rel: str, value_type: str, concept: Dataset) -> Dataset:
    item = Dataset()
    item.RelationshipType = rel
    item.ValueType = value_type
    item.ConceptNameCodeSequence = Sequence([concept])
    return item


def sr_file(seed: int = 0) -> PlantedFile:
    """A Comprehensive SR with markers in TEXT, PNAME, DATE, TIME, DATETIME, UIDREF and CODE (local
    scheme "99LOCAL") content items, a CONTAINER nested 3 levels deep, and the Verifying Observer,
    Author Observer, Participant and Custodial Organization sequences."""
    p = _Planter(_Source(seed, "sr"))
    out = p.out
    out.name = "sr"
    src = p.src
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    sop_uid, study_uid, series_uid = src.uid(), src.uid(), src.uid()
    img_study, img_series, img_sop = study_uid, src.uid(), src.uid()
    study_d, content_d = src.key_dates([0, 1])
    out.temporal.update(StudyDate=study_d, ContentDate=content_d)
    p.keep(ds, "", "SOPClassUID", COMPREHENSIVE_SR_STORAGE)
    p.put(ds, 0x00080018, "", lambda w: p.uid(w, sop_uid))
    p.keep(ds, "", "Modality", "SR")
    _patient_study(p, ds, study_uid, study_d)
    p.put(ds, 0x0020000E, "", lambda w: p.uid(w, series_uid))
    p.put(ds, 0x00080023, "", lambda w: p.date(w, content_d))
    p.put(ds, 0x00080033, "")
    p.keep(ds, "", "Manufacturer", "SYNTHETIC")
    p.keep(ds, "", "SeriesNumber", 1)
    p.keep(ds, "", "InstanceNumber", 1)
    ds.ReferencedPerformedProcedureStepSequence = Sequence()
    ds.PerformedProcedureCodeSequence = Sequence()
    p.keep(ds, "", "CompletionFlag", "COMPLETE")
    p.keep(ds, "", "VerificationFlag", "VERIFIED")

    # Verifying Observer, Author Observer, Participant, Custodial Organization
    vo_where = _loc("", 0x0040A073)
    vo = Dataset()
    pre = f"{vo_where}[0]"
    p.put(vo, 0x0040A075, pre)  # VerifyingObserverName
    p.put(vo, 0x0040A027, pre)  # VerifyingOrganization
    p.put(vo, 0x0040A030, pre)  # VerificationDateTime
    vo_code = Dataset()
    vo_pre = f"{pre} > {_loc('', 0x0040A088)}[0]"
    p.put(vo_code, 0x00080100, vo_pre, p.tok, label="CodeValue (person id)")
    vo_code.CodingSchemeDesignator = "99LOCAL"
    p.put(vo_code, 0x00080104, vo_pre, lambda w: f"Dr {p.tok(w)}", label="CodeMeaning (person)")
    vo.VerifyingObserverIdentificationCodeSequence = Sequence([vo_code])
    ds.VerifyingObserverSequence = Sequence([vo])

    author = Dataset()
    pre = f"{_loc('', 0x0040A078)}[0]"
    author.ObserverType = "PSN"
    p.put(author, 0x0040A123, pre)  # PersonName
    p.put(author, 0x00080080, pre)
    p.put(author, 0x00081040, pre)  # InstitutionalDepartmentName
    p.put(author, 0x00080081, pre)  # InstitutionAddress
    ds.AuthorObserverSequence = Sequence([author])

    participant = Dataset()
    pre = f"{_loc('', 0x0040A07A)}[0]"
    participant.ParticipationType = "ENT"
    p.put(participant, 0x0040A082, pre)  # ParticipationDateTime
    participant.ObserverType = "PSN"
    p.put(participant, 0x0040A123, pre)
    p.put(participant, 0x00080080, pre)
    ds.ParticipantSequence = Sequence([participant])

    custodian = Dataset()
    pre = f"{_loc('', 0x0040A07C)}[0]"
    p.put(custodian, 0x00080080, pre)
    ds.CustodialOrganizationSequence = Sequence([custodian])

    # Evidence: references to an imaging study (the same StudyInstanceUID, relationship kept)
    ev_where = f"{_loc('', 0x0040A375)}[0]"
    ev = Dataset()
    p.put(ev, 0x0020000D, ev_where, lambda w: p.uid(w, img_study))
    ser = Dataset()
    ser_where = f"{ev_where} > {_loc('', 0x00081115)}[0]"
    p.put(ser, 0x0020000E, ser_where, lambda w: p.uid(w, img_series))
    ref = Dataset()
    ref.ReferencedSOPClassUID = CT_IMAGE_STORAGE
    p.put(ref, 0x00081155, f"{ser_where} > {_loc('', 0x00081199)}[0]", lambda w: p.uid(w, img_sop))
    ser.ReferencedSOPSequence = Sequence([ref])
    ev.ReferencedSeriesSequence = Sequence([ser])
    ds.CurrentRequestedProcedureEvidenceSequence = Sequence([ev])

    # Document root and content tree
    p.keep(ds, "", "ValueType", "CONTAINER")
    ds.ConceptNameCodeSequence = Sequence([_code("18748-4", "LN", "Diagnostic Imaging Report")])
    out.kept["ConceptNameCodeSequence[0].CodeValue"] = "18748-4"
    p.keep(ds, "", "ContinuityOfContent", "SEPARATE")
    template = Dataset()
    template.MappingResource = "DCMR"
    template.TemplateIdentifier = "2000"
    ds.ContentTemplateSequence = Sequence([template])
    out.kept["ContentTemplateSequence[0].TemplateIdentifier"] = "2000"

    cs_where = _loc("", 0x0040A730)

    def items(prefix: str, deep: bool) -> list[Dataset]:
        def at(i: int) -> str:
            return f"{prefix}[{i}]"

        result: list[Dataset] = []
        pname = _content_item("HAS OBS CONTEXT", "PNAME", _code("121008", "DCM", "Person Observer Name"))
        p.put(pname, 0x0040A123, at(len(result)))
        result.append(pname)
        text = _content_item("CONTAINS", "TEXT", _code("121071", "DCM", "Finding"))
        p.put(
            text,
            0x0040A160,
            at(len(result)),
            lambda w: f"Patient {p.tok(w)} reports pain.",
            label="TextValue [not in E.1-1]",
        )
        p.put(text, 0x0040A032, at(len(result)))  # ObservationDateTime
        result.append(text)
        date = _content_item("CONTAINS", "DATE", _code("111060", "DCM", "Study Date"))
        p.put(date, 0x0040A121, at(len(result)))
        result.append(date)
        if not deep:
            return result
        time = _content_item("CONTAINS", "TIME", _code("111061", "DCM", "Study Time"))
        p.put(time, 0x0040A122, at(len(result)))
        result.append(time)
        datetime = _content_item("CONTAINS", "DATETIME", _code("111526", "DCM", "DateTime Started"))
        p.put(datetime, 0x0040A120, at(len(result)))
        result.append(datetime)
        uidref = _content_item(
            "HAS OBS CONTEXT", "UIDREF", _code("121018", "DCM", "Procedure Study Instance UID")
        )
        p.put(uidref, 0x0040A124, at(len(result)), lambda w: p.uid(w, img_study))
        result.append(uidref)
        code = _content_item("CONTAINS", "CODE", _code("121071", "DCM", "Finding"))
        code_pre = f"{at(len(result))} > {_loc('', 0x0040A168)}[0]"
        concept = Dataset()
        p.put(concept, 0x00080100, code_pre, p.tok, label="CodeValue (local code)")
        concept.CodingSchemeDesignator = "99LOCAL"
        p.put(
            concept,
            0x00080104,
            code_pre,
            lambda w: f"Lesion seen on {p.tok(w)}",
            label="CodeMeaning (local code)",
        )
        code.ConceptCodeSequence = Sequence([concept])
        result.append(code)
        num = _content_item("CONTAINS", "NUM", _code("121206", "DCM", "Distance"))
        measured = Dataset()
        measured.NumericValue = "12.5"
        measured.MeasurementUnitsCodeSequence = Sequence([_code("mm", "UCUM", "millimeter")])
        num.MeasuredValueSequence = Sequence([measured])
        result.append(num)
        image = _content_item("CONTAINS", "IMAGE", _code("121080", "DCM", "Best illustration of finding"))
        img_ref = Dataset()
        img_ref.ReferencedSOPClassUID = CT_IMAGE_STORAGE
        p.put(
            img_ref, 0x00081155, f"{at(len(result))} > {_loc('', 0x00081199)}[0]", lambda w: p.uid(w, img_sop)
        )
        image.ReferencedSOPSequence = Sequence([img_ref])
        result.append(image)
        return result

    def container(prefix: str, level: int) -> Dataset:
        box = _content_item("CONTAINS", "CONTAINER", _code("121070", "DCM", "Findings"))
        box.ContinuityOfContent = "SEPARATE"
        inner = f"{prefix} > {_loc('', 0x0040A730)}"
        children = items(inner, deep=level == 3)
        if level < 3:
            children.append(container(f"{inner}[{len(children)}]", level + 1))
        box.ContentSequence = Sequence(children)
        return box

    top = items(cs_where, deep=True)
    top.append(container(f"{cs_where}[{len(top)}]", 1))
    ds.ContentSequence = Sequence(top)

    return p.finish(ds, _file_meta(COMPREHENSIVE_SR_STORAGE, sop_uid))


# --------------------------------------------------------------------------------------------
# presentation_state_file
# --------------------------------------------------------------------------------------------


def presentation_state_file(seed: int = 0) -> PlantedFile:
    """A Grayscale Softcopy Presentation State: text annotations, content creator, labels and
    references to an image series."""
    p = _Planter(_Source(seed, "gsps"))
    out = p.out
    out.name = "presentation_state"
    src = p.src
    ds = Dataset()
    sop_uid, study_uid, series_uid = src.uid(), src.uid(), src.uid()
    img_series, img_sop = src.uid(), src.uid()
    study_d, creation_d = src.key_dates([0, 3])
    out.temporal.update(StudyDate=study_d, PresentationCreationDate=creation_d)
    p.keep(ds, "", "SOPClassUID", GRAYSCALE_SOFTCOPY_PS_STORAGE)
    p.put(ds, 0x00080018, "", lambda w: p.uid(w, sop_uid))
    p.keep(ds, "", "Modality", "PR")
    _patient_study(p, ds, study_uid, study_d)
    p.put(ds, 0x0020000E, "", lambda w: p.uid(w, series_uid))
    p.keep(ds, "", "SeriesNumber", 900)
    p.keep(ds, "", "InstanceNumber", 1)
    p.keep(ds, "", "Manufacturer", "SYNTHETIC")
    p.put(ds, 0x00700080, "", label="ContentLabel [not in E.1-1]")
    p.put(ds, 0x00700081, "", label="ContentDescription [not in E.1-1]")
    p.put(ds, 0x00700082, "", lambda w: p.date(w, creation_d))  # PresentationCreationDate
    p.put(ds, 0x00700083, "")  # PresentationCreationTime
    p.put(ds, 0x00700084, "")  # ContentCreatorName

    rs_where = f"{_loc('', 0x00081115)}[0]"
    rs = Dataset()
    p.put(rs, 0x0020000E, rs_where, lambda w: p.uid(w, img_series))
    ri = Dataset()
    ri.ReferencedSOPClassUID = CT_IMAGE_STORAGE
    p.put(ri, 0x00081155, f"{rs_where} > {_loc('', 0x00081140)}[0]", lambda w: p.uid(w, img_sop))
    rs.ReferencedImageSequence = Sequence([ri])
    ds.ReferencedSeriesSequence = Sequence([rs])

    area = Dataset()
    area.DisplayedAreaTopLeftHandCorner = [1, 1]
    area.DisplayedAreaBottomRightHandCorner = [16, 16]
    area.PresentationSizeMode = "SCALE TO FIT"
    area.PresentationPixelAspectRatio = [1, 1]
    ds.DisplayedAreaSelectionSequence = Sequence([area])
    out.kept["DisplayedAreaSelectionSequence[0].DisplayedAreaBottomRightHandCorner"] = [16, 16]

    ga_where = f"{_loc('', 0x00700001)}[0]"
    ga = Dataset()
    ga_ref = Dataset()
    ga_ref.ReferencedSOPClassUID = CT_IMAGE_STORAGE
    p.put(ga_ref, 0x00081155, f"{ga_where} > {_loc('', 0x00081140)}[0]", lambda w: p.uid(w, img_sop))
    ga.ReferencedImageSequence = Sequence([ga_ref])
    ga.GraphicLayer = "LAYER1"
    text = Dataset()
    text_where = f"{ga_where} > {_loc('', 0x00700008)}[0]"
    p.put(text, 0x00700006, text_where, lambda w: f"Call {p.tok(w)} at home")  # UnformattedTextValue
    text.BoundingBoxAnnotationUnits = "PIXEL"
    text.BoundingBoxTopLeftHandCorner = [1.0, 1.0]
    text.BoundingBoxBottomRightHandCorner = [15.0, 8.0]
    text.BoundingBoxTextHorizontalJustification = "LEFT"
    ga.TextObjectSequence = Sequence([text])
    graphic = Dataset()
    graphic.GraphicAnnotationUnits = "PIXEL"
    graphic.GraphicDimensions = 2
    graphic.NumberOfGraphicPoints = 2
    graphic.GraphicData = [2.0, 2.0, 12.0, 12.0]
    graphic.GraphicType = "POLYLINE"
    graphic.GraphicFilled = "N"
    ga.GraphicObjectSequence = Sequence([graphic])
    ds.GraphicAnnotationSequence = Sequence([ga])

    layer = Dataset()
    layer.GraphicLayer = "LAYER1"
    layer.GraphicLayerOrder = 1
    p.put(layer, 0x00700068, f"{_loc('', 0x00700060)}[0]", label="GraphicLayerDescription [not in E.1-1]")
    ds.GraphicLayerSequence = Sequence([layer])
    out.kept["GraphicLayerSequence[0].GraphicLayer"] = "LAYER1"
    out.kept["GraphicLayerSequence[0].GraphicLayerOrder"] = 1
    p.keep(ds, "", "PresentationLUTShape", "IDENTITY")
    return p.finish(ds, _file_meta(GRAYSCALE_SOFTCOPY_PS_STORAGE, sop_uid))


# --------------------------------------------------------------------------------------------
# jpeg_file
# --------------------------------------------------------------------------------------------


def jpeg_segments(codestream: bytes) -> list[tuple[int, bytes]]:
    """The marker segments of a JPEG codestream before the first SOS, as (marker, payload)."""
    if codestream[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG codestream (no SOI)")
    segments: list[tuple[int, bytes]] = []
    pos = 2
    while pos + 4 <= len(codestream):
        if codestream[pos] != 0xFF:
            raise ValueError(f"marker expected at offset {pos}")
        marker = codestream[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        length = struct.unpack(">H", codestream[pos + 2 : pos + 4])[0]
        segments.append((marker, codestream[pos + 4 : pos + 2 + length]))
        if marker == 0xDA:
            break
        pos += 2 + length
    return segments


def jpeg_scan_data(codestream: bytes) -> bytes:
    """Everything after the first SOS header: the entropy-coded data up to and including EOI.
    Removing COM/APPn segments must leave this byte-identical."""
    pos = 2
    while pos + 4 <= len(codestream):
        marker = codestream[pos + 1]
        if codestream[pos] != 0xFF or marker == 0xFF:
            pos += 1
            continue
        length = struct.unpack(">H", codestream[pos + 2 : pos + 4])[0]
        if marker == 0xDA:
            return codestream[pos + 2 + length :].rstrip(b"\x00")
        pos += 2 + length
    raise ValueError("no SOS segment")


def jpeg_file(seed: int = 0) -> PlantedFile:
    """Secondary Capture with encapsulated JPEG Baseline pixel data. The codestream carries a COM
    segment and an APP1 EXIF segment (ImageDescription, Artist, DateTime) with markers.
    ``kept["#jpeg_scan_data"]`` is :func:`jpeg_scan_data` of the original frame."""
    from PIL import Image  # dev dependency; imported here so the module loads without it

    p = _Planter(_Source(seed, "jpeg"))
    out = p.out
    out.name = "jpeg"
    src = p.src
    sop_uid, study_uid, series_uid = src.uid(), src.uid(), src.uid()
    study_d, exif_d = src.key_dates([0, 5])
    out.temporal.update(StudyDate=study_d)

    img = Image.new("L", (16, 16))
    img.putdata([(r * 16 + c) for r in range(16) for c in range(16)])
    exif = Image.Exif()
    exif[0x010E] = f"Photo of {p.tok('JPEG APP1 EXIF ImageDescription')}"
    exif[0x013B] = p.tok("JPEG APP1 EXIF Artist")
    p.date("JPEG APP1 EXIF DateTime (YYYY:MM:DD form)", exif_d)
    exif[0x0132] = f"{exif_d[:4]}:{exif_d[4:6]}:{exif_d[6:]} 10:11:12"
    comment = f"Scanned for {p.tok('JPEG COM segment')}".encode()
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=95, exif=exif.tobytes(), comment=comment)
    frame = buf.getvalue()
    if not any(marker == 0xC0 for marker, _ in jpeg_segments(frame)):
        raise RuntimeError("Pillow did not write a baseline (SOF0) JPEG")
    out.kept["#jpeg_scan_data"] = jpeg_scan_data(frame)

    ds = Dataset()
    p.keep(ds, "", "SOPClassUID", SECONDARY_CAPTURE_STORAGE)
    p.put(ds, 0x00080018, "", lambda w: p.uid(w, sop_uid))
    p.keep(ds, "", "Modality", "OT")
    p.keep(ds, "", "ConversionType", "DI")
    _patient_study(p, ds, study_uid, study_d)
    p.put(ds, 0x0020000E, "", lambda w: p.uid(w, series_uid))
    p.keep(ds, "", "SeriesNumber", 1)
    p.keep(ds, "", "InstanceNumber", 1)
    p.keep(ds, "", "SamplesPerPixel", 1)
    p.keep(ds, "", "PhotometricInterpretation", "MONOCHROME2")
    p.keep(ds, "", "Rows", 16)
    p.keep(ds, "", "Columns", 16)
    p.keep(ds, "", "BitsAllocated", 8)
    p.keep(ds, "", "BitsStored", 8)
    p.keep(ds, "", "HighBit", 7)
    p.keep(ds, "", "PixelRepresentation", 0)
    p.keep(ds, "", "LossyImageCompression", "01")
    p.keep(ds, "", "LossyImageCompressionMethod", "ISO_10918_1")
    ds.PixelData = encapsulate([frame])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    out.kept["file_meta.TransferSyntaxUID"] = JPEG_BASELINE_8BIT
    return p.finish(ds, _file_meta(SECONDARY_CAPTURE_STORAGE, sop_uid, JPEG_BASELINE_8BIT))


# --------------------------------------------------------------------------------------------
# study_of_files
# --------------------------------------------------------------------------------------------


@dataclass
class _Patient:
    label: str
    name: str | None  # None: empty (present, zero length)
    patient_id: str | None
    birth_date: str | None
    study_uid: str
    study_date: str
    accession: str
    series: list[tuple[str, str, list[str]]]  # (series uid, frame of reference uid, sop uids)


def study_of_files(seed: int = 0, n_series: int = 2, n_instances: int = 3) -> list[PlantedFile]:
    """CT files of three patients.

    * Patient ``A``: one study with ``n_series`` series of ``n_instances`` instances. The files
      share StudyInstanceUID, and each series has its own SeriesInstanceUID and
      FrameOfReferenceUID. ReferencedImageSequence points at the next instance of the same series,
      and SourceImageSequence (in series 1 and later) points at the same instance number in
      series 0. SeriesDate = AcquisitionDate = StudyDate + (series index + 1) days;
      ContentDate = SeriesDate + 1 day; AcquisitionDateTime = SeriesDate at a distinct time per
      instance. Patients B and C follow the same date scheme from their own StudyDate.
    * Patient ``B``: an empty PatientID, but a name and a birth date (1 series, 2 instances).
    * Patient ``C``: an empty PatientID, an empty PatientName and no birth date (1 series,
      2 instances).

    Patient-level tokens are identical in all files of one patient. ``labels`` holds ``patient``,
    ``series`` and ``instance``. ``temporal`` holds each file's key dates."""
    src = _Source(seed, "study")
    a_dates = src.key_dates(range(n_series + 2))
    b_dates = src.key_dates(range(3))
    c_dates = src.key_dates(range(3))

    def new_series(count: int) -> tuple[str, str, list[str]]:
        return src.uid(), src.uid(), [src.uid() for _ in range(count)]

    patients = [
        _Patient(
            "A",
            src.token(),
            src.token(),
            src.date(),
            src.uid(),
            a_dates[0],
            src.token(),
            [new_series(n_instances) for _ in range(n_series)],
        ),
        _Patient("B", src.token(), None, src.date(), src.uid(), b_dates[0], src.token(), [new_series(2)]),
        _Patient("C", None, None, None, src.uid(), c_dates[0], src.token(), [new_series(2)]),
    ]
    return [
        _study_instance(src, pat, p_idx, s_idx, i_idx)
        for p_idx, pat in enumerate(patients)
        for s_idx, (_, _, sops) in enumerate(pat.series)
        for i_idx in range(len(sops))
    ]


def _study_instance(src: _Source, pat: _Patient, p_idx: int, s_idx: int, i_idx: int) -> PlantedFile:
    p = _Planter(src)
    out = p.out
    series_uid, for_uid, sops = pat.series[s_idx]
    sop_uid = sops[i_idx]
    out.name = f"patient {pat.label} series {s_idx} instance {i_idx}"
    out.labels.update(patient=pat.label, series=str(s_idx), instance=str(i_idx))
    base = _dt.datetime.strptime(pat.study_date, "%Y%m%d").date()
    series_d = (base + _dt.timedelta(days=s_idx + 1)).strftime("%Y%m%d")
    content_d = (base + _dt.timedelta(days=s_idx + 2)).strftime("%Y%m%d")
    acq_t = f"{7 + 3 * p_idx + s_idx:02d}{i_idx % 60:02d}{(10 + i_idx) % 60:02d}.{123457 + 1111 * i_idx}"
    out.temporal.update(
        StudyDate=pat.study_date,
        SeriesDate=series_d,
        AcquisitionDate=series_d,
        ContentDate=content_d,
        AcquisitionDateTime=f"{series_d}{acq_t}+0130",
    )

    ds = Dataset()
    p.keep(ds, "", "SOPClassUID", CT_IMAGE_STORAGE)
    p.put(ds, 0x00080018, "", lambda w: p.uid(w, sop_uid))
    p.keep(ds, "", "Modality", "CT")
    p.put(ds, 0x00100010, "", lambda w: f"{p.tok(w, value=pat.name)}^Pat" if pat.name else "")
    p.put(ds, 0x00100020, "", lambda w: p.tok(w, value=pat.patient_id) if pat.patient_id else "")
    if pat.birth_date:
        p.put(ds, 0x00100030, "", lambda w: p.date(w, pat.birth_date))
        out.temporal["PatientBirthDate"] = pat.birth_date
    else:
        ds.PatientBirthDate = ""
    ds.PatientSex = ""
    p.put(ds, 0x0020000D, "", lambda w: p.uid(w, pat.study_uid))
    p.put(ds, 0x00080050, "", lambda w: p.tok(w, value=pat.accession))
    p.put(ds, 0x00080020, "", lambda w: p.date(w, pat.study_date))
    p.put(ds, 0x00080021, "", lambda w: p.date(w, series_d))
    p.put(ds, 0x00080022, "", lambda w: p.date(w, series_d))
    p.put(ds, 0x00080023, "", lambda w: p.date(w, content_d))
    p.put(ds, 0x0008002A, "", lambda w: p.dt(w, series_d, acq_t))
    p.put(ds, 0x0020000E, "", lambda w: p.uid(w, series_uid))
    p.put(ds, 0x00200052, "", lambda w: p.uid(w, for_uid))
    for tag in (0x00080080, 0x00081010, 0x00081070, 0x00081050, 0x00181000, 0x00080090):
        p.put(ds, tag, "")
    p.keep(ds, "", "SeriesNumber", s_idx + 1)
    p.keep(ds, "", "InstanceNumber", i_idx + 1)
    p.keep(ds, "", "ImagePositionPatient", [-4.0, -4.0, float(i_idx)])

    ref = Dataset()
    ref.ReferencedSOPClassUID = CT_IMAGE_STORAGE
    target = sops[(i_idx + 1) % len(sops)]
    p.put(ref, 0x00081155, f"{_loc('', 0x00081140)}[0]", lambda w: p.uid(w, target))
    ds.ReferencedImageSequence = Sequence([ref])
    if s_idx > 0:
        first_series_sops = pat.series[0][2]
        source_target = first_series_sops[min(i_idx, len(first_series_sops) - 1)]
        source = Dataset()
        source.ReferencedSOPClassUID = CT_IMAGE_STORAGE
        p.put(source, 0x00081155, f"{_loc('', 0x00082112)}[0]", lambda w: p.uid(w, source_target))
        ds.SourceImageSequence = Sequence([source])

    _image_module(p, ds)
    out.kept["file_meta.TransferSyntaxUID"] = EXPLICIT_VR_LITTLE_ENDIAN
    return p.finish(ds, _file_meta(CT_IMAGE_STORAGE, sop_uid))


# --------------------------------------------------------------------------------------------
# Leak detection
# --------------------------------------------------------------------------------------------

_UID_KEY = re.compile(r"^\d+(\.\d+)+$")
_DATE_KEY = re.compile(r"^\d{8}$")
_TIME_KEY = re.compile(r"^\d{6}\.\d{1,6}$")
_NUMBER_KEY = re.compile(r"^-?\d+$")


def _alternatives(key: str) -> list[bytes | re.Pattern[bytes]]:
    """Needles for lower-cased data that reveal ``key`` in an output file: plain byte strings
    (substring search) or patterns (when a boundary matters)."""
    k = key.strip(" \x00")

    def wide(s: str) -> list[bytes | re.Pattern[bytes]]:
        return [s.lower().encode(enc) for enc in ("utf-16-le", "utf-16-be")]

    if _DATE_KEY.match(k):
        y, m, d = k[:4], k[4:6], k[6:]
        forms = [k] + [f"{y}{sep}{m}{sep}{d}" for sep in "-.:/"]
        patterns: list[bytes | re.Pattern[bytes]] = [
            re.compile(rb"(?<![0-9.])" + re.escape(f.encode())) for f in forms
        ]
        return patterns + wide(k)
    if _NUMBER_KEY.match(k):
        return [re.compile(rb"(?<![0-9.])" + re.escape(k.encode()) + rb"(?![0-9])")]
    if _UID_KEY.match(k) or _TIME_KEY.match(k):
        return [k.encode(), *wide(k)]
    needles: list[bytes | re.Pattern[bytes]] = []
    for needle in TOKEN_RE.findall(k) or [k]:
        needles.append(needle.lower().encode("utf-8"))
        needles.extend(wide(needle))
    return needles


def _occurs(needle: bytes | re.Pattern[bytes], haystack: bytes) -> bool:
    if isinstance(needle, bytes):
        return needle in haystack
    return needle.search(haystack) is not None


def find_markers(
    data: bytes,
    markers: PlantedFile | Mapping[str, str] | Iterable[str],
    *,
    uids: bool = True,
    temporal: bool = True,
    numbers: bool = True,
) -> list[str]:
    """Return the planted markers that occur anywhere in ``data`` (the leaks), in input order.

    ``markers`` is a :class:`PlantedFile` (its ``markers``, plus ``uids``, ``dates`` + ``times``
    and ``numbers`` unless switched off), or any mapping/iterable of marker strings. Each key is
    recognised by its shape:

    * token-bearing text (``PHIx0042QZKW``, ``PHIx0042QZKW^Given``, ...): each embedded token,
      case-insensitively, in ASCII/UTF-8, UTF-16LE and UTF-16BE. Searching for the bare token
      also catches trimmed, padded, truncated-after-token and re-cased forms.
    * UID and time: the exact string (ASCII, UTF-16)
    * date ``YYYYMMDD``: that, plus ``YYYY-MM-DD``, ``YYYY.MM.DD``, ``YYYY:MM:DD`` (EXIF) and
      ``YYYY/MM/DD``, not preceded by a digit or dot (so not inside a UID)
    * integer: as a whole number (not preceded by a digit or dot, not followed by a digit)

    Switch off ``uids`` for the Retain UIDs option, ``temporal`` for the date options and
    ``numbers`` for Retain Patient Characteristics (size, weight)."""
    keys: list[str]
    if isinstance(markers, PlantedFile):
        keys = list(markers.markers)
        if uids:
            keys += list(markers.uids)
        if temporal:
            keys += list(markers.dates) + list(markers.times)
        if numbers:
            keys += list(markers.numbers)
    else:
        keys = list(markers)
    haystack = data.lower()
    return [key for key in dict.fromkeys(keys) if any(_occurs(n, haystack) for n in _alternatives(key))]


def scan_for_tokens(data: bytes) -> list[str]:
    """Every marker token in ``data`` (ASCII or UTF-16LE), whichever file planted it, upper-cased.
    A catch-all next to :func:`find_markers`."""
    low = data.lower()
    found = [m.decode("ascii") for m in _TOKEN_BYTES_RE.findall(low)]
    found += [m.decode("utf-16-le") for m in _TOKEN_UTF16_RE.findall(low)]
    return sorted({f.upper() for f in found})


def get_path(ds: Dataset, path: str) -> Any:
    """Resolve a ``kept`` path such as ``ReferencedSeriesSequence[0].ReferencedInstanceSequence[0]
    .ReferencedSOPClassUID`` or ``file_meta.TransferSyntaxUID``. Raises KeyError or IndexError if
    the element is missing."""
    node: Any = ds
    for part in path.split("."):
        m = re.fullmatch(r"(\w+)(?:\[(\d+)\])?", part)
        if not m:
            raise KeyError(path)
        name, index = m.group(1), m.group(2)
        if name == "file_meta":
            node = node.file_meta
            continue
        if name not in node:
            raise KeyError(f"{path}: {name} missing")
        node = node[name].value
        if index is not None:
            node = node[int(index)]
    return node
