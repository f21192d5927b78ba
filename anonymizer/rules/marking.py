"""Marking every output as de-identified (PS3.3 C.7.1.1 Patient Identity Removed; PS3.15 E.1.1 step 4).

- Patient Identity Removed (0012,0062) = YES
- De-identification Method (0012,0063): what was done, in words
- De-identification Method Code Sequence (0012,0064): the CID 7050 codes of what was actually applied
  (113101 Clean Pixel Data only when pixels were cleaned: redacted, or reviewed and confirmed clean)
- Longitudinal Temporal Information Modified (0028,0303): MODIFIED when dates were shifted, UNMODIFIED when
  full dates were retained, REMOVED otherwise (PS3.3 C.7.1.1).
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from .. import __version__
from ..config import Config
from ..planning.plan import Step
from .options import BASIC_PROFILE_CODE, Option, codes

EDITION = "PS3.15 2026d Table E.1-1"
MARK_RULE = "PS3.15 E.1.1: mark the instance as de-identified"


def applied_codes(config: Config) -> list[str]:
    chosen = [BASIC_PROFILE_CODE]
    for option in sorted(config.options, key=lambda o: o.code.value):
        if option is Option.CLEAN_PIXEL_DATA and not config.pixels_cleaned:
            continue
        chosen.append(option.code.value)
    return chosen


def method_text(config: Config) -> list[str]:
    names = [
        o.value
        for o in sorted(config.options, key=lambda o: o.code.value)
        if o is not Option.CLEAN_PIXEL_DATA or config.pixels_cleaned
    ]
    head = f"Pacsbin Uploader {__version__}: {EDITION} Basic Profile"
    return [head[:64], *(n[:64] for n in names)]


def temporal_state(config: Config) -> str:
    if config.has(Option.RETAIN_MODIFIED_DATES):
        return "MODIFIED"
    if config.has(Option.RETAIN_FULL_DATES):
        return "UNMODIFIED"
    return "REMOVED"


def code_sequence(values: list[str]) -> Sequence:
    items = []
    for value in values:
        code = codes()[value]
        item = Dataset()
        item.CodeValue = code.value
        item.CodingSchemeDesignator = code.scheme
        item.CodeMeaning = code.meaning
        items.append(item)
    return Sequence(items)


def marking_steps(ds: Dataset, config: Config, method: list[str] | None = None) -> list[Step]:
    """Steps that set the marks, replacing whatever the input held in those elements."""
    wanted: list[tuple[int, str, str, object]] = [
        (0x00120062, "PatientIdentityRemoved", "CS", "YES"),
        (0x00120063, "DeidentificationMethod", "LO", method if method is not None else method_text(config)),
        (0x00120064, "DeidentificationMethodCodeSequence", "SQ", code_sequence(applied_codes(config))),
        (0x00280303, "LongitudinalTemporalInformationModified", "CS", temporal_state(config)),
    ]
    if config.pixels_cleaned and "PixelData" in ds:
        # A person redacted or confirmed these pixels: no burned-in identity remains (PS3.3 C.7.6.1).
        wanted.append((0x00280301, "BurnedInAnnotation", "CS", "NO"))
    steps = []
    for tag, keyword, vr, value in wanted:
        old = ds.get(tag)
        steps.append(
            Step.setting(
                tag,
                keyword,
                vr,
                value,
                MARK_RULE,
                old=None if old is None else old.value,
                created=old is None,
            )
        )
    return steps
