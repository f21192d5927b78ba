"""What a PACS's answer to one forwarded instance means (STOW-RS, PS3.18 10.5.3): delivered, refused for good
(final), or worth sending again later (retry).

Pure: status, headers and body in, an Outcome out; the HTTP exchange is in app/stow_client.py.
- 200/202: delivered only if the answer's Referenced SOP Sequence (0008,1199) lists the instance. An instance
  in the Failed SOP Sequence (0008,1198) is not delivered: final or retried by its Failure Reason (0008,1197).
  One in neither is not delivered either (final): Orthanc 1.10 answers 200 with both sequences empty when its
  storage is full, and a 200 from something that is not a STOW-RS service (an HTML page) must not count.
- 3xx: final. Redirects are never followed for a POST (urllib would re-send it as a GET without a body and
  take that GET's 200 for a delivery); the status and Location are recorded for the administrator.
- 408, 429, 5xx: retried, after Retry-After when the PACS gives one (RFC 9110 10.2.3).
- every other 4xx (and any other status): final, with the PACS's reason.
"""

from __future__ import annotations

import csv
import email.message
import email.utils
import enum
import functools
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from importlib import resources
from typing import Any

FAILED_SOP_SEQUENCE = "00081198"
REFERENCED_SOP_SEQUENCE = "00081199"
REFERENCED_SOP_INSTANCE_UID = "00081155"
FAILURE_REASON = "00081197"
ERROR_COMMENT = "00000902"
RETRIED_STATUSES = frozenset({408, 429})
MAX_RETRY_AFTER = 3600.0  # a PACS asking for more than an hour is asked again after an hour
MAX_REASON = 500  # characters kept of a PACS's words


class Verdict(enum.Enum):
    DELIVERED = "delivered"
    FAILED = "failed"  # final: not sent again
    RETRYING = "retrying"


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    reason: str  # in words, for `python -m app forward status`; never holds a credential
    status: int | None = None  # HTTP status; None when no answer came (network)
    retry_after: float | None = None  # seconds the PACS asked us to wait


@dataclass(frozen=True)
class FailureReason:
    first: int
    last: int
    meaning: str
    again: bool  # worth sending again later


@functools.cache
def failure_reasons() -> tuple[FailureReason, ...]:
    """app/data/stow_failure_reasons.csv, narrowest range first (0xC122 before 0xC000-0xCFFF)."""
    text = resources.files("app").joinpath("data/stow_failure_reasons.csv").read_text("utf-8")
    rows = [
        FailureReason(int(r["first"], 16), int(r["last"], 16), r["meaning"], r["again"] == "yes")
        for r in csv.DictReader(text.splitlines())
    ]
    return tuple(sorted(rows, key=lambda r: r.last - r.first))


def failure_reason(code: int) -> FailureReason | None:
    return next((r for r in failure_reasons() if r.first <= code <= r.last), None)


