"""Who is asking: the bearer token of a DICOMweb request, and its request rate (401, 429)."""

from __future__ import annotations

import math

from starlette.requests import Request

from app.http_errors import HttpError
from app.tokens import Token, Tokens


def authorize(tokens: Tokens, request: Request) -> Token:
    """The request's token, counted against its rate; HttpError 401 without a valid one, 429 over its rate."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    token = tokens.find(value.strip()) if scheme.lower() == "bearer" and value.strip() else None
    if token is None:
        raise HttpError(
            401, "a valid bearer token is needed", {"WWW-Authenticate": 'Bearer realm="dicomweb"'}
        )
    wait = tokens.admit(token)
    if wait:
        # Retry-After: when this token may ask again (a client that honours it is not refused again).
        seconds = max(1, math.ceil(wait))
        raise HttpError(
            429,
            f"too many requests for this token (at most {token.per_minute} a minute); "
            f"try again in {seconds} s",
            {"Retry-After": str(seconds)},
        )
    return token
