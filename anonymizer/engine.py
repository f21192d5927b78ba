"""The engine's entry points: plan a file, and de-identify one file, bytes in and bytes out.

    result = deidentify(data, config)      # raises a DeidentificationError: nothing is written
    result.data, result.plan, result.sop_instance_uid ...

Fail closed: every error inside becomes a typed error naming the reason; no partial output exists.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, replace

from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.filewriter import dcmwrite
from pydicom.uid import UID, ImplicitVRLittleEndian

from redaction.apply import PixelEdit, redact_dataset
from redaction.errors import RedactionError
from redaction.high_bits import clean_pixel_data

from . import __version__
from .config import PACSBIN, Config
from .encapsulated_text import BOT_REBUILT, strip_encapsulated_text
from .errors import DeidentificationError, UnsupportedError, unexpected
from .last_scrub import LAST_SCRUB, last_scrub
from .marking import marking_steps
from .options import Option
from .plan import Plan, Step
from .profiles import context_for
from .reader import read_dataset
from .review import risk_flags
from .vr_fit import check_value_types

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


@dataclass
class Result:
    data: bytes
    plan: Plan
    sop_instance_uid: str
    study_instance_uid: str
    series_instance_uid: str


def _new_value(steps: list[Step], tag: int, default: str) -> str:
    for step in steps:
        if step.tag == tag:
            if step.removed:
                return default
            return str(step.old if step.action == "K" else step.new)
    return default


def _meta_steps(ds: FileDataset, dataset_steps: list[Step]) -> list[Step]:
    meta = ds.file_meta if getattr(ds, "file_meta", None) is not None else FileMetaDataset()
    new_sop = _new_value(dataset_steps, 0x00080018, "")
    steps: list[Step] = []
    for elem in meta:
        tag = int(elem.tag)
        path = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
        base = {"path": path, "tag": tag, "keyword": elem.keyword or "", "vr": elem.VR, "old": elem.value}
        if tag == 0x00020000:
            steps.append(Step(**base, action="X", rule="group length: recomputed on write"))
        elif tag in META_KEEP:
            steps.append(Step(**base, action="K", rule="file meta: describes the encoding"))
        elif tag == 0x00020003:
            steps.append(Step(**base, action="U", rule="follows the new SOP Instance UID", new=new_sop))
        elif tag == 0x00020012:
            steps.append(
                Step(**base, action="D", rule="file meta: this writer", new=IMPLEMENTATION_CLASS_UID)
            )
        elif tag == 0x00020013:
            steps.append(Step(**base, action="D", rule="file meta: this writer", new=IMPLEMENTATION_VERSION))
        else:
            steps.append(
                Step(**base, action="X", rule="file meta: AE titles and private information removed")
            )
    present = {int(e.tag) for e in meta}
    sop_class = str(ds.get("SOPClassUID", ""))
    wanted = [
        (0x00020001, "FileMetaInformationVersion", "OB", b"\x00\x01"),
        (0x00020002, "MediaStorageSOPClassUID", "UI", sop_class),
        (0x00020003, "MediaStorageSOPInstanceUID", "UI", new_sop),
        (0x00020010, "TransferSyntaxUID", "UI", _transfer_syntax(ds)),
        (0x00020012, "ImplementationClassUID", "UI", IMPLEMENTATION_CLASS_UID),
        (0x00020013, "ImplementationVersionName", "SH", IMPLEMENTATION_VERSION),
    ]
    for tag, keyword, vr, value in wanted:
        if tag not in present:
            steps.append(Step.setting(tag, keyword, vr, value, "file meta: required (PS3.10 7.1)"))
    return steps


def _transfer_syntax(ds: FileDataset) -> str:
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


def _pixel_step(ds: FileDataset, config: Config, flags: list[str]) -> Step | None:
    """Text inside encapsulated codestreams (JPEG COM/APPn, J2K COM) is removed, or the file is flagged."""
    ts = UID(_transfer_syntax(ds))
    if not ts.is_encapsulated or "PixelData" not in ds:
        return None
    elem = ds["PixelData"]
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    try:
        new, removed = strip_encapsulated_text(elem.value, str(ts), frames)
    except UnsupportedError as exc:
        if str(ts).startswith(_INSPECTED_PREFIXES):
            raise
        flags.append(f"pixel data: not inspected for embedded text ({exc.reason})")
        return None
    if not removed:
        return None
    return _pixel_data_changed(ds, _pixel_rule(removed), new)


def _pixel_data_changed(ds: FileDataset, rule: str, new: bytes) -> Step:
    elem = ds["PixelData"]
    return Step(
        path="(7FE0,0010)",
        tag=0x7FE00010,
        keyword="PixelData",
        vr=elem.VR,
        action="C",
        rule=rule,
        old=elem.value,
        new=new,
    )


def _pixel_rule(removed: list[str]) -> str:
    text = [r for r in removed if r != BOT_REBUILT]
    parts = [CODESTREAM_TEXT_RULE + ", ".join(text)] if text else []
    return "; ".join(parts + [BOT_REBUILT] * (BOT_REBUILT in removed))


def _high_bits_step(ds: FileDataset, flags: list[str]) -> Step | None:
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
        return None
    flags.append(cleaned.flag)
    return _pixel_data_changed(ds, cleaned.rule, cleaned.data)


def make_plan(ds: FileDataset, config: Config) -> Plan:
    for keyword, tag in (("SOPClassUID", "(0008,0016)"), ("SOPInstanceUID", "(0008,0018)")):
        if not str(ds.get(keyword, "")).strip():
            raise UnsupportedError(f"no {keyword} {tag}: not a storable DICOM instance")
    ctx = context_for(ds, config)
    marks = marking_steps(ds, config, ctx.method)
    marked = {s.tag for s in marks}
    steps = [s for s in ctx.plan_dataset(ds, (), "", "normal") if s.tag not in marked]
    scrubbed = last_scrub(steps, ctx.scrubber)
    if scrubbed:
        ctx.flags.append(
            f"{scrubbed} kept text value(s) held the file's own identifiers, now blanked: look for "
            f'"{LAST_SCRUB}" below'
        )
    check_value_types(steps)
    pixel = _pixel_step(ds, config, ctx.flags) or _high_bits_step(ds, ctx.flags)
    if pixel is not None:
        # The Extended Offset Table (7FE0,0001/0002) would no longer match the rewritten fragments.
        steps = [
            pixel
            if s.tag == pixel.tag
            else replace(s, action="X", rule="offsets of the rewritten pixel data", items=None)
            if s.tag in (0x7FE00001, 0x7FE00002)
            else s
            for s in steps
        ]
    steps.extend(ctx.created)
    steps.extend(marks)
    steps.sort(key=lambda s: s.tag)
    codes = [s for s in marks if s.tag == 0x00120064][0].new
    return Plan(
        meta=_meta_steps(ds, steps),
        dataset=steps,
        profile=config.profile,
        options=sorted(o.value for o in config.options),
        codes=[str(item.CodeValue) for item in codes],
        flags=ctx.flags + _review_flags(ds, config),
    )


def _review_flags(ds: Dataset, config: Config) -> list[str]:
    flags = risk_flags(ds, pixels_checked=config.pixels_cleaned and "PixelData" in ds)
    if config.profile == PACSBIN:
        flags.append("legacy Pacsbin profile: unkeyed MD5 hashes and an unregistered UID root")
    if config.has(Option.CLEAN_PIXEL_DATA) and not config.pixels_cleaned and "PixelData" in ds:
        flags.append("Clean Pixel Data not claimed: nobody has reviewed or redacted these pixels yet")
    return flags


def apply_plan(ds: FileDataset, plan: Plan) -> None:
    from .apply import apply_steps

    meta = ds.file_meta if getattr(ds, "file_meta", None) is not None else FileMetaDataset()
    apply_steps(meta, plan.meta)
    ds.file_meta = meta
    apply_steps(ds, plan.dataset)
    ds.preamble = b"\x00" * 128


def write(ds: FileDataset) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        # In explicit VR a value over 64 KB of a 2-byte-length VR (a long Contour Data) is written UN, as
        # PS3.5 6.2.2 says; the reader gives it its dictionary VR back. Nothing to tell the user.
        warnings.filterwarnings("ignore", message=r".*exceeds the size of 64 kByte", category=UserWarning)
        dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()


def _with_pixel_edit(ds: FileDataset, config: Config, pixels: PixelEdit | None) -> Config:
    """Clean Pixel Data is claimed (113101, Burned In Annotation NO) only for pixels a person cleaned or
    confirmed clean: regions drawn or accepted for this file, or the file reviewed (PS3.15 E.3.1)."""
    if pixels is not None and "PixelData" in ds and pixels.cleans(ds):
        return replace(config, pixels_cleaned=True)
    return config


def plan_bytes(
    data: bytes, config: Config, *, path: str | None = None, pixels: PixelEdit | None = None
) -> Plan:
    ds = read_dataset(data, path=path)
    try:
        pixels = pixels.for_dataset(ds) if pixels is not None else None
        return make_plan(ds, _with_pixel_edit(ds, config, pixels))
    except DeidentificationError as exc:
        raise (exc.with_path(path) if path else exc) from None
    except Exception as exc:
        raise UnsupportedError(unexpected("cannot plan", exc), path=path) from exc


def deidentify(
    data: bytes, config: Config, *, path: str | None = None, pixels: PixelEdit | None = None
) -> Result:
    """De-identify one file. Raises DeidentificationError (with the reason); never returns partial data.

    `pixels`: the reviewer's regions and decision for this file (Clean Pixel Data). Regions are matched on
    the original UIDs, so pixels are redacted first; the header plan then sees the redacted file."""
    ds = read_dataset(data, path=path)
    try:
        pixels = pixels.for_dataset(ds) if pixels is not None else None
        config = _with_pixel_edit(ds, config, pixels)
        redacted = redact_dataset(ds, pixels.regions, decoded=pixels.decoded) if pixels else 0
        plan = make_plan(ds, config)
        plan.redacted = redacted
        apply_plan(ds, plan)
        out = write(ds)
    except RedactionError as exc:
        # What it means for the user first (PS3.15 E.3.1: no redaction, no file), then the detail.
        err = UnsupportedError(
            "the regions could not be blacked out, so the file is not written: "
            f"pixels not redacted: {exc.reason}",
            path=path,
        )
        raise err from None
    except DeidentificationError as exc:
        raise (exc.with_path(path) if path else exc) from None
    except Exception as exc:
        raise UnsupportedError(unexpected("cannot de-identify", exc), path=path) from exc
    return Result(
        data=out,
        plan=plan,
        sop_instance_uid=str(ds.get("SOPInstanceUID", "")),
        study_instance_uid=str(ds.get("StudyInstanceUID", "")),
        series_instance_uid=str(ds.get("SeriesInstanceUID", "")),
    )
