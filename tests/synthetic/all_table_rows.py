"""all_table_rows_file(): a CT-like file with an identifying value in every Table E.1-1 row that a VR
allows, plus overlays, curves, private tags, unlisted attributes, nested copies, the file meta and
the preamble; and the lists of rows it plants elsewhere (``NOT_TOP_LEVEL``) and of the unlisted
attributes it adds (``UNLISTED_BY_VR``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from .e11_table import _keyword, _loc, table_rows, tag_str
from .iod_parts import CT_IMAGE_STORAGE, EXPLICIT_VR_LITTLE_ENDIAN, _code, _file_meta, _image_module
from .planted import PlantedFile
from .planting import _blob, _Planter, _Source, _text

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
    if sop_class.startswith("1.2.840.10008."):  # a standard IOD
        p.keep(ds, "", "Manufacturer", "SYNTHETIC")
        p.keep(ds, "", "ManufacturerModelName", "MODEL 1")
    else:  # issue 12: a private IOD loses every unlisted text at the top level, even what a CT keeps
        for tag in (0x00080070, 0x00081090):
            p.put(ds, tag, "", label=f"{_keyword(tag)} [unlisted text, private IOD]")
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
