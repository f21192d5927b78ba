"""The STOW-RS request body read as it streams in (PS3.18 10.5.1; multipart/related, RFC 2387): parts are
handed over one by one as soon as each is whole, so they can be checked and stored while the rest arrives.
(Starlette's request.form() does not read multipart/related; python-multipart's parser does. Bodies for
clients are built by app/multipart.py.)

A part is spooled: in memory up to SPOOL_BYTES, then in a temporary file. The parser is fed in slices of
SLICE_BYTES, so that a chunk full of tiny parts is not parsed in one go while the event loop waits.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from typing import IO

from python_multipart.multipart import MultipartParser, parse_options_header

from app.http_errors import HttpError

SPOOL_BYTES = 4 * 1024 * 1024
SLICE_BYTES = 16 * 1024


@dataclass
class Part:
    index: int
    # Closed by read(), or by RelatedReader.close() for parts never handed on.
    body: IO[bytes] = field(
        default_factory=lambda: tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    )
    headers: dict[str, str] = field(default_factory=dict)
    size: int = 0
    whole: bool = False  # its closing boundary was seen

    @property
    def kind(self) -> str:
        return self.headers.get("content-type", "application/dicom").split(";")[0].strip().lower()

    def read(self) -> bytes:
        """The part's bytes; its spool is closed."""
        try:
            self.body.seek(0)
            return self.body.read()
        finally:
            self.body.close()


def boundary_of(content_type: str) -> bytes:
    """The boundary of a `multipart/related; type="application/dicom"` body, or HttpError 415 or 400."""
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/related":
        raise HttpError(415, 'the body must be multipart/related; type="application/dicom"')
    part_type = params.get(b"type", b"application/dicom").strip(b'"')
    if part_type != b"application/dicom":
        raise HttpError(
            415, f"parts of type {part_type.decode('latin-1')!r} are not accepted: application/dicom"
        )
    boundary = params.get(b"boundary")
    if not boundary:
        raise HttpError(400, "multipart/related without a boundary")
    return boundary


class TooManyParts(HttpError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"the request holds more than {limit} instances, the most this server takes in one request: "
            f"the parts after the {limit}th were not read; send them in another request",
            close=True,
        )


class RelatedReader:
    """Feed it the body's bytes; it gives back the parts completed by each feed, in order."""

    def __init__(self, boundary: bytes, max_parts: int) -> None:
        self.max_parts = max_parts
        self.count = 0
        self.error: HttpError | None = None  # why the body stopped being read (set by feed)
        self._current: Part | None = None
        self._done: list[Part] = []
        self._field, self._value = bytearray(), bytearray()
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._begin,
                "on_part_data": self._data,
                "on_part_end": self._end,
                "on_header_field": lambda b, s, e: self._field.extend(b[s:e]),
                "on_header_value": lambda b, s, e: self._value.extend(b[s:e]),
                "on_header_end": self._header_end,
            },
        )

    def _begin(self) -> None:
        if self.count >= self.max_parts:
            raise TooManyParts(self.max_parts)
        self._current = Part(self.count)
        self.count += 1

    def _data(self, buf: bytes, start: int, end: int) -> None:
        assert self._current is not None
        self._current.body.write(buf[start:end])
        self._current.size += end - start

    def _header_end(self) -> None:
        assert self._current is not None
        name = self._field.decode("latin-1").lower()
        self._current.headers[name] = self._value.decode("latin-1").strip()
        self._field.clear()
        self._value.clear()

    def _end(self) -> None:
        assert self._current is not None
        self._current.whole = True
        self._done.append(self._current)
        self._current = None

    def feed(self, data: bytes) -> list[Part]:
        """Parse `data` (at most about SLICE_BYTES, for the event loop's sake); the parts it completed, even
        when it stopped (then `error` says why: 400 a body that is not multipart, TooManyParts past the cap;
        feed no more)."""
        try:
            self._parser.write(data)
        except HttpError as exc:
            self.error = exc
        except Exception as exc:
            self.error = HttpError(400, f"the multipart body cannot be read: {exc}", close=True)
        done, self._done = self._done, []
        return done

    def finish(self) -> list[Part]:
        """At the end of the body: the parts still open (a body cut inside a part: the checker says what
        is wrong with it)."""
        try:
            self._parser.finalize()
        except Exception as exc:
            raise HttpError(400, f"the multipart body cannot be read: {exc}") from None
        done, self._done = self._done, []
        if self._current is not None:
            done.append(self._current)
            self._current = None
        return done

    def close(self) -> None:
        """Drop what was never handed on (a request stopped part-way)."""
        for part in [*self._done, *([self._current] if self._current else [])]:
            part.body.close()
        self._done, self._current = [], None
