"""What a reviewer must see about a file before it may leave: risks the header rules cannot remove.

Shared by the engine's plan (flags) and the page's study list (risk flags per series).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydicom.dataset import Dataset

# A header: a pydicom Dataset, or the study list's {keyword: text} of the attributes present.
Header = Dataset | Mapping[str, Any]

# Modalities and SOP Classes whose pixels often carry burned-in text (screen captures, ultrasound
# banners, scanned documents, dose reports).
TEXT_PRONE_MODALITIES = frozenset({"US", "SC", "OT", "XC", "ES", "DOC", "SR", "GM", "SM", "IVUS"})
SECONDARY_CAPTURE_PREFIX = "1.2.840.10008.5.1.4.1.1.7"
ENCAPSULATED_DOCUMENTS = {"1.2.840.10008.5.1.4.1.1.104.1": "PDF", "1.2.840.10008.5.1.4.1.1.104.2": "CDA"}
SR_PREFIX = "1.2.840.10008.5.1.4.1.1.88."
PRESENTATION_STATE_PREFIX = "1.2.840.10008.5.1.4.1.1.11."


PIXELS_CHECKED = (
    "pixels redacted or confirmed clean by the reviewer: Clean Pixel Data claimed, Burned In Annotation "
    "written as NO"
)


def risk_flags(ds: Header, pixels_checked: bool = False) -> list[str]:
    """What a reviewer must see about this header. With `pixels_checked` (a person redacted or confirmed
    the pixels, PS3.15 E.3.1), the burned-in text warnings are answered and one line says so instead."""
    flags = []
    sop_class = str(ds.get("SOPClassUID", "")).strip()
    pixel_flags = _pixel_flags(ds) if has_pixels(ds) else []
    if sop_class in ENCAPSULATED_DOCUMENTS:
        flags.append(
            f"encapsulated {ENCAPSULATED_DOCUMENTS[sop_class]} document: its content cannot be "
            "cleaned and is replaced (E.1-1 Note 15); excluded by default"
        )
    if sop_class.startswith(SR_PREFIX):
        flags.append("structured report: free text in its content is replaced; review it")
    if sop_class.startswith(PRESENTATION_STATE_PREFIX):
        flags.append("presentation state: annotations and labels may carry free text; review it")
    if pixels_checked:
        return [PIXELS_CHECKED, *flags]
    return pixel_flags + flags


def has_pixels(ds: Header) -> bool:
    """Whether the object is an image a person can look at: it has Rows (what the study list's header,
    read up to (0028,0301), can tell) or Pixel Data (a damaged image that lost Rows is still one: fail
    closed), and it is not a structured report or presentation state (those have no pixels; an SR's
    modality is text-prone only because dose reports are also sent as screen captures)."""
    sop_class = str(ds.get("SOPClassUID", "")).strip()
    if sop_class.startswith((SR_PREFIX, PRESENTATION_STATE_PREFIX)):
        return False
    return "Rows" in ds or "PixelData" in ds


def _pixel_flags(ds: Header) -> list[str]:
    """Why the pixels of an image may hold burned-in text (empty when nothing suggests it)."""
    sop_class = str(ds.get("SOPClassUID", "")).strip()
    burned = str(ds.get("BurnedInAnnotation", "")).strip().upper()
    modality = str(ds.get("Modality", "")).strip().upper()
    description = str(ds.get("SeriesDescription", "")).lower()
    flags = []
    if burned == "YES":
        flags.append("Burned In Annotation = YES: the pixels hold text; review and redact them")
    elif burned != "NO" and (
        modality in TEXT_PRONE_MODALITIES or sop_class.startswith(SECONDARY_CAPTURE_PREFIX)
    ):
        flags.append(
            f"Burned In Annotation not stated on {modality or 'a screen capture'}: text is often "
            "burned in; review the pixels"
        )
    if "dose report" in description or "dose summary" in description:
        flags.append("dose report: text is often burned into the pixels; review them")
    return flags


def needs_pixel_review(ds: Header) -> bool:
    """Whether a person must look at the pixels before the file may leave (the page's review gate): an
    image (has_pixels) whose Burned In Annotation is YES, or not NO on a text-prone modality or screen
    capture, or a dose report. Works on a header read up to (0028,0301), as the study list reads it."""
    return has_pixels(ds) and bool(_pixel_flags(ds))
