"""RLE Lossless encoding (PS3.5 Annex G, redaction/rle.py): what pydicom's decoder reads back, row by row."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from pydicom.pixels.decoders.rle import _rle_decode_frame
from pydicom.pixels.encoders.native import _encode_segment

from redaction.errors import UnsupportedPixelsError
from redaction.rle import RleFormat, encode_frame, encode_segment


def _decode(fragment: bytes, fmt: RleFormat) -> np.ndarray:
    """pydicom's decoder (its output: little endian, one plane per sample), back to interleaved samples."""
    raw = _rle_decode_frame(fragment, fmt.rows, fmt.columns, fmt.samples, fmt.bytes_per_sample * 8)
    dtype = f"<u{fmt.bytes_per_sample}"
    planes = np.frombuffer(bytes(raw), dtype=dtype).reshape(fmt.samples, fmt.rows, fmt.columns)
    return planes.transpose(1, 2, 0)


ROWS = [
    b"",
    b"\x07",
    b"\x01\x01",
    b"\x01\x01\x01",
    b"\x05" * 128,
    b"\x05" * 129,
    b"\x05" * 130,
    b"\x05" * 131,
    bytes(range(128)),
    bytes(range(129)),
    bytes(range(256)) * 2,
    b"\x00\x01\x01\x02\x02\x02\x03\x03\x03\x03" * 30,
]


@pytest.mark.parametrize("row", [r for r in ROWS if r], ids=lambda r: f"{len(r)}bytes")
def test_a_segment_decodes_to_its_bytes_at_any_run_and_literal_length(row: bytes) -> None:
    fmt = RleFormat(rows=3, columns=len(row), samples=1, bytes_per_sample=1)
    frame = row * 3
    fragment = encode_frame(frame, fmt)
    assert _decode(fragment, fmt).tobytes() == frame
    assert len(fragment) % 2 == 0


def test_runs_do_not_cross_a_row_boundary() -> None:
    """G.3.1: each row is coded on its own. Two rows of one value: two replicate runs, not one."""
    coded = encode_segment(b"\x09" * 8, columns=4)
    assert coded == bytes((257 - 4, 9, 257 - 4, 9))


def test_three_equal_bytes_make_a_replicate_run_two_stay_literal() -> None:
    assert encode_segment(b"\x01\x02\x02\x03\x03\x03", columns=6) == bytes((2, 1, 2, 2, 254, 3))


@pytest.mark.parametrize(("samples", "bytes_per_sample"), [(1, 1), (1, 2), (3, 1), (3, 2), (1, 4), (3, 4)])
def test_a_frame_of_any_layout_round_trips(samples: int, bytes_per_sample: int) -> None:
    rng = np.random.default_rng(samples * 10 + bytes_per_sample)
    rows, columns = 37, 53
    image = np.zeros((rows, columns, samples), dtype=f"<u{bytes_per_sample}")
    image[5:30, 7:40] = rng.integers(0, 1 << (8 * bytes_per_sample - 1), (25, 33, samples))
    image[0:3, :] = (1 << (8 * bytes_per_sample)) - 1
    fmt = RleFormat(rows, columns, samples, bytes_per_sample)
    fragment = encode_frame(image.tobytes(), fmt)
    count, *offsets = struct.unpack("<16L", fragment[:64])
    assert count == samples * bytes_per_sample
    assert offsets[0] == 64 and all(o == 0 for o in offsets[count:])
    assert (_decode(fragment, fmt) == image).all()


def test_no_larger_than_pydicom_s_encoder_on_an_ultrasound_like_frame() -> None:
    rng = np.random.default_rng(7)
    frame = np.zeros((120, 160), dtype=np.uint8)
    frame[20:100, 30:130] = rng.integers(0, 255, (80, 100))
    frame[5:12, 5:60] = 255
    ours = encode_segment(frame.tobytes(), 160)
    theirs = _encode_segment(frame.tobytes(), 160)
    assert len(ours) <= len(theirs)


def test_more_than_fifteen_segments_and_short_frames_are_refused() -> None:
    with pytest.raises(UnsupportedPixelsError, match="at most 15 byte segments"):
        encode_frame(b"\0" * 16, RleFormat(1, 1, 4, 4))
    with pytest.raises(UnsupportedPixelsError, match="holds 3 bytes"):
        encode_frame(b"\0" * 3, RleFormat(2, 2, 1, 1))
