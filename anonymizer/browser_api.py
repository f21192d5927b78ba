"""The one Python entry point the page's worker calls: JSON in, JSON out, files on Pyodide's file system.

    handle('{"cmd": "index", "path": "/in/x", "complete": false}')      -> header summary (or skip reason)
    handle('{"cmd": "index_many", "items": [{"path": ..., "complete": ...}, ...]}') -> {"results": [...]}
    handle('{"cmd": "plan", "path": ..., "settings": {...}}')            -> the engine's plan
    handle('{"cmd": "deidentify", "path": ..., "out": ..., "settings": {...}, "pixels": {...}}') -> outcome
    (plan and deidentify take "pixels": the reviewer's regions and decision, see browser_pixels.pixel_edit)
    handle('{"cmd": "image", "path": ..., "frame": 0, "out": ...}')     -> layout, suggestions; frame in out
    handle('{"cmd": "text_matches", "path": ..., "texts": [...]}')     -> the attributes each text spells
    handle('{"cmd": "codestreams", "path": ..., "out": DIR}')          -> every frame's codestream in DIR/i
    handle('{"cmd": "zip_list", "path": ...}') / ('{"cmd": "zip_extract", "path", "member", "out", "limit"}')
    handle('{"cmd": "digest", "path": ...}')                           -> sha256, transfer syntax name

No de-identification logic lives here: it reads settings into a Config and calls the engine. The worker
moves bytes (WORKERFS for dropped files, MEMFS for outputs); this module never touches the network.
"""

from __future__ import annotations

import hashlib
import json
import traceback
import zipfile
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from typing import Any

from pydicom.datadict import dictionary_description
from pydicom.filereader import read_file_meta_info
from pydicom.uid import UID

from redaction.errors import RedactionError
from redaction.frames import frame_bytes, image_info
from redaction.regions import regions_from_json
from redaction.signatures import suggested_regions

from .browser_pixels import DecodeInPage, pixel_edit, read_file
from .config import BASIC, PACSBIN, PACSBIN_WARNING, Config, build_config
from .engine import deidentify, plan_bytes
from .errors import DeidentificationError, DicomDirError, KeyFileError, NotDicomError
from .keys import SecretKey
from .reading.reader import read_dataset
from .reading.study_summary import summarize
from .rules.options import DEFAULT_OPTIONS, EXCLUSIVE, Option
from .text_matches import header_matcher


@cache
def _config(settings: str) -> Config:
    raw = json.loads(settings)
    clock = raw.get("clock")
    fixed = datetime.fromisoformat(clock) if clock else None
    return build_config(
        SecretKey(bytes.fromhex(raw["key"])),
        frozenset(Option(o) for o in raw.get("options", [])),
        raw.get("profile", BASIC),
        clock=(lambda: fixed) if fixed else (lambda: datetime.now(UTC)),
        pixels_cleaned=bool(raw.get("pixels_cleaned", False)),
    )


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


# The viewer steps through the frames of one file at a time: its parsed dataset is kept (one file, up to
# 256 MB) so that a frame does not cost reading and parsing the whole file again. `key` names the file
# (the page's SOP Instance UID, name, size and modification time of the dropped file). The background
# text scan (static/textscan.mjs) steps through another file meanwhile: it keeps its own, in its own slot,
# so that neither evicts the other's file at every frame.
VIEW_CACHE_MAX_BYTES = 256 * 1024 * 1024
SLOTS = ("view", "scan")
_kept: dict[str, tuple[str, Any]] = {}  # slot -> (key, parsed data set)


class _BadRequest(Exception):
    """A request the page should never send (a bug on its side): answered "failed" with the reason."""


def _slot(name: str) -> str:
    if name not in SLOTS:
        raise _BadRequest(f"unknown cache slot {name!r} (one of {', '.join(SLOTS)})")
    return name


def _dataset(path: str | None, key: str, slot: str) -> Any | None:
    """The data set of `path`, or the one kept in `slot` under `key`; None when only the kept file could
    answer and it is not that one."""
    kept = _kept.get(slot)
    if key and kept and kept[0] == key:
        return kept[1]
    if path is None:
        return None
    data = read_file(path)
    ds = read_dataset(data, path=path)
    _kept.pop(slot, None)
    if key and len(data) <= VIEW_CACHE_MAX_BYTES:
        _kept[slot] = (key, ds)
    return ds


