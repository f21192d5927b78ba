"""The one Python entry point the page's worker calls: JSON in, JSON out, files on Pyodide's file system.

    handle('{"cmd": "index", "path": "/in/x", "complete": false}')      -> header summary (or skip reason)
    handle('{"cmd": "index_many", "items": [{"path": ..., "complete": ...}, ...]}') -> {"results": [...]}
    handle('{"cmd": "plan", "path": ..., "settings": {...}}')            -> the engine's plan
    handle('{"cmd": "deidentify", "path": ..., "out": ..., "settings": {...}, "pixels": {...}}') -> outcome
    (plan and deidentify take "pixels": the reviewer's regions and decision, see _pixel_edit)
    handle('{"cmd": "image", "path": ..., "frame": 0, "out": ...}')     -> layout, suggestions; frame in out
    handle('{"cmd": "codestreams", "path": ..., "out": DIR}')          -> every frame's codestream in DIR/i
    handle('{"cmd": "zip_list", "path": ...}') / ('{"cmd": "zip_extract", "path", "member", "out", "limit"}')

No de-identification logic lives here: it reads settings into a Config and calls the engine. The worker
moves bytes (WORKERFS for dropped files, MEMFS for outputs); this module never touches the network.
"""

from __future__ import annotations

import io
import json
import traceback
import zipfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pydicom
import pydicom.filereader
from pydicom.datadict import tag_for_keyword
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID

from redaction.apply import PixelEdit
from redaction.decoded import DecodedPixels
from redaction.errors import RedactionError
from redaction.frames import frame_bytes, image_info
from redaction.regions import regions_from_json
from redaction.signatures import suggested_regions

from .config import BASIC, PACSBIN, PACSBIN_WARNING, Config
from .engine import deidentify, plan_bytes
from .errors import DeidentificationError, DicomDirError, KeyFileError, NotDicomError
from .keys import SecretKey
from .options import DEFAULT_OPTIONS, EXCLUSIVE, Option
from .reader import read_dataset
from .review import ENCAPSULATED_DOCUMENTS, needs_pixel_review, risk_flags
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
_SCANNED_TAGS = _SUMMARY_TAGS | {0x00080005}  # the fast scan keeps Specific Character Set itself
_KEYWORD_OF = {tag_for_keyword(k): k for k in SUMMARY_KEYWORDS}


@cache
def _config(settings: str) -> Config:
    raw = json.loads(settings)
    profile = raw.get("profile", BASIC)
    script = None
    if profile == PACSBIN:
        from .ctp_script import load_builtin_pacsbin

        script = load_builtin_pacsbin()
    clock = raw.get("clock")
    fixed = datetime.fromisoformat(clock) if clock else None
    return Config(
        key=SecretKey(bytes.fromhex(raw["key"])),
        options=frozenset(Option(o) for o in raw.get("options", [])),
        profile=profile,
        script=script,
        clock=(lambda: fixed) if fixed else (lambda: datetime.now(UTC)),
        pixels_cleaned=bool(raw.get("pixels_cleaned", False)),
    )


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _text(value: Any) -> str:
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
    values = {k: _text(ds.get(k)) for k in SUMMARY_KEYWORDS if k in ds}
    media, syntax = (_text(meta.get(k)) for k in ("MediaStorageSOPClassUID", "TransferSyntaxUID"))
    return _Header(values, media, syntax, "DirectoryRecordSequence" in ds), reached


class _NotDicom(Exception):
    pass


def index(path: str, complete: bool) -> dict[str, Any]:
    """A summary of one file's header for the study list, read from a prefix of the file when possible.

    Parsing stops after Burned In Annotation (0028,0301): the list needs nothing later, and a CT header
    has as many elements again after it (indexing speed is an issue 3 target). Plain headers are read by
    the fast scan; anything else by pydicom."""
    data = _read(path)
    if not data:
        return {"status": "skipped", "reason": "empty file"}
    scan = scan_summary(data, _SCANNED_TAGS, LAST_SUMMARY_TAG)
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
            return {"status": "failed", "reason": f"unreadable header: {problem}"}
    if not complete and not reached:
        return {"status": "need_more"}  # the prefix ended before the attributes we show
    values = header.values
    sop_class = values.get("SOPClassUID") or header.media_sop_class
    if sop_class == DICOMDIR_CLASS or header.directory:
        return {"status": "skipped", "reason": "DICOMDIR: holds patient names in its records; never copied"}
    summary = {k: values.get(k, "") for k in SUMMARY_KEYWORDS}
    summary["SOPClassUID"] = sop_class
    summary["TransferSyntaxUID"] = header.transfer_syntax
    return {
        "status": "ok",
        "header": summary,
        "document": ENCAPSULATED_DOCUMENTS.get(sop_class, ""),
        "flags": risk_flags(values),
        "pixel_review": needs_pixel_review(values),
        # Encapsulated pixel data: the page's codecs decode it when regions are to be blacked out.
        "compressed": bool(header.transfer_syntax) and UID(header.transfer_syntax).is_encapsulated,
    }


