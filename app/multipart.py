"""The STOW-RS request body (PS3.18 10.5.1): instances as parts of a multipart/related message.

Written in one place for everything that sends to a DICOMweb server: the forwarder, the tests, the bench.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence


def related(parts: Sequence[bytes], kinds: Sequence[str] | None = None) -> tuple[bytes, str]:
    """(body, Content-Type) for these parts, each `application/dicom` unless `kinds` says otherwise."""
    boundary = uuid.uuid4().hex
    chunks = []
    for i, part in enumerate(parts):
        kind = kinds[i] if kinds else "application/dicom"
        chunks += [f"--{boundary}\r\nContent-Type: {kind}\r\n\r\n".encode(), part, b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f'multipart/related; type="application/dicom"; boundary={boundary}'
