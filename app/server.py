"""The Starlette application: the routes it is given (DICOMweb: ``dicomweb.routes()``), then the page from
``dist/``, behind the security headers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from app.headers import SecurityHeadersMiddleware, security_headers
from app.static import DistFiles


async def _server_error(request: Request, exc: Exception) -> Response:
    # Sent by Starlette's outermost error middleware, outside ours: carries the headers itself.
    headers = security_headers(request.url.scheme, request.url.hostname or "")
    headers["Cache-Control"] = "no-store"
    return PlainTextResponse("Internal Server Error", status_code=500, headers=headers)


def create_app(dist: Path, routes: Sequence[BaseRoute] = ()) -> Starlette:
    """``routes`` (e.g. DICOMweb) are matched before the static files, which take every other GET/HEAD."""
    files = DistFiles(dist)
    return Starlette(
        routes=[*routes, Route("/{path:path}", files.endpoint, methods=["GET", "HEAD"])],
        middleware=[Middleware(SecurityHeadersMiddleware)],
        exception_handlers={500: _server_error},
    )
