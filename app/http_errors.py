"""Errors that end a request with an HTTP status, and how they are answered: `{"error": "<in words>"}`."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response


class HttpError(Exception):
    """The request cannot go on: `status`, the reason in words (for the user first), extra headers (e.g.
    Retry-After). `close`: the rest of the body was not read, so the connection is closed after the answer."""

    def __init__(
        self, status: int, message: str, headers: dict[str, str] | None = None, *, close: bool = False
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, dict(headers or {})
        if close:
            self.headers["Connection"] = "close"


def error_response(exc: HttpError) -> Response:
    return JSONResponse({"error": exc.message}, status_code=exc.status, headers=exc.headers)
