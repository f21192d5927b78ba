"""The engine: one file, bytes in and bytes out, as one visible pipeline.

    read -> (redact the reviewer's regions) -> plan -> apply -> write

    result = deidentify(data, config)      # raises a DeidentificationError: nothing is written
    result.data, result.plan, result.sop_instance_uid ...

How a plan is decided is planner.py; applying it is apply.py. Fail closed: every error inside becomes a
typed error naming the reason; no partial output exists.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from pydicom.dataset import FileDataset, FileMetaDataset

from redaction.apply import PixelEdit, Redaction, redact
from redaction.errors import RedactionError

from .config import Config
from .errors import DeidentificationError, UnsupportedError, unexpected
from .planning.apply import apply_steps
from .planning.plan import Action, Plan
from .planning.planner import make_plan
from .reading.originals import charset_unchanged
from .reading.reader import read_dataset
from .writer import Part, write_parts

SPECIFIC_CHARACTER_SET = 0x00080005


@dataclass(frozen=True)
class Result:
    """One de-identified file: its bytes in parts (writer.write_parts: a large Pixel Data is a view of the
    input, never copied into one buffer), `data` joined on first use."""

    parts: tuple[Part, ...]
    plan: Plan
    sop_instance_uid: str
    study_instance_uid: str
    series_instance_uid: str

    @cached_property
    def data(self) -> bytes:
        return b"".join(self.parts)

    @property
    def size(self) -> int:
        return sum(len(p) for p in self.parts)


def plan_bytes(
    data: bytes, config: Config, *, path: str | None = None, pixels: PixelEdit | None = None
) -> Plan:
    """The plan for one file, as deidentify would make it (before any redaction: `redacted` is 0)."""
    ds = read_dataset(data, path=path)
    try:
        edit = pixels.for_dataset(ds) if pixels is not None else None
        return make_plan(ds, _with_pixel_edit(ds, config, edit))
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
        edit = pixels.for_dataset(ds) if pixels is not None else None
        config = _with_pixel_edit(ds, config, edit)
        done = Redaction(0)
        if edit:
            done = redact(ds, edit.regions, decoded=edit.decoded, decode=edit.decode, encoders=edit.encoders)
        plan = make_plan(ds, config, redacted=done.fills, cleared=done.cleared)
        apply_plan(ds, plan)
        out = write_parts(ds)
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
        parts=tuple(out),
        plan=plan,
        sop_instance_uid=str(ds.get("SOPInstanceUID", "")),
        study_instance_uid=str(ds.get("StudyInstanceUID", "")),
        series_instance_uid=str(ds.get("SeriesInstanceUID", "")),
    )


def _with_pixel_edit(ds: FileDataset, config: Config, pixels: PixelEdit | None) -> Config:
    """Clean Pixel Data is claimed (113101, Burned In Annotation NO) only for pixels a person cleaned or
    confirmed clean: regions drawn or accepted for this file, or the file reviewed (PS3.15 E.3.1)."""
    if pixels is not None and "PixelData" in ds and pixels.cleans(ds):
        return replace(config, pixels_cleaned=True)
    return config


def apply_plan(ds: FileDataset, plan: Plan) -> None:
    meta = ds.file_meta if getattr(ds, "file_meta", None) is not None else FileMetaDataset()
    apply_steps(meta, plan.meta)
    ds.file_meta = meta
    # Kept elements go out as the bytes they came in only while the character set they were read in stays.
    charset_kept = all(s.action == Action.KEEP for s in plan.dataset if s.tag == SPECIFIC_CHARACTER_SET)
    apply_steps(ds, plan.dataset, restore=charset_kept and charset_unchanged(ds))
    ds.preamble = b"\x00" * 128


def write(ds: FileDataset) -> bytes:
    return b"".join(write_parts(ds))
