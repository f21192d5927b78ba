from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from anonymizer.config import Config  # noqa: E402
from anonymizer.keys import SecretKey  # noqa: E402

TEST_KEY = SecretKey(bytes(range(32)))


@pytest.fixture
def config() -> Config:
    return Config(key=TEST_KEY)
