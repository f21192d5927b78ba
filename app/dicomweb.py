"""DICOMweb (PS3.18) on our server: the routes, and the parts they are made of.

    POST /dicomweb/studies[/{study}]                    STOW-RS   app/stow.py
    GET  /dicomweb/studies[/{study}/series[/{series}/instances]], /dicomweb/studies/{study}/instances
                                                        QIDO-RS   app/qido.py

Around them: app/auth.py (bearer tokens, 401/429), app/body.py (the body within its limits and deadlines),
app/multipart_reader.py (parts as they arrive), app/recheck.py (the re-check process pool),
app/dicom_json.py (the answers), app/http_errors.py, app/limits.py.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from anonymizer.verification.verify import Policy
from app.limits import Limits
from app.qido import Qido
from app.recheck import Check, Recheck, check_and_hash
from app.store import Store
from app.stow import Stow
from app.tokens import Tokens


class DicomWeb:
    def __init__(
        self,
        store: Store,
        tokens: Tokens,
        policy: Policy,
        forward: Any = None,
        check_workers: int = 0,
        limits: Limits | None = None,
        check: Check = check_and_hash,
    ) -> None:
        """`check_workers` > 0: re-check instances in that many processes; 0: in a thread of this process
        (tests). `check`: the re-check function (a module-level one; tests put a faulty one in)."""
        limits = limits or Limits()
        self.recheck = Recheck(policy, check_workers, limits.recheck_memory, check)
        self.stow = Stow(store, tokens, self.recheck, limits, forward)
        self.qido = Qido(store, tokens)

    async def studies(self, request: Request) -> Response:
        return await (self.stow.post(request) if request.method == "POST" else self.qido.studies(request))

    def routes(self) -> list[Route]:
        q = self.qido
        return [
            Route("/dicomweb/studies", self.studies, methods=["GET", "POST"]),
            Route("/dicomweb/studies/{study}", self.stow.post, methods=["POST"]),
            Route("/dicomweb/studies/{study}/series", q.series, methods=["GET"]),
            Route("/dicomweb/studies/{study}/instances", q.study_instances, methods=["GET"]),
            Route("/dicomweb/studies/{study}/series/{series}/instances", q.series_instances, methods=["GET"]),
        ]
