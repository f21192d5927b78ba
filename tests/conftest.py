from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

# shared test helpers that assert: rewritten as test modules are, for the same failure reports
pytest.register_assert_rewrite("reader_helpers")

from anonymizer.config import Config  # noqa: E402
from anonymizer.keys import SecretKey  # noqa: E402

TEST_KEY = SecretKey(bytes(range(32)))


@pytest.fixture
def config() -> Config:
    return Config(key=TEST_KEY)


def stow_post(url: str, token: str, parts: list[bytes], timeout: float = 60) -> int:
    """POST `parts` to the server at `url` as one STOW-RS request (as the page sends them); the status."""
    import urllib.request

    from app.multipart import related

    body, content_type = related(parts)
    request = urllib.request.Request(
        f"{url}/dicomweb/studies",
        data=body,
        method="POST",
        headers={"Content-Type": content_type, "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as r:  # noqa: S310 (loopback)
        return int(r.status)


T = TypeVar("T")


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in a thread of its own: the e2e tests' Playwright (sync API, a session-wide browser)
    keeps an event loop running in the main thread, where asyncio.run() refuses to start another."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
