"""Connections that neither idle nor dribble forever, and uvicorn's own limits (see app/limits.py).

uvicorn (0.55, h11) times out a kept-alive connection only until its next byte arrives, and a new
connection not at all: a client that opens connections and sends nothing, or a request head a byte at a
time, would hold them until `--max-connections` is reached and every other client gets 503. Here a
connection must send a whole request head within `header_timeout` of opening or of its previous answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from app.limits import Limits


class HeadDeadlineProtocol(H11Protocol):
    header_timeout = 10.0
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def handle_events(self) -> None:
        before = self.cycle
        super().handle_events()
        if self.cycle is not before:  # a request head arrived: its body has its own deadline (app/body.py)
            self._disarm()

    def on_response_complete(self) -> None:
        self._arm()  # first: a pipelined request read below disarms it
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _expired(self) -> None:
        waiting = self.cycle is None or self.cycle.response_complete
        if waiting and not self.transport.is_closing():
            self.transport.close()


def uvicorn_options(limits: Limits) -> dict[str, Any]:
    """Keyword arguments for uvicorn.run/Config."""
    protocol = type("HeadDeadline", (HeadDeadlineProtocol,), {"header_timeout": limits.header_timeout})
    return {
        "http": protocol,
        "limit_concurrency": limits.max_connections,
        "timeout_keep_alive": limits.keep_alive,
        "h11_max_incomplete_event_size": limits.max_header_bytes,
    }
