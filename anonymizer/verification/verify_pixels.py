"""The re-check's pixel rules: what a person must have looked at, and text the header rules cannot see.

- Burned In Annotation (0028,0301) YES: the pixels hold identifying text (PS3.3 C.7.6.1.1.2).
- The engine's own review rule (review.needs_pixel_review, the page's review gate: YES, or not NO on a
  text-prone modality or screen capture, or a dose report) marks the image at risk: it must claim Clean
  Pixel Data (113101, PS3.15 E.3.1) and say Burned In Annotation NO, as the engine writes them once a person
  redacted or confirmed every frame (marking.py). A file of ours that claims 113101 without Burned In
  Annotation NO is not one our engine wrote (it always writes both, or neither).
- Text inside the codestream (JPEG COM and APPn segments, JPEG 2000 comment boxes and COM markers): the
  engine removes it (encapsulated_text.py, codestream_text.py), so any left is refused.
- Bits set outside Bits Stored in uncompressed Pixel Data: an embedded overlay (PS3.5 8.1.1), cleared by the
  engine (redaction/high_bits.py).
- Encapsulated documents (PS3.3 A.45, A.85, A.104...: PDF, CDA, STL, OBJ, MTL): their content is not
  cleaned, only replaced; refused unless the server accepts documents.
"""

from __future__ import annotations

from redaction.errors import RedactionError
from redaction.high_bits import clean_pixel_data

from ..planning.planner import CODESTREAM_TEXT_RULE
from ..review import has_pixels, needs_pixel_review
from ..rules.options import Option
from .verify_policy import ACCEPT_DOCUMENTS_FLAG
from .verify_upload import Family, Upload

BIA = "(0028,0301) Burned In Annotation"
CLEAN_PIXEL_DATA = Option.CLEAN_PIXEL_DATA.code.value  # 113101
# Encapsulated PDF .1, CDA .2, STL .3, OBJ .4, MTL .5 (PS3.6 Annex A): 1.2.840.10008.5.1.4.1.1.104.x
DOCUMENT_CLASS_PREFIX = "1.2.840.10008.5.1.4.1.1.104."


def _burned_in(upload: Upload) -> str:
    return str(upload.ds.get("BurnedInAnnotation", "")).strip().upper()


def burned_in(upload: Upload) -> list[str]:
    # Only where there are pixels: an encapsulated document says YES of its document (PS3.3 C.24.2, Type 1),
    # which the engine replaces (D); whether documents are accepted at all is `documents` below.
    if _burned_in(upload) == "YES" and has_pixels(upload.ds):
        return [f"{BIA} is YES: the pixels hold identifying text that nobody has removed"]
    return []


def reviewed(upload: Upload) -> list[str]:
    ds, problems = upload.ds, []
    if needs_pixel_review(ds) and (CLEAN_PIXEL_DATA not in upload.codes or _burned_in(upload) != "NO"):
        modality = str(ds.get("Modality", "")).strip() or "this image"
        problems.append(
            f"(7FE0,0010) Pixel Data: the pixels of {modality} often hold burned-in text and nobody "
            f"confirmed them clean: the file must claim {CLEAN_PIXEL_DATA} (Clean Pixel Data) in (0012,0064) "
            f"and {BIA} NO, as the uploader writes them once a person has checked every frame"
        )
    elif (
        upload.family is Family.OURS
        and CLEAN_PIXEL_DATA in upload.codes
        and "PixelData" in ds
        and _burned_in(upload) != "NO"
    ):
        problems.append(
            f"{BIA} is {'missing' if not _burned_in(upload) else 'not NO'} although {CLEAN_PIXEL_DATA} "
            "(Clean Pixel Data) is claimed: this product's engine always writes both together"
        )
    return problems


def codestream_text(upload: Upload) -> list[str]:
    """The plan (planner._codestream_text_step) strips text from the codestream; a step that did is text
    left in."""
    if upload.plan is None:
        return []
    return [
        f"{s.path} Pixel Data: text inside the compressed image ({s.rule}); "
        "the uploader removes it, so this file was not written by it or was changed since"
        for s in upload.plan.dataset
        if s.tag == 0x7FE00010 and s.rule.startswith(CODESTREAM_TEXT_RULE)
    ]


def hidden_bits(upload: Upload) -> list[str]:
    """Our engine clears every bit outside Bits Stored (redaction/high_bits.py): one set is an embedded
    overlay (text, marks) a viewer that ignores High Bit shows."""
    try:
        cleaned = clean_pixel_data(upload.ds)
    except RedactionError as exc:  # the plan refuses the same layout first; fail closed all the same
        return [f"(7FE0,0010) Pixel Data cannot be checked for bits outside Bits Stored: {exc.reason}"]
    if cleaned is None or not cleaned.values:
        return []
    return [
        f"(7FE0,0010) Pixel Data: {cleaned.values} pixel values have bits set outside Bits Stored "
        "(an embedded overlay?); our engine clears them (PS3.5 8.1.1)"
    ]


def documents(upload: Upload) -> list[str]:
    sop_class = str(upload.ds.get("SOPClassUID", "")).strip()
    if not sop_class.startswith(DOCUMENT_CLASS_PREFIX) or upload.policy.accept_documents:
        return []
    return [
        f"(0008,0016) SOP Class UID {sop_class} is an encapsulated document (PDF, CDA, STL, OBJ or MTL) "
        "whose content cannot be checked for identity; this server does not accept documents (start it with "
        f"{ACCEPT_DOCUMENTS_FLAG} to accept them)"
    ]
