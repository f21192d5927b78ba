"""Who is asking: the bearer token of a DICOMweb request, its size limit and its rates (401, 413, 429)."""

from __future__ import annotations

import math

from starlette.requests import Request

from app.http_errors import HttpError
from app.tokens import Token, TokenExpired, Tokens


def authorize(tokens: Tokens, request: Request, nbytes: int = 0) -> Token:
    """The request's token, admitted with the `nbytes` it declares: HttpError 401 without a valid one
    (an expired one says so), 413 over its size limit, 429 over its request or byte rate."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    try:
        token = tokens.find(value.strip()) if scheme.lower() == "bearer" and value.strip() else None
    except TokenExpired as exc:
        raise HttpError(
            401, str(exc), {"WWW-Authenticate": 'Bearer realm="dicomweb", error="invalid_token"'}
        ) from None
    if token is None:
        raise HttpError(
            401, "a valid bearer token is needed", {"WWW-Authenticate": 'Bearer realm="dicomweb"'}
        )
    if nbytes > token.max_request_bytes:
        limit = token.max_request_bytes
        raise HttpError(413, f"the request is larger than this token's limit of {limit} bytes")
    refuse_if_waiting(token, tokens.admit(token, nbytes))
    return token


def refuse_if_waiting(token: Token, wait: float) -> None:
    """429 when the token must wait; Retry-After says when it may ask again (a client that honours it is
    not refused again)."""
    if wait:
        seconds = max(1, math.ceil(wait))
        raise HttpError(
            429,
            f"too many requests for this token (at most {token.per_minute} a minute of up to 8 instances "
            f"each, and {token.per_minute_bytes >> 20} MB a minute); try again in {seconds} s",
            {"Retry-After": str(seconds)},
        )
