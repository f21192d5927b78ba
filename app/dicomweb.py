"""DICOMweb (PS3.18): STOW-RS to receive de-identified instances, QIDO-RS to list what a token stored.

    POST /dicomweb/studies[/{study}]    multipart/related; type="application/dicom"   (PS3.18 10.5)
    GET  /dicomweb/studies[/{study}/series[/{series}/instances]]                      (PS3.18 10.6)
    GET  /dicomweb/studies/{study}/instances

The request body is parsed as it streams in (python-multipart's parser; Starlette's request.form() does not
read multipart/related): each part is spooled (memory up to 8 MB, then a temporary file), checked by the
engine's re-check (anonymizer.verify: the server holds no de-identification rules of its own), and stored.
Responses are application/dicom+json with the Referenced SOP Sequence and the Failed SOP Sequence, each
failure with its Failure Reason (0008,1197) and the reason in words (Error Comment (0000,0902)).
Status (PS3.18 Table 10.5.3-1): 200 every instance stored, 202 some stored, 409 none stored, 400 a body that
is not multipart/related, 415 another media type, 401 no or a bad token, 413 over the token's size limit,
429 over its request rate (with Retry-After: when the token may ask again).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import multiprocessing
import os
import signal
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from anonymizer.verify import Policy, Verdict, check_deidentified
from app.store import Store, StoreConflict
from app.tokens import Token, TokenExpired, Tokens, request_units

DICOM_JSON = "application/dicom+json"
SPOOL_BYTES = 8 * 1024 * 1024
PRIVATE_CREATOR = "PACSBIN UPLOADER"  # (0009,0010): reserves (0009,10xx); (0009,1001) = content SHA-256
# Failure Reason (0008,1197) values, PS3.4 Annex GG.4 / PS3.18 Table 10.5.3-2.
PROCESSING_FAILURE = 0x0110
NOT_AUTHORIZED = 0x0124  # refused by policy: not de-identified
DUPLICATE_CONFLICT = 0x0111  # duplicate SOP Instance (different content)
CANNOT_UNDERSTAND = 0xC000
STUDY_MISMATCH = 0xA900


class HttpError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


@dataclass
class Part:
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # SpooledTemporaryFile
    size: int = 0


def _element(vr: str, *values: Any) -> dict[str, Any]:
    return {"vr": vr, "Value": list(values)} if values else {"vr": vr}


async def _parts(request: Request, limit: int) -> list[Part]:
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/related":
        raise HttpError(415, 'the body must be multipart/related; type="application/dicom"')
    part_type = params.get(b"type", b"application/dicom").strip(b'"')
    if part_type != b"application/dicom":
        raise HttpError(
            415, f"parts of type {part_type.decode('latin-1')!r} are not accepted: application/dicom"
        )
    boundary = params.get(b"boundary")
    if not boundary:
        raise HttpError(400, "multipart/related without a boundary")
    parts: list[Part] = []
    header: list[bytes] = [b"", b""]

    def begin() -> None:
        # Closed in _store_part once the part is handled (or with the request's garbage on an error).
        parts.append(Part(body=tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)))  # noqa: SIM115

    def data(buf: bytes, start: int, end: int) -> None:
        parts[-1].body.write(buf[start:end])
        parts[-1].size += end - start

    def field_name(buf: bytes, start: int, end: int) -> None:
        header[0] += buf[start:end]

    def field_value(buf: bytes, start: int, end: int) -> None:
        header[1] += buf[start:end]

    def header_end() -> None:
        parts[-1].headers[header[0].decode("latin-1").lower()] = header[1].decode("latin-1").strip()
        header[0], header[1] = b"", b""

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": begin,
            "on_part_data": data,
            "on_header_field": field_name,
            "on_header_value": field_value,
            "on_header_end": header_end,
        },
    )
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise HttpError(413, f"the request is larger than this token's limit of {limit} bytes")
            parser.write(chunk)
        parser.finalize()
    except HttpError:
        raise
    except Exception as exc:
        raise HttpError(400, f"the multipart body cannot be read: {exc}") from None
    return parts


def check_and_hash(data: bytes, policy: Policy) -> tuple[Verdict, str]:
    """The re-check and the SHA-256 of what is stored, both in a re-check process (off the event loop). What
    is stored is the verdict's stored form (anonymizer/stored_form.py), not the upload: nothing the client
    put in the file meta or the preamble is kept."""
    verdict = check_deidentified(data, policy)
    return verdict, hashlib.sha256(verdict.stored).hexdigest()


def _die_with_parent(parent: int) -> None:
    """Initializer of the re-check processes: they end when the server ends, even when it is killed (-9)
    and cannot shut its pool down (Linux PR_SET_PDEATHSIG; elsewhere the pool's own shutdown applies)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the server died before the line above took effect
        os._exit(0)


class DicomWeb:
    def __init__(
        self, store: Store, tokens: Tokens, policy: Policy, forward: Any = None, check_workers: int = 0
    ) -> None:
        """`check_workers` > 0: re-check instances in that many processes (CPU-bound pydicom work; the
        server's throughput scales with cores); 0: in a thread of this process (tests)."""
        self.store, self.tokens, self.policy, self.forward = store, tokens, policy, forward
        self.check_workers = check_workers
        self._pool: ProcessPoolExecutor | None = None

    async def _check(self, data: bytes) -> tuple[Verdict, str]:
        if not self.check_workers:
            return await run_in_threadpool(check_and_hash, data, self.policy)
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.check_workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_die_with_parent,
                initargs=(os.getpid(),),
            )
        return await asyncio.get_running_loop().run_in_executor(self._pool, check_and_hash, data, self.policy)

    def routes(self) -> list[Route]:
        return [
            Route("/dicomweb/studies", self.studies, methods=["GET", "POST"]),
            Route("/dicomweb/studies/{study}", self.stow, methods=["POST"]),
            Route("/dicomweb/studies/{study}/series", self.qido_series, methods=["GET"]),
            Route("/dicomweb/studies/{study}/instances", self.qido_study_instances, methods=["GET"]),
            Route(
                "/dicomweb/studies/{study}/series/{series}/instances", self.qido_instances, methods=["GET"]
            ),
        ]

    def _token(self, request: Request, nbytes: int = 0) -> Token:
        """The request's token, admitted with the `nbytes` it declares; 401, 413 or 429 otherwise."""
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        try:
            token = self.tokens.find(value.strip()) if scheme.lower() == "bearer" and value.strip() else None
        except TokenExpired as exc:
            raise HttpError(
                401, str(exc), {"WWW-Authenticate": 'Bearer realm="dicomweb", error="invalid_token"'}
            ) from None
        if token is None:
            raise HttpError(
                401, "a valid bearer token is needed", {"WWW-Authenticate": 'Bearer realm="dicomweb"'}
            )
        if nbytes > token.max_request_bytes:
            raise HttpError(
                413, f"the request is larger than this token's limit of {token.max_request_bytes} bytes"
            )
        self._refuse_if_waiting(token, self.tokens.admit(token, nbytes))
        return token

    @staticmethod
    def _refuse_if_waiting(token: Token, wait: float) -> None:
        if wait:
            # Retry-After: when this token may ask again (a client that honours it is not refused again).
            seconds = max(1, math.ceil(wait))
            raise HttpError(
                429,
                f"too many requests for this token (at most {token.per_minute} a minute of up to 8 instances "
                f"each, and {token.per_minute_bytes >> 20} MB a minute); try again in {seconds} s",
                {"Retry-After": str(seconds)},
            )

    @staticmethod
    def _error(exc: HttpError) -> Response:
        return JSONResponse({"error": exc.message}, status_code=exc.status, headers=exc.headers)

    async def studies(self, request: Request) -> Response:
        return await (self.stow(request) if request.method == "POST" else self.qido_studies(request))

    async def stow(self, request: Request) -> Response:
        try:
            declared = int(request.headers.get("content-length") or 0)
            token = self._token(request, declared)
            parts = await _parts(request, token.max_request_bytes)
            # The request's instances past the first 8 count as further requests, and a body longer than
            # it declared (or without a Content-Length) as its bytes: refused whole before any re-check.
            wait = self.tokens.charge(
                token,
                requests=request_units(len(parts)) - 1,
                nbytes=max(0, sum(p.size for p in parts) - declared),
            )
            if wait:
                for part in parts:
                    part.body.close()
                self._refuse_if_waiting(token, wait)
        except HttpError as exc:
            return self._error(exc)
        study = request.path_params.get("study")
        referenced: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        # As many parts at a time as there are checkers: bounded memory, all cores busy.
        window = asyncio.Semaphore(max(1, self.check_workers))

        async def handle(part: Part) -> dict[str, Any]:
            async with window:
                return await self._store_part(part, token, study)

        for item in await asyncio.gather(*(handle(p) for p in parts)):
            (failed if "00081197" in item else referenced).append(item)
        body: dict[str, Any] = {}
        if referenced:
            body["00081199"] = _element("SQ", *referenced)
        if failed:
            body["00081198"] = _element("SQ", *failed)
        status = 200 if not failed else 202 if referenced else 409
        return Response(json.dumps(body), status_code=status, media_type=DICOM_JSON)

    async def _store_part(self, part: Part, token: Token, study: str | None) -> dict[str, Any]:
        part.body.seek(0)
        data = part.body.read()
        part.body.close()

        def failure(reason: int, text: str, sop_class: str = "", sop: str = "") -> dict[str, Any]:
            item = {"00081197": _element("US", reason), "00000902": _element("LO", text[:1024])}
            if sop_class:
                item["00081150"] = _element("UI", sop_class)
            if sop:
                item["00081155"] = _element("UI", sop)
            return item

        kind = part.headers.get("content-type", "application/dicom").split(";")[0].strip().lower()
        if kind != "application/dicom":
            return failure(CANNOT_UNDERSTAND, f"a part of type {kind!r}: only application/dicom is accepted")
        verdict, digest = await self._check(data)
        if not verdict.ok:
            reason = CANNOT_UNDERSTAND if verdict.problems[0].startswith("unreadable") else NOT_AUTHORIZED
            text = "refused by the re-check: " + "; ".join(verdict.problems[:10])
            return failure(reason, text, verdict.sop_class_uid, verdict.sop_instance_uid)
        if study and verdict.study_instance_uid != study:
            return failure(
                STUDY_MISMATCH,
                f"the instance belongs to study {verdict.study_instance_uid}, not {study}",
                verdict.sop_class_uid,
                verdict.sop_instance_uid,
            )
        attributes = json.dumps(
            {"options": sorted(o.value for o in verdict.options), "profile": verdict.profile}
        )
        try:
            stored = await run_in_threadpool(
                self.store.put,
                verdict.stored,
                digest=digest,
                study=verdict.study_instance_uid,
                series=verdict.series_instance_uid,
                sop=verdict.sop_instance_uid,
                sop_class=verdict.sop_class_uid,
                token_id=token.id,
                attributes=attributes,
            )
        except StoreConflict as exc:
            return failure(DUPLICATE_CONFLICT, str(exc), verdict.sop_class_uid, verdict.sop_instance_uid)
        except (OSError, ValueError) as exc:
            return failure(
                PROCESSING_FAILURE, f"not stored: {exc}", verdict.sop_class_uid, verdict.sop_instance_uid
            )
        if self.forward is not None and stored.outcome != "duplicate":
            self.forward.submit(verdict.sop_instance_uid, stored.path)
        return {
            "00081150": _element("UI", verdict.sop_class_uid),
            "00081155": _element("UI", verdict.sop_instance_uid),
            "00081190": _element(
                "UR",
                f"/dicomweb/studies/{verdict.study_instance_uid}/series/{verdict.series_instance_uid}"
                f"/instances/{verdict.sop_instance_uid}",
            ),
        }

    # ---------------------------------------------------------------- QIDO-RS
    async def _rows(self, request: Request, **where: str) -> list[dict[str, Any]] | Response:
        try:
            token = self._token(request)
        except HttpError as exc:
            return self._error(exc)
        return await run_in_threadpool(self.store.query, token.id, **where)

    @staticmethod
    def _answer(request: Request, body: list[dict[str, Any]]) -> Response:
        """A QIDO-RS answer with the standard `offset` and `limit` paging (PS3.18 8.3.4.4); 204 when empty,
        400 for paging values that are not whole numbers."""
        try:
            offset = max(0, int(request.query_params.get("offset") or 0))
            limit = int(request.query_params.get("limit") or 0)
        except ValueError:
            return JSONResponse({"error": "offset and limit must be whole numbers"}, status_code=400)
        page = body[offset : offset + limit] if limit > 0 else body[offset:]
        return Response(json.dumps(page), media_type=DICOM_JSON, status_code=200 if page else 204)

    async def qido_studies(self, request: Request) -> Response:
        rows = await self._rows(request, study_instance_uid=request.query_params.get("StudyInstanceUID", ""))
        if isinstance(rows, Response):
            return rows
        studies: dict[str, dict[str, Any]] = {}
        for r in rows:
            s = studies.setdefault(r["study_instance_uid"], {"series": set(), "n": 0})
            s["series"].add(r["series_instance_uid"])
            s["n"] += 1
        body = [
            {
                "0020000D": _element("UI", uid),
                "00201206": _element("IS", len(s["series"])),
                "00201208": _element("IS", s["n"]),
            }
            for uid, s in studies.items()
        ]
        return self._answer(request, body)

    async def qido_series(self, request: Request) -> Response:
        study = request.path_params["study"]
        rows = await self._rows(
            request,
            study_instance_uid=study,
            series_instance_uid=request.query_params.get("SeriesInstanceUID", ""),
        )
        if isinstance(rows, Response):
            return rows
        series: dict[str, int] = {}
        for r in rows:
            series[r["series_instance_uid"]] = series.get(r["series_instance_uid"], 0) + 1
        body = [
            {
                "0020000D": _element("UI", study),
                "0020000E": _element("UI", uid),
                "00201209": _element("IS", n),
            }
            for uid, n in series.items()
        ]
        return self._answer(request, body)

    async def qido_instances(self, request: Request) -> Response:
        return await self._instances(request, request.path_params["study"], request.path_params["series"])

    async def qido_study_instances(self, request: Request) -> Response:
        """Every instance of a study, across its series (PS3.18 10.6.1, study-level search for instances):
        a resuming uploader asks once per study instead of once per series."""
        return await self._instances(
            request, request.path_params["study"], request.query_params.get("SeriesInstanceUID", "")
        )

    async def _instances(self, request: Request, study: str, series: str) -> Response:
        rows = await self._rows(
            request,
            study_instance_uid=study,
            series_instance_uid=series,
            sop_instance_uid=request.query_params.get("SOPInstanceUID", ""),
        )
        if isinstance(rows, Response):
            return rows
        body = [
            {
                "0020000D": _element("UI", study),
                "0020000E": _element("UI", r["series_instance_uid"]),
                "00080016": _element("UI", r["sop_class_uid"]),
                "00080018": _element("UI", r["sop_instance_uid"]),
                # The stored content's SHA-256 in a private element of our own (creator below), so an
                # uploader can resume without sending again what the server already holds unchanged.
                "00090010": _element("LO", PRIVATE_CREATOR),
                "00091001": _element("LO", r["sha256"]),
            }
            for r in rows
        ]
        return self._answer(request, body)
