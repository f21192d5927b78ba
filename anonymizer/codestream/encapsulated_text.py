"""Remove text hidden inside encapsulated pixel data (PS3.15: no identifying text may survive).

Pure Python + pydicom (it runs in Pyodide). `strip_encapsulated_text` takes the (7FE0,0010) value of an
encapsulated transfer syntax: JPEG (.50-.66, .70), JPEG-LS (.80, .81), JPEG 2000 (.90-.93) and HTJ2K
(.201-.203) are walked frame by frame, each frame stripped by codestream_text.py; RLE, Deflated Image
Frame Compression and native syntaxes have no text container and come back unchanged; anything else
(MPEG, HEVC, JPEG XL...) raises UnsupportedError. Frames are found from a non-empty Basic Offset Table;
without one, or when its offsets do not point at the starts of fragments (GDCM's 00191113.dcm: it holds
positions, no identity, so it is no reason to refuse a file), from the fragment count (one fragment, one
frame, or one fragment per frame) and otherwise by walking the codestreams: each frame is the run of
fragments up to the one holding its EOI/EOC. Only when something was removed, or the Basic Offset Table
was wrong, is the value rebuilt, one fragment per frame, with a (correct) Basic Offset Table if the
original had a non-empty one.

It returns (new bytes, human list of what was removed), never including the removed text. With nothing
removed the input object itself is returned. What cannot be parsed safely raises UnsupportedError with
the reason (fail closed).
"""

from __future__ import annotations

import struct
from bisect import bisect_left
from collections.abc import Callable
from enum import Enum
from io import BytesIO
from itertools import pairwise

from pydicom.encaps import encapsulate, generate_fragments, parse_basic_offsets
from pydicom.uid import UID

from anonymizer.codestream.codestream_text import (
    JP2_SIGNATURE,
    j2k_codestream_end,
    jpeg_codestream_end,
    strip_j2k_text,
    strip_jpeg_text,
)
from anonymizer.errors import UnsupportedError

__all__ = ["BOT_REBUILT", "strip_encapsulated_text"]

BOT_REBUILT = "Basic Offset Table rebuilt (it did not point at the starts of fragments)"

_CodestreamEnd = Callable[[bytes, int], int]  # (buffer, start of a codestream) -> offset just after its end

_JPEG_TS = frozenset(f"1.2.840.10008.1.2.4.{i}" for i in (*range(50, 67), 70, 80, 81))
_J2K_TS = frozenset(f"1.2.840.10008.1.2.4.{i}" for i in (90, 91, 92, 93, 201, 202, 203))
# RLE and Deflated Image Frame Compression hold no text container; native syntaxes are not encapsulated
_NO_TEXT_TS = frozenset(
    {"1.2.840.10008.1.2.5", "1.2.840.10008.1.2.8.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.1"}
    | {"1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"}
)


def _split(fragments: list[bytes], frames: int, codestream_end: _CodestreamEnd) -> list[bytes]:
    """Frames of an encapsulation with no offset table and more fragments than frames: each frame
    starts at a fragment and ends with the fragment holding its codestream's EOI/EOC."""
    buf = b"".join(fragments)
    bounds, total = [], 0
    for fragment in fragments:
        total += len(fragment)
        bounds.append(total)
    out: list[bytes] = []
    start = 0
    while start < len(buf):
        if buf.startswith(JP2_SIGNATURE, start):
            raise UnsupportedError("JP2 frames cannot be told apart without a Basic Offset Table")
        try:
            stop = bounds[bisect_left(bounds, codestream_end(buf, start))]
        except UnsupportedError as exc:
            raise UnsupportedError(f"frame {len(out) + 1}: {exc.reason}") from exc
        out.append(buf[start:stop])
        start = stop
    if len(out) != frames:
        raise UnsupportedError(f"found {len(out)} codestreams in the pixel data for {frames} frames")
    return out


class _Bot(Enum):
    """The Basic Offset Table as found."""

    EMPTY = "empty"
    VALID = "valid"
    WRONG = "wrong"  # offsets that do not point at the starts of fragments


def _frames(pixel_data: bytes, frames: int, codestream_end: _CodestreamEnd) -> tuple[list[bytes], _Bot]:
    """The frames, and what the Basic Offset Table was."""
    buffer = BytesIO(pixel_data)
    try:
        offsets = parse_basic_offsets(buffer)
        fragments = list(generate_fragments(buffer))
    except (ValueError, struct.error) as exc:
        raise UnsupportedError(f"encapsulated pixel data cannot be parsed: {exc}") from exc
    if not fragments:
        raise UnsupportedError("encapsulated pixel data holds no fragments")
    bot = _Bot.EMPTY
    if offsets:
        starts, pos = {}, 0
        for index, fragment in enumerate(fragments):
            starts[pos] = index
            pos += 8 + len(fragment)
        if offsets[0] == 0 and offsets == sorted(set(offsets)) and all(o in starts for o in offsets):
            cuts = [starts[o] for o in offsets] + [len(fragments)]
            return [b"".join(fragments[a:b]) for a, b in pairwise(cuts)], _Bot.VALID
        bot = _Bot.WRONG  # positions only, no identity: found again from the fragments, rebuilt on output
    if len(fragments) == 1 or frames == 1:
        return [b"".join(fragments)], bot
    if len(fragments) == frames:
        return fragments, bot
    if len(fragments) < frames:
        raise UnsupportedError(f"{len(fragments)} fragments cannot hold {frames} frames")
    return _split(fragments, frames, codestream_end), bot


def strip_encapsulated_text(
    pixel_data: bytes, transfer_syntax_uid: str, number_of_frames: int
) -> tuple[bytes, list[str]]:
    """Remove embedded text from every frame of an encapsulated (7FE0,0010) value.

    Returns `pixel_data` itself when nothing was removed. Otherwise the frames are re-encapsulated
    one fragment per frame (even length, zero padded after EOI/EOC), with a Basic Offset Table when
    the original had a non-empty one. The offsets of an Extended Offset Table (7FE0,0001/0002), if
    the data set has one, are then wrong: the caller must remove or recompute it.
    """
    uid = str(transfer_syntax_uid).strip().rstrip("\0")
    if uid in _NO_TEXT_TS:
        return pixel_data, []
    if uid not in _JPEG_TS and uid not in _J2K_TS:
        name = UID(uid).name
        label = uid if name == uid else f"{name} ({uid})"
        raise UnsupportedError(
            "the file's image compression is one this tool cannot check for hidden text, so it is not "
            f"written (convert it to uncompressed or JPEG first): cannot inspect {label} pixel data for "
            "embedded text"
        )
    jpeg = uid in _JPEG_TS
    strip, find_end = (strip_jpeg_text, jpeg_codestream_end) if jpeg else (strip_j2k_text, j2k_codestream_end)
    frames, bot = _frames(pixel_data, max(number_of_frames, 1), find_end)
    new_frames, removed = [], [BOT_REBUILT] if bot is _Bot.WRONG else []
    for index, frame in enumerate(frames, 1):
        try:
            new, what = strip(frame)
        except UnsupportedError as exc:
            raise UnsupportedError(f"frame {index}: {exc.reason}") from exc
        trimmed = new.rstrip(b"\0")
        new_frames.append(trimmed if trimmed.endswith(b"\xff\xd9") else new)
        removed += [f"frame {index}: {item}" for item in what]
    if not removed:
        return pixel_data, []
    return encapsulate(new_frames, has_bot=bot is not _Bot.EMPTY), removed
