"""QIDO-RS (PS3.18 10.6): what the asking token stored, at study, series and instance level.

    GET /dicomweb/studies[?StudyInstanceUID=]
    GET /dicomweb/studies/{study}/series[?SeriesInstanceUID=]
    GET /dicomweb/studies/{study}/instances[?SeriesInstanceUID=&SOPInstanceUID=]
    GET /dicomweb/studies/{study}/series/{series}/instances[?SOPInstanceUID=]

Only exact UID matching, and `offset`/`limit` paging (PS3.18 8.3.4.4); 204 when nothing matches. Instances
carry their content's SHA-256 in a private element of ours, so an uploader can resume without sending again
what the server holds unchanged.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.auth import authorize
from app.dicom_json import DICOM_JSON, element
from app.http_errors import HttpError, error_response
from app.store import Store
from app.tokens import Tokens

PRIVATE_CREATOR = "PACSBIN UPLOADER"  # (0009,0010): reserves (0009,10xx); (0009,1001) = content SHA-256


class Qido:
    def __init__(self, store: Store, tokens: Tokens) -> None:
        self.store, self.tokens = store, tokens

    async def _rows(self, request: Request, **where: str) -> list[dict[str, Any]] | Response:
        try:
            token = authorize(self.tokens, request)
        except HttpError as exc:
            return error_response(exc)
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

    async def studies(self, request: Request) -> Response:
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
                "0020000D": element("UI", uid),
                "00201206": element("IS", len(s["series"])),
                "00201208": element("IS", s["n"]),
            }
            for uid, s in studies.items()
        ]
        return self._answer(request, body)

    async def series(self, request: Request) -> Response:
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
            {"0020000D": element("UI", study), "0020000E": element("UI", uid), "00201209": element("IS", n)}
            for uid, n in series.items()
        ]
        return self._answer(request, body)

    async def series_instances(self, request: Request) -> Response:
        return await self._instances(request, request.path_params["study"], request.path_params["series"])

    async def study_instances(self, request: Request) -> Response:
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
                "0020000D": element("UI", study),
                "0020000E": element("UI", r["series_instance_uid"]),
                "00080016": element("UI", r["sop_class_uid"]),
                "00080018": element("UI", r["sop_instance_uid"]),
                "00090010": element("LO", PRIVATE_CREATOR),
                "00091001": element("LO", r["sha256"]),
            }
            for r in rows
        ]
        return self._answer(request, body)
