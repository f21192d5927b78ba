"""A request body as it arrives, within the token's size limit and the body deadlines (app/limits.py).

The deadline counts only the time spent waiting for the client: while the server is busy checking parts
it does not read, and that is not the client's fault. A body may pause for at most `body_timeout` at a
time, and over the whole request the waiting may not exceed `body_timeout` + received / `min_body_rate`:
a client sending at the minimum rate or faster never meets it; one dribbling a byte at a time does at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from app.http_errors import HttpError


async def body_chunks(
    receive: Callable[[], Awaitable[Any]],
    *,
    max_bytes: int,
    idle: float,
    min_rate: int,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncIterator[bytes]:
    """The body's chunks as ASGI delivers them; HttpError 413 past `max_bytes`, 408 too slow, 400 when the
    client goes away first (all with the connection to be closed: the body was not read to its end)."""
    received = 0
    waited = 0.0
    more = True
    while more:
        budget = min(idle, idle + received / min_rate - waited)
        start = clock()
        try:
            if budget <= 0:
                raise TimeoutError
            # asyncio.timeout, not wait_for: wait_for wraps each receive in a new task (about 30 us, 8 times a
            # CT slice); the deadline is the same.
            async with asyncio.timeout(budget):
                message = await receive()
        except TimeoutError:
            raise HttpError(
                408,
                f"the upload was too slow: the server waits at most {idle:g} s for the body to go on, and "
                f"at least {min_rate >> 10} KiB/s on average ({received} bytes received)",
                close=True,
            ) from None
        waited += clock() - start
        if message["type"] == "http.disconnect":
            raise HttpError(400, "the client closed the connection before the end of the body", close=True)
        chunk = message.get("body", b"")
        received += len(chunk)
        if received > max_bytes:
            raise HttpError(
                413, f"the request is larger than this token's limit of {max_bytes} bytes", close=True
            )
        more = bool(message.get("more_body", False))
        if chunk:
            yield chunk
