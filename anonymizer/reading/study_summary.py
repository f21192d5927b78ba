"""The study list's summary of one file: a few header attributes, the review flags, read fast.

Indexing a dropped folder summarises every file from a prefix of it. Plain explicit VR little endian
headers are read by the fast scan (`summary_scan`); anything else by pydicom, stopping after the
summary's last attribute. Both give the same values (tested on every public file).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pydicom
import pydicom.filereader
from pydicom.datadict import tag_for_keyword
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID

from redaction.jpeg_baseline import IN_PLACE

from ..review import ENCAPSULATED_DOCUMENTS, needs_pixel_review, risk_flags
from .completeness import find_incomplete
from .reader import known_vr
from .summary_scan import Scan, plain_text, scan_summary

SUMMARY_KEYWORDS = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyInstanceUID",
    "StudyDate",
    "StudyDescription",
    "AccessionNumber",
    "SeriesInstanceUID",
    "SeriesNumber",
    "SeriesDescription",
    "Modality",
    "SOPInstanceUID",
    "SOPClassUID",
    "InstanceNumber",
    "NumberOfFrames",
    "Rows",
    "Columns",
    "BurnedInAnnotation",
    "ImageType",
    "Manufacturer",
)
DICOMDIR_CLASS = "1.2.840.10008.1.3.10"
# The summary's attributes all come before Burned In Annotation (0028,0301): a prefix that reached past it
# holds them whole (elements are in tag order, PS3.5 7.1).
LAST_SUMMARY_TAG = 0x00280301
# Only these are kept while reading (pydicom skips the other values; Specific Character Set is always read).
_SUMMARY_TAGS = frozenset(tag_for_keyword(k) or 0 for k in SUMMARY_KEYWORDS) | {0x00041220}
SCANNED_TAGS = _SUMMARY_TAGS | {0x00080005}  # the fast scan keeps Specific Character Set itself
_KEYWORD_OF = {tag_for_keyword(k) or 0: k for k in SUMMARY_KEYWORDS}


def text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value)


class _PastSummary:
    """pydicom's stop_when: stop at the first element after the summary's attributes, and remember that the
    data reached that far (so a prefix that ended earlier is told apart from one that held them all)."""

    def __init__(self) -> None:
        self.reached = False

    def __call__(self, tag: int, vr: str | None, length: int) -> bool:
        # int's comparison, not BaseTag's (a Python-level method): this runs for every top-level element
        self.reached = self.reached or int.__gt__(tag, LAST_SUMMARY_TAG)
        return self.reached


def _read_summary(data: bytes, force: bool) -> tuple[Any, bool]:
    stop = _PastSummary()
    ds = pydicom.filereader.read_partial(
        io.BytesIO(data), stop_when=stop, force=force, specific_tags=list(_SUMMARY_TAGS)
    )
    return ds, stop.reached


@dataclass(frozen=True)
class _Header:
    """The summary's attributes present in a header, as text, and two file meta values."""

    values: dict[str, str]
    media_sop_class: str
    transfer_syntax: str
    directory: bool = False  # a Directory Record Sequence (the fast scan steps aside for one)


def _fast_header(scan: Scan) -> _Header | None:
    """Straight from the scan's bytes, when every value is plain 7-bit text (else None: pydicom decodes)."""
    values = {}
    for tag, (vr, raw) in scan.elements.items():
        keyword = _KEYWORD_OF.get(tag)
        if keyword is None:
            continue  # Specific Character Set: only matters for the values left to pydicom
        text = plain_text(vr, raw)
        if text is None:
            return None
        values[keyword] = text
    media, syntax = (plain_text("UI", scan.meta.get(t, ("UI", b""))[1]) for t in (0x00020002, 0x00020010))
    if media is None or syntax is None:
        return None
    return _Header(values, media, syntax)