def _extract(archive: str, member: str, out: str, limit: int) -> None:
    """Copy a zip member (or its first `limit` bytes: enough to index it) to `out`, 1 MiB at a time."""
    left = limit if limit > 0 else -1
    with zipfile.ZipFile(archive) as z, z.open(member) as src, open(out, "wb") as dst:
        while left != 0:
            chunk = src.read(1 << 20 if left < 0 else min(left, 1 << 20))
            if not chunk:
                break
            dst.write(chunk)
            if left > 0:
                left -= len(chunk)


def _pixel_edit(raw: Any) -> PixelEdit | None:
    """The page's decision about one file's pixels: {"regions": [REGIONS.json entries], "reviewed": bool,
    "decoded": {"path": MEMFS file of every decoded frame, "rows", "columns", "frames", "samples",
    "bits_allocated", "bits_stored", "signed", "photometric"}} (decoded: compressed pixels, page codecs)."""
    if not raw:
        return None
    decoded = None
    if raw.get("decoded"):
        d = raw["decoded"]
        decoded = DecodedPixels(
            data=_read(d["path"]),
            rows=int(d["rows"]),
            columns=int(d["columns"]),
            frames=int(d["frames"]),
            samples=int(d["samples"]),
            bits_allocated=int(d["bits_allocated"]),
            bits_stored=int(d["bits_stored"]),
            signed=bool(d["signed"]),
            photometric=str(d["photometric"]),
        )
    return PixelEdit(
        regions=tuple(regions_from_json(raw.get("regions") or [])),
        reviewed=bool(raw.get("reviewed")),
        decoded=decoded,
    )


# The viewer steps through the frames of one file at a time: its parsed dataset is kept (one file, up to
# 256 MB) so that a frame does not cost reading and parsing the whole file again. `key` names the file
# (the page's SOP Instance UID, name, size and modification time of the dropped file).
VIEW_CACHE_MAX_BYTES = 256 * 1024 * 1024
_viewed: dict[str, Any] = {}


def image(path: str | None, frame: int, out: str, key: str = "") -> dict[str, Any]:
    """What the viewer needs for one frame: layout, display values, codec, the CTP library's suggested
    regions for this file (never applied here), and the frame's bytes written to `out`.

    Without `path`, only the kept file can answer: {"status": "miss"} when `key` is not the kept one."""
    if key and key in _viewed:
        ds = _viewed[key]
    elif path is None:
        return {"status": "miss"}
    else:
        data = _read(path)
        ds = read_dataset(data, path=path)
        _viewed.clear()
        if key and len(data) <= VIEW_CACHE_MAX_BYTES:
            _viewed[key] = ds
    info = image_info(ds)
    with open(out, "wb") as f:
        f.write(frame_bytes(ds, frame))
    suggested = [
        {**r.to_json(), "sop_instance_uid": str(ds.get("SOPInstanceUID", "")), "source": r.source}
        for r in suggested_regions(ds)
    ]
    return {"status": "ok", "image": info, "suggested": suggested}


def codestreams(path: str, out_dir: str) -> dict[str, Any]:
    """Every frame's codestream written to out_dir/0, /1, ... (the page decodes them to redact the file)."""
    ds = read_dataset(_read(path), path=path)
    info = image_info(ds)
    for i in range(info["frames"]):
        with open(f"{out_dir}/{i}", "wb") as f:
            f.write(frame_bytes(ds, i))
    return {"status": "ok", "image": info}