def printable(text: str, limit: int = MAX_REASON) -> str:
    """A PACS's words made safe for a terminal and a log line: no control characters (escape sequences),
    whitespace collapsed, at most `limit` characters."""
    cleaned = "".join(c if c.isprintable() else " " for c in text)
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP-date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _dataset(body: bytes) -> dict[str, Any] | None:
    """The DICOM JSON answer (PS3.18 F.2): one data set, or a list holding one; None if it is not that."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if isinstance(parsed, list) and len(parsed) == 1:
        parsed = parsed[0]
    return parsed if isinstance(parsed, dict) else None


def _values(element: Any) -> list[Any]:
    if isinstance(element, dict) and isinstance(element.get("Value"), list):
        return list(element["Value"])
    return []


def _items(dataset: Mapping[str, Any], tag: str) -> list[dict[str, Any]]:
    return [item for item in _values(dataset.get(tag)) if isinstance(item, dict)]


def _lists(items: list[dict[str, Any]], sop: str) -> dict[str, Any] | None:
    return next((i for i in items if sop in _values(i.get(REFERENCED_SOP_INSTANCE_UID))), None)


def _code(item: Mapping[str, Any]) -> int | None:
    values = _values(item.get(FAILURE_REASON))
    if not values:
        return None
    try:
        return int(values[0])
    except (TypeError, ValueError):
        return None


def _failed_item_reason(item: Mapping[str, Any]) -> tuple[str, bool]:
    """(words, worth sending again) for one Failed SOP Sequence item."""
    code = _code(item)
    comment = " ".join(str(v) for v in _values(item.get(ERROR_COMMENT)))
    if code is None:
        words, again = "no Failure Reason given", False
    else:
        known = failure_reason(code)
        meaning = known.meaning if known else "a Failure Reason this server does not know"
        words, again = f"Failure Reason 0x{code:04X} ({meaning})", bool(known and known.again)
    return (f"{words}: {comment}" if comment else words), again


def _body_words(body: bytes, dataset: Mapping[str, Any] | None) -> str:
    """What the PACS said in its body, when it is not a Failed SOP Sequence item."""
    if dataset is not None:
        failed = _items(dataset, FAILED_SOP_SEQUENCE)
        if failed:
            return "; ".join(_failed_item_reason(i)[0] for i in failed)
        # Orthanc's REST errors: {"HttpError": ..., "Message": ..., "Details": ...}
        words = [str(dataset[k]) for k in ("Message", "Details", "message", "error") if k in dataset]
        if words:
            return ": ".join(words)
    return body[:4096].decode("utf-8", errors="replace")


def _status_words(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def judge(status: int, headers: Mapping[str, str] | email.message.Message, body: bytes, sop: str) -> Outcome:
    """The Outcome of posting SOP Instance `sop` alone, from the PACS's answer."""
    head = f"the PACS answered {_status_words(status)}"
    dataset = _dataset(body)
    if 300 <= status < 400:
        location = printable(headers.get("Location") or "(no Location)")
        return Outcome(
            Verdict.FAILED,
            f"{head}, a redirect to {location}: not followed for a POST (it would be re-sent as a GET "
            "without the instance); give --forward the address the PACS answers at",
            status,
        )
    if status in (200, 202):
        failed = _lists(_items(dataset, FAILED_SOP_SEQUENCE), sop) if dataset else None
        if failed is not None:
            words, again = _failed_item_reason(failed)
            verdict = Verdict.RETRYING if again else Verdict.FAILED
            return Outcome(verdict, printable(f"{head} but did not store it: {words}"), status)
        if dataset is not None and _lists(_items(dataset, REFERENCED_SOP_SEQUENCE), sop) is not None:
            return Outcome(Verdict.DELIVERED, f"{head}: stored", status)
        what = "its Referenced SOP Sequence does not list it" if dataset else "not with a DICOM JSON answer"
        return Outcome(Verdict.FAILED, f"{head} but {what}: not known to be stored", status)
    words = printable(_body_words(body, dataset))
    reason = f"{head}: {words}" if words else head
    if status in RETRIED_STATUSES or 500 <= status < 600:
        return Outcome(Verdict.RETRYING, reason, status, retry_after(headers.get("Retry-After")))
    if dataset is not None:
        failed = _lists(_items(dataset, FAILED_SOP_SEQUENCE), sop)
        if failed is not None and _failed_item_reason(failed)[1]:  # e.g. 409 with "out of resources"
            return Outcome(Verdict.RETRYING, reason, status)
    return Outcome(Verdict.FAILED, reason, status)


def no_answer(exc: BaseException) -> Outcome:
    """The PACS could not be reached or broke off (network, TLS, timeout): retried."""
    detail = getattr(exc, "reason", None) or exc
    return Outcome(Verdict.RETRYING, printable(f"no answer from the PACS ({type(exc).__name__}: {detail})"))