def _pydicom_header(data: bytes, scan: Scan | None) -> tuple[_Header, bool]:
    """The header through pydicom (character sets, other encodings): (header, reached past the summary).
    Raises _NotDicom for data that is no DICOM data set, and pydicom's error for an unreadable one."""
    try:
        ds, reached = (scan.dataset(), scan.reached) if scan else _read_summary(data, force=False)
    except InvalidDicomError:
        try:
            ds, reached = _read_summary(data, force=True)
        except Exception as exc:
            raise _NotDicom from exc
        if "SOPClassUID" not in ds and "PatientID" not in ds and "StudyInstanceUID" not in ds:
            raise _NotDicom from None
    meta = getattr(ds, "file_meta", None) or {}
    for tag, elem in list(ds._dict.items()):
        if elem.VR == "UN":
            known_vr(ds, tag)  # a name over 64 KB written as UN is still a name, not "b'...'"
    values = {k: text_of(ds.get(k)) for k in SUMMARY_KEYWORDS if k in ds}
    media, syntax = (text_of(meta.get(k)) for k in ("MediaStorageSOPClassUID", "TransferSyntaxUID"))
    return _Header(values, media, syntax, "DirectoryRecordSequence" in ds), reached


class _NotDicom(Exception):
    pass


def summarize(data: bytes, complete: bool, size: int | None = None) -> dict[str, Any]:
    """A summary of one file's header for the study list, from a prefix of the file when possible
    (`complete`: `data` is the whole file; `size`: the file's real size, for a prefix).

    A file cut short is found here when its prefix shows it (an element declaring more bytes than the file
    holds, `completeness.py`): listed with an "incomplete file" flag (and `incomplete`, the same words),
    so nobody has to open it to learn it cannot be de-identified.

    Parsing stops after Burned In Annotation (0028,0301): the list needs nothing later, and a CT header
    has as many elements again after it (indexing speed is an issue 3 target). Plain headers are read by
    the fast scan; anything else by pydicom."""
    if not data:
        return {"status": "skipped", "reason": "empty file"}
    known = len(data) if complete else size
    scan = scan_summary(data, SCANNED_TAGS, LAST_SUMMARY_TAG)
    # (the elements the scan walked lie whole inside the prefix: the check starts where it stopped)
    cut = find_incomplete(data, known, scan.resume if scan is not None else 0) if known else None
    header = _fast_header(scan) if scan is not None else None
    reached = scan is not None and scan.reached
    if header is None:
        try:
            header, reached = _pydicom_header(data, scan)
        except _NotDicom:
            return {"status": "skipped", "reason": "not a DICOM file"}
        except Exception as exc:
            if not complete:
                return {"status": "need_more"}
            problem = f"{type(exc).__name__}: {str(exc)[:200]}"
            reason = cut.message() if cut else f"the file is damaged: unreadable header: {problem}"
            return {"status": "failed", "reason": reason}
    if not complete and not reached:
        return {"status": "need_more"}  # the prefix ended before the attributes we show
    values = header.values
    sop_class = values.get("SOPClassUID") or header.media_sop_class
    if sop_class == DICOMDIR_CLASS or header.directory:
        return {"status": "skipped", "reason": "DICOMDIR: holds patient names in its records; never copied"}
    summary = {k: values.get(k, "") for k in SUMMARY_KEYWORDS}
    summary["SOPClassUID"] = sop_class
    summary["TransferSyntaxUID"] = header.transfer_syntax
    incomplete = {"incomplete": cut.message()} if cut else {}
    return {
        "status": "ok",
        "header": summary,
        "document": ENCAPSULATED_DOCUMENTS.get(sop_class, ""),
        "flags": ([cut.message()] if cut else []) + risk_flags(values),
        **incomplete,
        "pixel_review": needs_pixel_review(values),
        # Encapsulated pixel data: the page's codecs decode it when regions are to be blacked out, except
        # JPEG baseline, which the engine blanks in its codestream (redaction/in_place.py).
        "compressed": bool(header.transfer_syntax)
        and UID(header.transfer_syntax).is_encapsulated
        and header.transfer_syntax not in IN_PLACE,
    }
