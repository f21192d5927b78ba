"""How a plan is decided, in one place: every rule that gives an element of one file its step.

    plan = make_plan(ds, config, redacted=0)

In order (each rule's reason is in its function):
1. the file's context from its profile (profiles.py; pacsbin.py for the legacy script);
2. the data set, at every depth, by the walker's rules (walker.py, actions.py, unlisted_rules.py);
3. the marks of a de-identified instance (marking.py), which replace whatever the walker decided for them;
4. the last scrub of kept text (last_scrub.py), then every listed value checked against its VR (vr_fit.py);
5. Pixel Data: text inside the codestream removed, or bits outside Bits Stored cleared, with the
   (Extended) Offset Table that no longer matches removed;
6. the elements the profile adds, the file meta (PS3.10 7.1), and the flags a reviewer must see.
The plan is frozen: the reviewer's redaction (`redacted`) is an input, not written onto it afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import UID, ImplicitVRLittleEndian

from redaction.errors import RedactionError
from redaction.high_bits import Cleaned, clean_pixel_data

from .. import __version__
from ..codestream.encapsulated_text import BOT_REBUILT, strip_encapsulated_text
from ..config import PACSBIN, Config
from ..errors import UnsupportedError
from ..review import risk_flags
from ..rules.last_scrub import LAST_SCRUB, last_scrub
from ..rules.marking import marking_steps
from ..rules.options import Option
from ..rules.vr_fit import check_value_types
from .context import Mode
from .plan import Action, Plan, Step
from .profiles import file_context
from .walker import plan_dataset

# Our Implementation Class UID (PS3.7 D.3.3.2): a UUID-derived 2.25 UID, fixed for this product.
IMPLEMENTATION_CLASS_UID = "2.25.228060914146570069930804307289481249396"
IMPLEMENTATION_VERSION = f"PACSBIN_{__version__}"[:16]
META_KEEP = {0x00020001, 0x00020002, 0x00020010}
# How a Pixel Data step that removed text from the codestream begins (the server's re-check looks for it).
CODESTREAM_TEXT_RULE = "text segments removed from the codestream: "
# Transfer syntaxes whose codestreams we parse for embedded text: failure to parse is fatal for these.
_INSPECTED_PREFIXES = (
    "1.2.840.10008.1.2.4.5",
    "1.2.840.10008.1.2.4.7",
    "1.2.840.10008.1.2.4.8",
    "1.2.840.10008.1.2.4.9",
    "1.2.840.10008.1.2.4.20",
)
_OFFSET_TABLES = (0x7FE00001, 0x7FE00002)  # Extended Offset Table and its Lengths


def make_plan(ds: FileDataset, config: Config, *, redacted: int = 0, cleared: Cleaned | None = None) -> Plan:
    """The plan for one file read by reader.read_dataset. `redacted`: (rectangle, frame) fills the
    reviewer's regions made in its pixels before planning (0 when none); `cleared`: the bits outside Bits
    Stored that redaction cleared in compressed pixels before encoding them again (redaction/reencode.py),
    said here as the planner says it for uncompressed pixels."""
    for keyword, tag in (("SOPClassUID", "(0008,0016)"), ("SOPInstanceUID", "(0008,0018)")):
        if not str(ds.get(keyword, "")).strip():
            raise UnsupportedError(f"no {keyword} {tag}: not a storable DICOM instance")
    ctx = file_context(ds, config)
    marks = marking_steps(ds, config, ctx.profile.method())
    marked = {s.tag for s in marks}
    walked = [s for s in plan_dataset(ctx, ds, (), "", Mode.NORMAL) if s.tag not in marked]
    steps, scrubbed = last_scrub(walked, ctx.scrubber)
    flags: list[str] = []
    if scrubbed:
        flags.append(
            f"{scrubbed} kept text value(s) held the file's own identifiers, now blanked: look for "
            f'"{LAST_SCRUB}" below'
        )
    check_value_types(steps)
    pixel, flag = _codestream_text_step(ds)
    flags += [flag] if flag is not None else []
    if pixel is None:
        pixel, flag = _high_bits_step(ds) if cleared is None else _cleared_step(ds, cleared)
        flags += [flag] if flag is not None else []
    if pixel is not None:
        steps = _with_pixel_step(steps, pixel)
    steps = sorted([*steps, *ctx.profile.created(), *marks], key=lambda s: s.tag)
    codes = [s for s in marks if s.tag == 0x00120064][0].new
    return Plan(
        meta=tuple(meta_steps(ds, steps)),
        dataset=tuple(steps),
        profile=config.profile,
        options=tuple(sorted(o.value for o in config.options)),
        codes=tuple(str(item.CodeValue) for item in codes),
        flags=tuple(flags + review_flags(ds, config)),
        redacted=redacted,
    )


def review_flags(ds: Dataset, config: Config) -> list[str]:
    flags = risk_flags(ds, pixels_checked=config.pixels_cleaned and "PixelData" in ds)
    if config.profile == PACSBIN:
        flags.append("legacy Pacsbin profile: unkeyed MD5 hashes and an unregistered UID root")
    if config.has(Option.CLEAN_PIXEL_DATA) and not config.pixels_cleaned and "PixelData" in ds:
        flags.append("Clean Pixel Data not claimed: nobody has reviewed or redacted these pixels yet")
    return flags


# -- file meta (PS3.10 7.1) ------------------------------------------------------------------------------
def _new_value(steps: Sequence[Step], tag: int, default: str) -> str:
    for step in steps:
        if step.tag == tag:
            if step.removed:
                return default
            return str(step.old if step.action == Action.KEEP else step.new)
    return default


def meta_steps(ds: FileDataset, dataset_steps: Sequence[Step]) -> list[Step]:
    """The file meta: what describes the encoding kept, the SOP Instance follows the data set's new one,
    this writer named, anything else (AE titles, private information) removed; required ones added."""
    meta = ds.file_meta if getattr(ds, "file_meta", None) is not None else FileMetaDataset()
    new_sop = _new_value(dataset_steps, 0x00080018, "")
    steps: list[Step] = []
    for elem in meta:
        tag = int(elem.tag)
        path = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
        base = {"path": path, "tag": tag, "keyword": elem.keyword or "", "vr": elem.VR, "old": elem.value}
        if tag == 0x00020000:
            steps.append(Step(**base, action=Action.REMOVE, rule="group length: recomputed on write"))
        elif tag in META_KEEP:
            steps.append(Step(**base, action=Action.KEEP, rule="file meta: describes the encoding"))
        elif tag == 0x00020003:
            rule = "follows the new SOP Instance UID"
            steps.append(Step(**base, action=Action.UID, rule=rule, new=new_sop))
        elif tag in (0x00020012, 0x00020013):
            new = IMPLEMENTATION_CLASS_UID if tag == 0x00020012 else IMPLEMENTATION_VERSION
            steps.append(Step(**base, action=Action.DUMMY, rule="file meta: this writer", new=new))
        else:
            rule = "file meta: AE titles and private information removed"
            steps.append(Step(**base, action=Action.REMOVE, rule=rule))
    present = {int(e.tag) for e in meta}
    sop_class = str(ds.get("SOPClassUID", ""))
    wanted = [
        (0x00020001, "FileMetaInformationVersion", "OB", b"\x00\x01"),
        (0x00020002, "MediaStorageSOPClassUID", "UI", sop_class),
        (0x00020003, "MediaStorageSOPInstanceUID", "UI", new_sop),
        (0x00020010, "TransferSyntaxUID", "UI", transfer_syntax(ds)),
        (0x00020012, "ImplementationClassUID", "UI", IMPLEMENTATION_CLASS_UID),
        (0x00020013, "ImplementationVersionName", "SH", IMPLEMENTATION_VERSION),
    ]
    for tag, keyword, vr, value in wanted:
        if tag not in present:
            steps.append(Step.setting(tag, keyword, vr, value, "file meta: required (PS3.10 7.1)"))
    return steps


def transfer_syntax(ds: FileDataset) -> str:
    meta = getattr(ds, "file_meta", None)
    ts = meta.get("TransferSyntaxUID") if meta is not None else None
    if ts:
        return str(ts)
    implicit, little = ds.original_encoding
    if implicit is False and little:
        return "1.2.840.10008.1.2.1"
    if implicit is False:
        return "1.2.840.10008.1.2.2"
    return str(ImplicitVRLittleEndian)


# -- Pixel Data --------------------------------------------------------------------------------------------
def _codestream_text_step(ds: FileDataset) -> tuple[Step | None, str | None]:
    """Text inside encapsulated codestreams (JPEG COM/APPn, J2K COM) is removed, or the file is flagged."""
    ts = UID(transfer_syntax(ds))
    if not ts.is_encapsulated or "PixelData" not in ds:
        return None, None
    elem = ds["PixelData"]
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    try:
        new, removed = strip_encapsulated_text(elem.value, str(ts), frames)
    except UnsupportedError as exc:
        if str(ts).startswith(_INSPECTED_PREFIXES):
            raise
        return None, f"pixel data: not inspected for embedded text ({exc.reason})"
    if not removed:
        return None, None
    return _pixel_data_changed(ds, _codestream_rule(removed), new), None


def _pixel_data_changed(ds: FileDataset, rule: str, new: bytes) -> Step:
    elem = ds["PixelData"]
    return Step(
        path="(7FE0,0010)",
        tag=0x7FE00010,
        keyword="PixelData",
        vr=elem.VR,
        action=Action.CLEAN,
        rule=rule,
        old=elem.value,
        new=new,
    )


def _codestream_rule(removed: list[str]) -> str:
    text = [r for r in removed if r != BOT_REBUILT]
    parts = [CODESTREAM_TEXT_RULE + ", ".join(text)] if text else []
    return "; ".join(parts + [BOT_REBUILT] * (BOT_REBUILT in removed))


def _high_bits_step(ds: FileDataset) -> tuple[Step | None, str | None]:
    """Bits outside Bits Stored of uncompressed pixels (an embedded overlay, PS3.5 8.1.1) are cleared in
    every file written, whatever the options: redaction/high_bits.py."""
    try:
        cleaned = clean_pixel_data(ds)
    except RedactionError as exc:
        raise UnsupportedError(
            "the pixel data's bit layout is not valid, so bits hidden outside the image cannot be cleared "
            f"and the file is not written: {exc.reason}"
        ) from None
    if cleaned is None or not cleaned.values:
        return None, None
    return _pixel_data_changed(ds, cleaned.rule, cleaned.data), cleaned.flag


def _cleared_step(ds: FileDataset, cleared: Cleaned) -> tuple[Step | None, str | None]:
    """Bits outside Bits Stored that were cleared before the redacted pixels were encoded again: the same
    rule and flag as for uncompressed pixels; the step shows the pixel data as written."""
    if not cleared.values:
        return None, None
    rule = f"{cleared.rule}; before the redacted pixels were encoded again"
    return _pixel_data_changed(ds, rule, ds.PixelData), cleared.flag


def _with_pixel_step(steps: list[Step], pixel: Step) -> list[Step]:
    """Pixel Data rewritten; the Extended Offset Table (7FE0,0001/0002) would no longer match the
    rewritten fragments, so it goes."""
    out = []
    for s in steps:
        if s.tag == pixel.tag:
            out.append(pixel)
        elif s.tag in _OFFSET_TABLES:
            rule = "offsets of the rewritten pixel data"
            out.append(replace(s, action=Action.REMOVE, rule=rule, items=None))
        else:
            out.append(s)
    return out