def describe() -> dict[str, Any]:
    """What the settings screen offers: profiles, every option with its CID 7050 meaning, the defaults."""
    return {
        "status": "ok",
        "profiles": [
            {"name": BASIC, "label": "DICOM PS3.15 Basic Profile (Table E.1-1, 2026d)"},
            {"name": PACSBIN, "label": "Legacy Pacsbin script", "warning": PACSBIN_WARNING},
        ],
        "options": [
            {
                "name": o.value,
                "meaning": o.code.meaning,
                "code": o.code.value,
                "default": o in DEFAULT_OPTIONS,
            }
            for o in Option
        ],
        "exclusive": [sorted(o.value for o in group) for group in EXCLUSIVE],
    }


def key_check(text: str) -> dict[str, Any]:
    """Validate an imported key file; returns the key as hex for the page to keep."""
    try:
        key = SecretKey.from_json(text)
    except KeyFileError as exc:
        return {"status": "failed", "reason": str(exc)}
    return {"status": "ok", "key": key.material.hex()}


def _outcome(result_plan: Any) -> dict[str, Any]:
    return {"counts": result_plan.counts(), "flags": result_plan.flags, "codes": result_plan.codes}


def handle(request: str) -> str:
    """Dispatch one request from the worker; never raises (errors come back as JSON)."""
    try:
        req = json.loads(request)
    except ValueError as exc:
        return json.dumps({"status": "error", "reason": f"request is not JSON: {exc}"})
    if req.get("cmd") == "index_many":  # one call per batch of the study list: each file answered alone
        results = [_dispatch({"cmd": "index", **item}) for item in req.get("items", [])]
        return json.dumps({"status": "ok", "results": results})
    return json.dumps(_dispatch(req))


def _dispatch(req: dict[str, Any]) -> dict[str, Any]:
    try:
        cmd = req["cmd"]
        if cmd == "index":
            out: dict[str, Any] = index(req["path"], bool(req.get("complete")))
        elif cmd == "plan":
            plan = plan_bytes(
                _read(req["path"]),
                _config(json.dumps(req["settings"], sort_keys=True)),
                path=req.get("name"),
                pixels=_pixel_edit(req.get("pixels")),
            )
            out = {"status": "ok", "plan": json.loads(plan.to_json())}
        elif cmd == "deidentify":
            _viewed.clear()  # the viewer's kept file gives its memory back to de-identification
            result = deidentify(
                _read(req["path"]),
                _config(json.dumps(req["settings"], sort_keys=True)),
                path=req.get("name"),
                pixels=_pixel_edit(req.get("pixels")),
            )
            with open(req["out"], "wb") as f:
                f.write(result.data)
            out = {
                "status": "ok",
                "study": result.study_instance_uid,
                "series": result.series_instance_uid,
                "sop": result.sop_instance_uid,
                "size": len(result.data),
                # For the page's zip (stored entries need it first): zlib here is ~10x faster than
                # CRC-32 in JavaScript on the page's main thread (measured).
                "crc32": zlib.crc32(result.data),
                **_outcome(result.plan),
            }
        elif cmd == "image":
            out = image(req.get("path"), int(req.get("frame") or 0), req["out"], str(req.get("key") or ""))
        elif cmd == "codestreams":
            out = codestreams(req["path"], req["out"])
        elif cmd == "regions_check":
            regions = regions_from_json(json.loads(req["text"]), req.get("name") or "regions file")
            out = {"status": "ok", "regions": [r.to_json() for r in regions]}
        elif cmd == "describe":
            out = describe()
        elif cmd == "key_check":
            out = key_check(req["text"])
        elif cmd == "zip_list":
            with zipfile.ZipFile(req["path"]) as z:
                out = {
                    "status": "ok",
                    "members": [
                        {"name": i.filename, "size": i.file_size} for i in z.infolist() if not i.is_dir()
                    ],
                }
        elif cmd == "zip_extract":
            _extract(req["path"], req["member"], req["out"], int(req.get("limit") or 0))
            out = {"status": "ok"}
        else:
            out = {"status": "error", "reason": f"unknown command {cmd!r}"}
    except (NotDicomError, DicomDirError) as exc:
        out = {"status": "skipped", "reason": exc.reason}
    except RedactionError as exc:
        out = {"status": "failed", "reason": exc.reason}
    except json.JSONDecodeError as exc:
        out = {"status": "failed", "reason": f"not JSON: {exc}"}
    except DeidentificationError as exc:
        out = {"status": "failed", "reason": exc.reason}
    except zipfile.BadZipFile as exc:
        out = {"status": "failed", "reason": f"unreadable zip archive: {exc}"}
    except Exception as exc:  # a bug must surface as a per-file failure, not kill the worker
        out = {"status": "error", "reason": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
    return out
