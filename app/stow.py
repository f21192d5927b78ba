"""STOW-RS (PS3.18 10.5): instances received, re-checked and stored one by one as the body streams in.

    POST /dicomweb/studies[/{study}]    multipart/related; type="application/dicom"

Each part, as soon as it is whole, is re-checked (app/recheck.py: anonymizer.verification.verify, the
engine's own rules;
the server holds none of its own) and stored; at most the re-check window of parts is in flight per
request, and the body is not read further while the window is full, so a request's memory is bounded
whatever its size. The answer is application/dicom+json with the Referenced SOP Sequence and the Failed SOP
Sequence, each failure with its Failure Reason (0008,1197) and the reason in words (Error Comment
(0000,0902)). Status (PS3.18 Table 10.5.3-1): 200 every instance stored, 202 some stored, 409 none stored;
before the body: 401 / 429 (app/auth.py), 415 another media type, 400 no boundary, 413 a declared length
over the token's limit, 503 (Retry-After) when `max_stow_requests` are being received already.
A request stopped part-way (413 over the token's size limit or over `max_parts`, 408 too slow, 400 a body
that is not multipart) answers `{"error": ...}` together with the two sequences for the parts handled before
the stop: those were checked whole and are stored (a client finds them with QIDO-RS).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Coroutine
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from anonymizer.reading.reader import SNIFF_BYTES, not_dicom_reason
from app.auth import authorize, refuse_if_waiting
from app.body import body_chunks
from app.dicom_json import (
    CANNOT_UNDERSTAND,
    DICOM_JSON,
    DUPLICATE_CONFLICT,
    NOT_AUTHORIZED,
    PROCESSING_FAILURE,
    STUDY_MISMATCH,
    failure,
    referenced,
    sequences,
)
from app.http_errors import HttpError, error_response
from app.limits import Limits
from app.multipart_reader import SLICE_BYTES, Part, RelatedReader, boundary_of
from app.recheck import Recheck, RecheckFailed
from app.store import Store, StoreConflict
from app.tokens import INSTANCES_PER_REQUEST, Token, Tokens

BUSY_RETRY_AFTER = 2  # seconds: a STOW-RS slot frees as soon as one request is answered
YIELD_AFTER = 0.002  # seconds a request may parse its body before letting other requests run


class Outcomes:
    """Each part's answer item (JSON text) by its place in the request: the answer lists them in order."""

    def __init__(self) -> None:
        self.stored: dict[int, str] = {}
        self.failed: dict[int, str] = {}

    def body(self) -> str:
        return "{" + sequences(_ordered(self.stored), _ordered(self.failed)) + "}"


def _ordered(items: dict[int, str]) -> list[str]:
    return [items[i] for i in sorted(items)]


class Window:
    """At most `size` parts of a request in the re-check and store at a time; `submit` waits for room."""

    def __init__(self, size: int) -> None:
        self._room = asyncio.Semaphore(size)
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, work: Coroutine[Any, Any, None]) -> None:
        await self._room.acquire()
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._room.release()

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks))