def image(path: str | None, frame: int, out: str, key: str = "", slot: str = "view") -> dict[str, Any]:
    """What the viewer needs for one frame: layout, display values, codec, the CTP library's suggested
    regions for this file (never applied here), and the frame's bytes written to `out`.

    Without `path`, only the kept file can answer: {"status": "miss"} when `key` is not the kept one."""
    ds = _dataset(path, key, _slot(slot))
    if ds is None:
        return {"status": "miss"}
    info = image_info(ds)
    with open(out, "wb") as f:
        f.write(frame_bytes(ds, frame))
    suggested = [
        {**r.to_json(), "sop_instance_uid": str(ds.get("SOPInstanceUID", "")), "source": r.source}
        for r in suggested_regions(ds)
    ]
    return {"status": "ok", "image": info, "suggested": suggested}


def text_matches(path: str | None, texts: Any, key: str = "", slot: str = "scan") -> dict[str, Any]:
    """Which of the file's own identifiers each text read in its pixels spells (issue 14: the page's text
    suggestions), by the CLI's matcher (text_matches.py): keywords per text, in the order given, and each
    keyword's attribute name for the viewer ("matches Patient's Name")."""
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise _BadRequest("text_matches takes a list of texts")
    ds = _dataset(path, key, _slot(slot))
    if ds is None:
        return {"status": "miss"}
    matcher = header_matcher(ds)
    matches = [list(matcher.matches(t)) for t in texts]
    names = {k: dictionary_description(k) for found in matches for k in found}
    return {"status": "ok", "matches": matches, "names": names}


def codestreams(path: str, out_dir: str) -> dict[str, Any]:
    """Every frame's codestream written to out_dir/0, /1, ... (the page decodes them to redact the file)."""
    ds = read_dataset(read_file(path), path=path)
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


def digest(path: str) -> dict[str, Any]:
    """The file's SHA-256 (read 1 MiB at a time) and its transfer syntax's name: the page tells versions of
    one image (one SOP Instance UID) apart by content, and shows which is which."""
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            sha.update(chunk)
    try:
        syntax = read_file_meta_info(path).get("TransferSyntaxUID")
    except Exception:  # no file meta (or unreadable): the page shows what its index found instead
        syntax = None
    return {
        "status": "ok",
        "sha256": sha.hexdigest(),
        "transfer_syntax": UID(str(syntax)).name if syntax else "",
    }


def _outcome(result_plan: Any) -> dict[str, Any]:
    return {"counts": result_plan.counts(), "flags": result_plan.flags, "codes": result_plan.codes}


class Command(StrEnum):
    """What the worker (static/worker.mjs) may ask; nothing else is answered. The page's own command list is
    static/protocol.mjs: the worker turns each of those into these (tests/test_protocol.py checks both)."""

    INDEX = "index"
    INDEX_MANY = "index_many"
    PLAN = "plan"
    DEIDENTIFY = "deidentify"
    IMAGE = "image"
    CODESTREAMS = "codestreams"
    REGIONS_CHECK = "regions_check"
    DESCRIBE = "describe"
    KEY_CHECK = "key_check"
    ZIP_LIST = "zip_list"
    ZIP_EXTRACT = "zip_extract"
    DIGEST = "digest"
    TEXT_MATCHES = "text_matches"


Request = dict[str, Any]
Reply = dict[str, Any]


def _index(req: Request) -> Reply:
    size = req.get("size")  # the file's real size: a prefix can show the file is cut short
    return summarize(
        read_file(req["path"]), bool(req.get("complete")), int(size) if size is not None else None
    )


def _index_many(req: Request) -> Reply:
    # One call per batch of the study list: each file answered alone (its failure is its own).
    items = req.get("items", [])
    return {"status": "ok", "results": [_dispatch({"cmd": Command.INDEX, **item}) for item in items]}


def _plan(req: Request) -> Reply:
    plan = plan_bytes(
        read_file(req["path"]),
        _config(json.dumps(req["settings"], sort_keys=True)),
        path=req.get("name"),
        pixels=pixel_edit(req.get("pixels")),
    )
    return {"status": "ok", "plan": json.loads(plan.to_json())}


