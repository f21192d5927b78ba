"""Helpers for the read_dataset tests (test_reader*.py, test_structure.py): pydicom's test files as
bytes, DICOM files built by hand, and the check that a file is refused with a typed error and a reason.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pydicom
import pytest

from anonymizer.errors import DeidentificationError
from anonymizer.reading.reader import read_dataset

PYDICOM_DIR = Path(pydicom.__file__).parent / "data" / "test_files"


def _file(name: str) -> bytes:
    return (PYDICOM_DIR / name).read_bytes()


# --- building files by hand ------------------------------------------------------------------------

EXPLICIT_LE, IMPLICIT_LE = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2"
BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"
_LONG = {b"OB", b"OW", b"OF", b"SQ", b"UN", b"UT", b"UC", b"UR"}
CONTENT_SEQ = (0x0040, 0xA730)
ITEM_DELIM = struct.pack("<HHL", 0xFFFE, 0xE00D, 0)
SEQ_DELIM = struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)


def _pad(value: bytes, fill: bytes = b" ") -> bytes:
    return value + fill if len(value) % 2 else value


def el(group: int, elem: int, vr: bytes, value: bytes) -> bytes:
    """An explicit VR little endian element."""
    if vr in _LONG:
        return struct.pack("<HH2sHL", group, elem, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", group, elem, vr, len(value)) + value


def uid(group: int, elem: int, value: str) -> bytes:
    return el(group, elem, b"UI", _pad(value.encode(), b"\0"))


def part10(body: bytes, ts: str = EXPLICIT_LE, sop: str = BASIC_TEXT_SR) -> bytes:
    meta = el(2, 1, b"OB", b"\0\1") + uid(2, 2, sop) + uid(2, 3, "1.2.3.4") + uid(2, 0x10, ts)
    return b"\0" * 128 + b"DICM" + el(2, 0, b"UL", struct.pack("<L", len(meta))) + meta + body


def base_body(sop: str = BASIC_TEXT_SR) -> bytes:
    return uid(8, 0x16, sop) + uid(8, 0x18, "1.2.3.4") + el(0x10, 0x10, b"PN", b"Doe^John")


def sq_undefined(
    tag: tuple[int, int], items: list[bytes], delimit_last_item: bool = True, delimit: bool = True
) -> bytes:
    out = struct.pack("<HH2sHL", *tag, b"SQ", 0, 0xFFFFFFFF)
    for i, item in enumerate(items):
        closed = delimit_last_item or i < len(items) - 1
        out += struct.pack("<HHL", 0xFFFE, 0xE000, 0xFFFFFFFF) + item + (ITEM_DELIM if closed else b"")
    return out + (SEQ_DELIM if delimit else b"")


def nested_undefined(levels: int, implicit: bool = False) -> bytes:
    """`levels` sequences, each the only element of the one item of the sequence around it."""
    if implicit:
        head = struct.pack("<HHL", *CONTENT_SEQ, 0xFFFFFFFF)
    else:
        head = struct.pack("<HH2sHL", *CONTENT_SEQ, b"SQ", 0, 0xFFFFFFFF)
    item = struct.pack("<HHL", 0xFFFE, 0xE000, 0xFFFFFFFF)
    return (head + item) * levels + (ITEM_DELIM + SEQ_DELIM) * levels


def nested_defined(levels: int) -> bytes:
    content = b""
    for _ in range(levels):
        item = struct.pack("<HHL", 0xFFFE, 0xE000, len(content)) + content
        content = struct.pack("<HH2sHL", *CONTENT_SEQ, b"SQ", 0, len(item)) + item
    return content


def _reject(data: bytes, kind: type[DeidentificationError], *parts: str) -> DeidentificationError:
    with pytest.raises(kind) as info:
        read_dataset(data, path="x.dcm")
    assert type(info.value) is kind
    for part in parts:
        assert part in info.value.reason, info.value.reason
    assert info.value.path == "x.dcm"
    return info.value


DEFLATED_LE = "1.2.840.10008.1.2.1.99"


def deflate_bomb(inflated: int) -> bytes:
    """A Deflated Explicit VR Little Endian file whose data set inflates to about `inflated` bytes (an OB
    value of zeros), compressed about 1000:1: built in pieces, never held inflated."""
    head = base_body() + struct.pack("<HH2sHL", 0x0042, 0x0011, b"OB", 0, inflated)
    z = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    out = [z.compress(head)]
    zeros = bytes(1 << 20)
    left = inflated
    while left > 0:
        out.append(z.compress(zeros[: min(left, len(zeros))]))
        left -= len(zeros)
    out.append(z.flush())
    return part10(b"".join(out), ts=DEFLATED_LE)