class Stow:
    def __init__(
        self, store: Store, tokens: Tokens, recheck: Recheck, limits: Limits, forward: Any = None
    ) -> None:
        self.store, self.tokens, self.recheck = store, tokens, recheck
        self.limits, self.forward = limits, forward
        self.active = 0  # requests being received, server-wide (one event loop: no lock needed)

    async def post(self, request: Request) -> Response:
        try:
            declared = int(request.headers.get("content-length") or 0)
            token = authorize(self.tokens, request, declared)
            boundary = boundary_of(request.headers.get("content-type", ""))
            if self.active >= self.limits.max_stow_requests:
                # Refused at once rather than queued: a queued request would hold its connection and its
                # body unanswered; the page retries a 503 after Retry-After.
                raise HttpError(
                    503,
                    f"the server is receiving {self.active} uploads already, its most at once; "
                    f"try again in {BUSY_RETRY_AFTER} s",
                    {"Retry-After": str(BUSY_RETRY_AFTER)},
                    close=True,
                )
        except HttpError as exc:
            return error_response(exc)
        self.active += 1
        try:
            return await self._receive(request, token, boundary, declared)
        finally:
            self.active -= 1

    async def _receive(self, request: Request, token: Token, boundary: bytes, declared: int) -> Response:
        study = request.path_params.get("study")
        outcomes = Outcomes()
        window = Window(self.recheck.window)
        reader = RelatedReader(boundary, self.limits.max_parts)
        stop: HttpError | None = None
        try:
            chunks = body_chunks(
                request.receive,
                max_bytes=token.max_request_bytes,
                idle=self.limits.body_timeout,
                min_rate=self.limits.min_body_rate,
            )
            received = 0
            ran_since = time.perf_counter()  # when this request last let others run
            async for chunk in chunks:
                # A body longer than it declared (or without a Content-Length) is charged as it comes.
                extra = max(0, received + len(chunk) - max(received, declared))
                received += len(chunk)
                if extra:
                    refuse_if_waiting(token, self.tokens.charge(token, nbytes=extra))
                for start in range(0, len(chunk), SLICE_BYTES):
                    parts = reader.feed(chunk[start : start + SLICE_BYTES])
                    for part in parts:
                        self._charge_instances(token, part.index)
                        await window.submit(self._handle(part, token, study, outcomes))
                    if reader.error:
                        raise reader.error
                    if parts or time.perf_counter() - ran_since > YIELD_AFTER:
                        # The parts' checks start, and other requests run (a slice full of tiny parts, or of a
                        # part's headers, is slow to parse); not after every slice of a part's data, which
                        # costs an event loop turn (~20 us) for ~10 us of parsing.
                        await asyncio.sleep(0)
                        ran_since = time.perf_counter()
            for part in reader.finish():
                self._charge_instances(token, part.index)
                await window.submit(self._handle(part, token, study, outcomes))
        except HttpError as exc:
            stop = exc
        finally:
            reader.close()
            await window.drain()
        if stop is not None:
            answer = sequences(_ordered(outcomes.stored), _ordered(outcomes.failed))
            text = json.dumps({"error": stop.message})[:-1] + (f", {answer}}}" if answer else "}")
            return Response(
                text, status_code=stop.status, headers=stop.headers, media_type="application/json"
            )
        status = 200 if not outcomes.failed else 202 if outcomes.stored else 409
        return Response(outcomes.body(), status_code=status, media_type=DICOM_JSON)

    def _charge_instances(self, token: Token, index: int) -> None:
        """Every INSTANCES_PER_REQUEST instances past the first ones count as one more request, so many
        parts in one request do not get round the token's rate (429 stops the request there)."""
        if index and index % INSTANCES_PER_REQUEST == 0:
            refuse_if_waiting(token, self.tokens.charge(token, requests=1))

    async def _handle(self, part: Part, token: Token, study: str | None, outcomes: Outcomes) -> None:
        try:
            ok, item = await self._store_part(part, token, study)
        except Exception as exc:  # never a 500 for the whole request because of one part
            ok, item = False, failure(PROCESSING_FAILURE, f"not stored: {type(exc).__name__}: {exc}")
        (outcomes.stored if ok else outcomes.failed)[part.index] = item

    async def _store_part(self, part: Part, token: Token, study: str | None) -> tuple[bool, str]:
        data = part.read()
        if part.kind != "application/dicom":
            return False, failure(
                CANNOT_UNDERSTAND, f"a part of type {part.kind!r}: only application/dicom is accepted"
            )
        not_dicom = not_dicom_reason(data[:SNIFF_BYTES], len(data))
        if not_dicom:  # answered here: an empty or junk part costs no trip to a re-check process
            return False, failure(CANNOT_UNDERSTAND, f"refused by the re-check: unreadable: {not_dicom}")
        try:
            verdict, digest = await self.recheck(data, token.max_request_bytes)
        except RecheckFailed as exc:
            return False, failure(PROCESSING_FAILURE, str(exc))
        if not verdict.ok:
            reason = CANNOT_UNDERSTAND if verdict.problems[0].startswith("unreadable") else NOT_AUTHORIZED
            text = "refused by the re-check: " + "; ".join(verdict.problems[:10])
            return False, failure(reason, text, verdict.sop_class_uid, verdict.sop_instance_uid)
        if study and verdict.study_instance_uid != study:
            text = f"the instance belongs to study {verdict.study_instance_uid}, not {study}"
            return False, failure(STUDY_MISMATCH, text, verdict.sop_class_uid, verdict.sop_instance_uid)
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
            return False, failure(
                DUPLICATE_CONFLICT, str(exc), verdict.sop_class_uid, verdict.sop_instance_uid
            )
        except (OSError, ValueError) as exc:
            text = f"not stored: {exc}"
            return False, failure(PROCESSING_FAILURE, text, verdict.sop_class_uid, verdict.sop_instance_uid)
        if self.forward is not None and stored.outcome != "duplicate":
            self.forward.submit(verdict.sop_instance_uid, stored.path)
        return True, referenced(
            verdict.sop_class_uid,
            verdict.sop_instance_uid,
            verdict.study_instance_uid,
            verdict.series_instance_uid,
        )
