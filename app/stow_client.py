"""One instance to the PACS as a STOW-RS request (PS3.18 10.5), and what its answer means (stow_answer).

urllib, with its redirect handler replaced: a 3xx comes back as the answer, never followed (urllib turns a
redirected POST into a GET without the body, and the GET's 200 looked like a delivery). Proxies from the
environment and the system's certificate store apply as usual (SSL_CERT_FILE for a hospital's own CA).
"""

from __future__ import annotations

import dataclasses
import http.client
import urllib.error
import urllib.request
from typing import IO, Any

from app.forward_target import ForwardTarget
from app.multipart import related
from app.stow_answer import Outcome, judge, no_answer

MAX_ANSWER = 1 << 20  # bytes read of an answer: a STOW-RS answer for one instance is a few kB


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx status and its headers


_OPENER = urllib.request.build_opener(_NoRedirects())


def _read(stream: IO[bytes] | None) -> bytes:
    if stream is None:
        return b""
    try:
        return stream.read(MAX_ANSWER)
    except (OSError, http.client.HTTPException):
        return b""


def _scrubbed(outcome: Outcome, target: ForwardTarget) -> Outcome:
    """The reason without the credentials, should a PACS echo the request's headers back."""
    if target.credentials is None:
        return outcome
    reason = outcome.reason
    secrets = {target.credentials.secret, target.credentials.authorization().split(" ", 1)[1]}
    for secret in secrets:
        reason = reason.replace(secret, "***")
    return dataclasses.replace(outcome, reason=reason)


def send(target: ForwardTarget, data: bytes, sop: str, *, timeout: float = 60.0) -> Outcome:
    """POST the instance `data` (SOP Instance UID `sop`) to the target's /studies; never raises for what the
    PACS or the network does."""
    body, content_type = related([data])
    request = urllib.request.Request(
        target.stow_url,
        data=body,
        method="POST",
        headers={"Content-Type": content_type, "Accept": "application/dicom+json"},
    )
    if target.credentials is not None:
        # unredirected: urllib would not copy it to another address even if a redirect were followed
        request.add_unredirected_header("Authorization", target.credentials.authorization())
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            outcome = judge(response.status, response.headers, _read(response), sop)
    except urllib.error.HTTPError as exc:
        with exc:
            outcome = judge(exc.code, exc.headers, _read(exc.fp), sop)
    except (OSError, http.client.HTTPException, ValueError) as exc:  # URLError, TLS, timeout, bad answer
        outcome = no_answer(exc)
    return _scrubbed(outcome, target)