def _deidentify(req: Request) -> Reply:
    _kept.clear()  # the kept files give their memory back to de-identification
    decode = DecodeInPage()
    try:
        result = deidentify(
            read_file(req["path"]),
            _config(json.dumps(req["settings"], sort_keys=True)),
            path=req.get("name"),
            pixels=pixel_edit(req.get("pixels"), decode),
        )
    except DeidentificationError:
        if decode.asked:  # nothing written: the worker decodes every frame and asks again (issue 16)
            return {"status": "decode"}
        raise
    crc = 0
    with open(req["out"], "wb") as f:
        for part in result.parts:  # never joined: a large file is not copied once more
            f.write(part)
            crc = zlib.crc32(part, crc)
    return {
        "status": "ok",
        "study": result.study_instance_uid,
        "series": result.series_instance_uid,
        "sop": result.sop_instance_uid,
        "size": result.size,
        # For the page's zip (stored entries need it first): zlib here is ~10x faster than CRC-32 in
        # JavaScript on the page's main thread (measured).
        "crc32": crc,
        **_outcome(result.plan),
    }


def _regions_check(req: Request) -> Reply:
    regions = regions_from_json(json.loads(req["text"]), req.get("name") or "regions file")
    return {"status": "ok", "regions": [r.to_json() for r in regions]}


def _zip_list(req: Request) -> Reply:
    with zipfile.ZipFile(req["path"]) as z:
        members = [{"name": i.filename, "size": i.file_size} for i in z.infolist() if not i.is_dir()]
    return {"status": "ok", "members": members}


def _zip_extract(req: Request) -> Reply:
    _extract(req["path"], req["member"], req["out"], int(req.get("limit") or 0))
    return {"status": "ok"}


COMMANDS: dict[Command, Callable[[Request], Reply]] = {
    Command.INDEX: _index,
    Command.INDEX_MANY: _index_many,
    Command.PLAN: _plan,
    Command.DEIDENTIFY: _deidentify,
    Command.IMAGE: lambda req: image(
        req.get("path"),
        int(req.get("frame") or 0),
        req["out"],
        str(req.get("key") or ""),
        str(req.get("slot") or "view"),
    ),
    Command.CODESTREAMS: lambda req: codestreams(req["path"], req["out"]),
    Command.REGIONS_CHECK: _regions_check,
    Command.DESCRIBE: lambda req: describe(),
    Command.KEY_CHECK: lambda req: key_check(req["text"]),
    Command.ZIP_LIST: _zip_list,
    Command.ZIP_EXTRACT: _zip_extract,
    Command.DIGEST: lambda req: digest(req["path"]),
    Command.TEXT_MATCHES: lambda req: text_matches(
        req.get("path"), req.get("texts"), str(req.get("key") or ""), str(req.get("slot") or "scan")
    ),
}


def handle(request: str) -> str:
    """Dispatch one request from the worker; never raises (errors come back as JSON)."""
    try:
        req = json.loads(request)
    except ValueError as exc:
        return json.dumps({"status": "error", "reason": f"request is not JSON: {exc}"})
    return json.dumps(_dispatch(req))


def _dispatch(req: Request) -> Reply:
    try:
        cmd = req.get("cmd") if isinstance(req, dict) else None
        if cmd not in COMMANDS:
            return {"status": "error", "reason": f"unknown command {cmd!r}"}
        out = COMMANDS[Command(cmd)](req)
    except (NotDicomError, DicomDirError) as exc:
        out = {"status": "skipped", "reason": exc.reason}
    except RedactionError as exc:
        out = {"status": "failed", "reason": exc.reason}
    except json.JSONDecodeError as exc:
        out = {"status": "failed", "reason": f"not JSON: {exc}"}
    except DeidentificationError as exc:
        out = {"status": "failed", "reason": exc.reason}
    except _BadRequest as exc:
        out = {"status": "failed", "reason": str(exc)}
    except zipfile.BadZipFile as exc:
        out = {"status": "failed", "reason": f"unreadable zip archive: {exc}"}
    except Exception as exc:  # a bug must surface as a per-file failure, not kill the worker
        out = {"status": "error", "reason": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
    return out
