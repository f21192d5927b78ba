"""What the parts of the dist/ build share: its error (:class:`BuildError`), the log callback type,
sha256 digests and canonical wheel names.

Part of tools/build_dist.py (which see for the layout of dist/); standard library only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from fetch_wheels import sha256_of

Log = Callable[[str], None]


class BuildError(RuntimeError):
    """The build cannot proceed (missing input, failed tool, inconsistent output)."""


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_sha256_file = sha256_of  # one streaming file hash for the wheel lock and the build


def _canonical(name: str) -> str:
    return "-".join(part for part in name.lower().replace("_", "-").replace(".", "-").split("-") if part)
