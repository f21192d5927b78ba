"""Files with a unique token in every public attribute Table E.1-1 does not list (issue 12), and the search
for the tokens that survive de-identification.

The attribute list comes from pydicom's dictionary (DicomDictionary) minus what `load_table().lookup` covers
(Table E.1-1 and the product's extra rules), so a new dictionary release plants its new attributes without
anyone editing this file. Each value fits its VR: text VRs, PN, UR and CS carry a token `TKN00042CT` (five
digits, two letters naming the IOD: 10 characters, inside SH's and CS's 16), binary VRs carry the token's
bytes, UI a fresh UID under PLANTED_UID_ROOT (not registered), DA/DT/TM valid dates, numerics 1, AT a tag, SQ
one item holding one unlisted text attribute. Attributes are planted at the top level (those the base file
does not hold already, so the image stays readable) and, for every text and binary one, again inside an item
of each kept sequence the IOD defines (PS3.3, from anonymizer/data/iod_attribute_types.json), with an unknown
even-group tag next to them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache

import pydicom
from corpus import data_file
from pydicom._dicom_dict import DicomDictionary  # the dictionary itself (datadict does not re-export it)
from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from anonymizer.rules.iod_types import defined_at_top_level
from anonymizer.rules.table import is_repeating_group, load_table

TEXT_VRS = frozenset({"LO", "SH", "ST", "LT", "UT", "UC", "PN", "UR", "AE"})
BINARY_VRS = frozenset({"OB", "OW", "OF", "OD", "OL", "OV", "UN"})
PLANTED_UID_ROOT = "1.2.826.0.1.3680043.10.998"
TOKEN_RE = re.compile(rb"TKN\d{5}[A-Z]{2}", re.IGNORECASE)
UID_RE = re.compile(re.escape(PLANTED_UID_ROOT.encode()) + rb"\.\d\.1\d{5}")
# An even group with no attribute in the dictionary: a standard-looking element nobody defined.
UNKNOWN_TAGS = ((0x001A0010, "LO"), (0x001A0012, "LT"))

# Not planted: the character set (a token there makes every text unreadable); Directory Record Sequence (the
# reader refuses a file holding it as a DICOMDIR, whole: nothing would be tested); the pixel data's own
# description, which would make the image unreadable (PS3.3 C.7.6.3).
_NOT_PLANTED = frozenset(
    tag_for_keyword(k) or 0
    for k in (
        "SpecificCharacterSet",
        "DirectoryRecordSequence",
        *("SamplesPerPixel", "PhotometricInterpretation", "PlanarConfiguration", "NumberOfFrames"),
        *("Rows", "Columns", "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation"),
    )
)


@dataclass(frozen=True)
class Iod:
    """One IOD under test: a public file of it (or None: built here) and the kept sequences to plant into."""

    name: str
    code: str  # two letters in the token
    sop_class: str
    base: str | None
    nested: tuple[int, ...] = (
        0x00081140,  # Referenced Image Sequence
        0x00081032,  # Procedure Code Sequence
        0x00082218,  # Anatomic Region Sequence
        0x00400275,  # Request Attributes Sequence
    )


IODS = (
    Iod("CT", "CT", "1.2.840.10008.5.1.4.1.1.2", "CT_small.dcm"),
    Iod("MR", "MR", "1.2.840.10008.5.1.4.1.1.4", "MR_small.dcm"),
    Iod("US", "US", "1.2.840.10008.5.1.4.1.1.6.1", "US1_UNCR.dcm"),
    Iod("SC", "SC", "1.2.840.10008.5.1.4.1.1.7", "SC_rgb_small_odd.dcm"),
    Iod("SEG", "SG", "1.2.840.10008.5.1.4.1.1.66.4", "liver_1frame.dcm", (*Iod.nested, 0x00620002)),
    Iod("RT Plan", "RP", "1.2.840.10008.5.1.4.1.1.481.5", "rtplan.dcm", (*Iod.nested, 0x300A00B0)),
    Iod("Encapsulated PDF", "PD", "1.2.840.10008.5.1.4.1.1.104.1", None, (*Iod.nested, 0x0040A730)),
    Iod("Basic Text SR", "SR", "1.2.840.10008.5.1.4.1.1.88.11", "reportsi.dcm", (*Iod.nested, 0x0040A730)),
)


@dataclass(frozen=True)
class Plant:
    """Where a token (or UID) was planted."""

    tag: int
    vr: str
    path: str  # "(0008,1140) ReferencedImageSequence[0] > " for nested ones, "" at the top level

    @property
    def nested(self) -> bool:
        return bool(self.path)

    @property
    def known(self) -> bool:
        return self.tag in DicomDictionary

    @property
    def location(self) -> str:
        """As `found` writes it."""
        return f"{self.path}{label(self.tag)}"

    def __str__(self) -> str:
        return f"{self.location} {self.vr}"


@dataclass
class PlantedFile:
    iod: Iod
    data: bytes = b""
    plants: dict[str, Plant] = field(default_factory=dict)  # token or UID -> where


def label(tag: int) -> str:
    """`(0010,0033) PatientBirthDateInAlternativeCalendar`; the name where the dictionary has no keyword
    (some retired attributes), `<unknown>` for a tag not in it."""
    entry = DicomDictionary.get(tag)
    name = (entry[4] or entry[2]) if entry else "<unknown>"
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X}) {name}"


def _first_vr(vr: str) -> str:
    return vr.split(" or ")[0]  # "US or SS", "OB or OW": the first is as good a carrier as the other


@cache
def unlisted_tags() -> tuple[int, ...]:
    """Every public attribute Table E.1-1 (with the product's rules) does not cover, except the groups the
    brief leaves out: command (0000), file meta (0002), item delimitation (FFFE), group lengths, curves and
    overlays (50xx, 60xx: the pixel work of issue 12), and group 7FE0 (the pixel data and its alternatives,
    which would make the image unreadable), and _NOT_PLANTED."""
    table = load_table()
    out = []
    for tag in sorted(DicomDictionary):
        group = tag >> 16
        if group in (0x0000, 0x0002, 0xFFFE) or tag & 0xFFFF == 0 or group == 0x7FE0:
            continue
        if is_repeating_group(group, 0x5000) or is_repeating_group(group, 0x6000) or tag in _NOT_PLANTED:
            continue
        if table.lookup(tag) is None:
            out.append(tag)
    return tuple(out)


def unlisted_text_or_binary() -> tuple[int, ...]:
    return tuple(t for t in unlisted_tags() if _first_vr(DicomDictionary[t][0]) in TEXT_VRS | BINARY_VRS)


class _Planter:
    def __init__(self, out: PlantedFile) -> None:
        self.out = out
        self.n = 0
        self.texts = [t for t in unlisted_text_or_binary() if _first_vr(DicomDictionary[t][0]) in TEXT_VRS]

    def _marker(self, plant: Plant, uid: bool = False) -> str:
        self.n += 1
        index = IODS.index(self.out.iod)
        marker = f"{PLANTED_UID_ROOT}.{index}.1{self.n:05d}" if uid else f"TKN{self.n:05d}{self.out.iod.code}"
        self.out.plants[marker] = plant
        return marker

    def value(self, vr: str, plant: Plant) -> object:
        if vr in ("LO", "SH", "UC", "CS", "AE"):
            return self._marker(plant)
        if vr in ("ST", "LT", "UT"):
            return f"Free text {self._marker(plant)} typed by someone"
        if vr == "PN":
            return f"{self._marker(plant)}^Given"
        if vr == "UR":
            return f"http://{self._marker(plant).lower()}.example/"
        if vr in BINARY_VRS:
            raw = b"TOKEN:" + self._marker(plant).encode() + b"\x00"
            return raw + b"\x00" * (-len(raw) % 8)
        if vr == "UI":
            return self._marker(plant, uid=True)
        simple = {"DA": "19520317", "DT": "19520317101500", "TM": "101500", "DS": "1", "IS": "1"}
        if vr in simple:
            return simple[vr]
        if vr in ("FL", "FD"):
            return 1.0
        if vr == "AT":
            return 0x00100010
        if vr == "SQ":
            tag = self.texts[self.n % len(self.texts)]
            item = Dataset()
            self.put(item, tag, f"{plant.location}[0] > ")
            return Sequence([item])
        return 1  # US SS UL SL UV SV

    def put(self, ds: Dataset, tag: int, path: str, vr: str | None = None) -> None:
        if tag in ds:
            return
        vr = vr or _first_vr(DicomDictionary[tag][0])
        ds.add_new(tag, vr, self.value(vr, Plant(tag, vr, path)))


def _pdf_base(iod: Iod) -> Dataset:
    """A minimal Encapsulated PDF (PS3.3 A.45.1): no public test file holds one."""
    ds = Dataset()
    ds.SOPClassUID = iod.sop_class
    ds.SOPInstanceUID = "1.2.826.0.1.3680043.10.997.1"
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.10.997.2"
    ds.SeriesInstanceUID = "1.2.826.0.1.3680043.10.997.3"
    ds.PatientName, ds.PatientID, ds.PatientSex = "Doe^Jane", "PID0001", "F"
    ds.Modality, ds.ConversionType, ds.BurnedInAnnotation = "DOC", "WSD", "YES"
    ds.InstanceNumber = 1
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    ds.EncapsulatedDocument = pdf + b"\x00" * (len(pdf) % 2)
    ds.EncapsulatedDocumentLength = len(pdf)
    return ds


def _base(iod: Iod) -> Dataset:
    if iod.base is None:
        return _pdf_base(iod)
    return pydicom.dcmread(data_file(iod.base))


def _item(ds: Dataset, tag: int) -> Dataset:
    """The first item of a sequence the file holds, or a new one with what such an item needs."""
    if tag in ds and ds[tag].value:
        item: Dataset = ds[tag].value[0]
        return item
    item = Dataset()
    if tag in (0x00081140,):  # a reference: SOP Class and (mapped) Instance UID
        item.ReferencedSOPClassUID = ds.SOPClassUID
        item.ReferencedSOPInstanceUID = "1.2.826.0.1.3680043.10.997.4"
    else:  # a code
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = "T-D1100", "SRT", "Head"
    ds.add_new(tag, "SQ", Sequence([item]))
    return item


def build(iod: Iod) -> PlantedFile:
    """The IOD's file with every unlisted attribute planted at the top level and in its kept sequences."""
    ds = _base(iod)
    out = PlantedFile(iod)
    planter = _Planter(out)
    nested = [tag for tag in iod.nested if defined_at_top_level(iod.sop_class, tag)]
    for seq in nested:
        item = _item(ds, seq)
        path = f"{label(seq)}[0] > "
        for tag in unlisted_text_or_binary():
            planter.put(item, tag, path)
        for tag, vr in UNKNOWN_TAGS:
            planter.put(item, tag, path, vr)
    for tag in unlisted_tags():
        planter.put(ds, tag, "")
    for tag, vr in UNKNOWN_TAGS:
        planter.put(ds, tag, "", vr)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    old = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", ExplicitVRLittleEndian)
    # Implicit VR would turn the unknown tags into UN on reading: write explicit VR (same pixel bytes).
    meta.TransferSyntaxUID = ExplicitVRLittleEndian if old == "1.2.840.10008.1.2" else old
    ds.file_meta = meta
    ds.preamble = b"\x00" * 128
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, enforce_file_format=True)
    out.data = buf.getvalue()
    return out


