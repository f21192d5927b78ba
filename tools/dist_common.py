"""What the parts of the dist/ build share: its error (:class:`BuildError`), the log callback type,
sha256 digests and canonical wheel names.

Part of tools/build_dist.py (which see for the layout of dist/); standard library only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

Log = Callable[[str], None]


class BuildError(RuntimeError):
    """The build cannot proceed (missing input, failed tool, inconsistent output)."""


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _canonical(name: str) -> str:
    return "-".join(part for part in name.lower().replace("_", "-").replace(".", "-").split("-") if part)