def _values(ds: Dataset, path: str = "") -> Iterator[tuple[str, bytes]]:
    for elem in ds:
        where = f"{path}{label(elem.tag)}"
        if elem.VR == "SQ":
            for i, item in enumerate(elem.value or []):
                yield from _values(item, f"{where}[{i}] > ")
            continue
        value = elem.value
        if isinstance(value, bytes):
            yield where, value
        else:
            yield where, str(value).encode("utf-8", "replace")


def found(data: bytes) -> dict[str, str]:
    """Every planted token and UID in `data` -> where it stands in the parsed data set (at any depth), or
    "raw bytes" when it is only in bytes the data set's values do not show (a catch-all)."""
    out: dict[str, str] = {}
    ds = pydicom.dcmread(io.BytesIO(data), force=True)
    for where, raw in _values(ds):
        for m in [*TOKEN_RE.findall(raw), *UID_RE.findall(raw)]:
            out.setdefault(m.decode().upper(), where)
    for m in [*TOKEN_RE.findall(data), *UID_RE.findall(data)]:
        out.setdefault(m.decode().upper(), "raw bytes")
    return out


def group(plant: Plant) -> str:
    """The report's heading for a survivor."""
    if not plant.known:
        return "unknown tags"
    if plant.vr == "UI":
        return "UIDs"
    if plant.vr in BINARY_VRS:
        return "binary"
    return "nested text" if plant.nested else "top-level text"
