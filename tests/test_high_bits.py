"""Bits outside Bits Stored (embedded overlays, PS3.5 8.1.1) are cleared; nothing else changes."""

from __future__ import annotations

import random
import struct
from typing import Literal

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRBigEndian, ExplicitVRLittleEndian, JPEGBaseline8Bit

import redaction.high_bits as high_bits
from redaction.errors import UnsupportedPixelsError
from redaction.high_bits import BitLayout, bit_layout_of, clean_high_bits, clean_pixel_data


def _pack(values: list[int], bits: int, little: bool = True) -> bytes:
    n = bits // 8
    return b"".join((v & ((1 << bits) - 1)).to_bytes(n, "little" if little else "big") for v in values)


CT12 = BitLayout(16, 12, 11, signed=False)
CT12_SIGNED = BitLayout(16, 12, 11, signed=True)

# (layout, stored values as written, the values expected after cleaning, how many had bits set)
CASES = {
    "12-bit unsigned: bits 12-15": (
        CT12,
        [0x0123, 0x8123, 0xFFFF, 0x1000, 0x4005, 0x2000, 0x0FFF],
        [0x0123, 0x0123, 0x0FFF, 0x0000, 0x0005, 0x0000, 0x0FFF],
        5,
    ),
    "12-bit signed: bits above High Bit follow its sign": (
        CT12_SIGNED,
        [-1000 & 0xFFFF, 1000 | 0x8000, 0xEC18, 0x0800, 0x07FF, 0x3000 | 7, 0xF000, 0xF800],
        [-1000 & 0xFFFF, 1000, -1000 & 0xFFFF, 0xF800, 0x07FF, 7, 0x0000, 0xF800],
        5,
    ),
    "8-bit, Bits Stored 6": (
        BitLayout(8, 6, 5, False),
        [0x3F, 0x40, 0xC1, 0xA0, 0],
        [0x3F, 0, 1, 0x20, 0],
        3,
    ),
    "8-bit, Bits Stored 6, signed": (
        BitLayout(8, 6, 5, True),
        [0x20, 0xE0, 0x5F, 0x1F],
        [0xE0, 0xE0, 0x1F, 0x1F],
        2,
    ),
    "8-bit, Bits Stored 7": (BitLayout(8, 7, 6, False), [0x80, 0xFF, 0x7F], [0x00, 0x7F, 0x7F], 2),
    "32-bit, Bits Stored 24": (
        BitLayout(32, 24, 23, False),
        [0xFF123456, 0x00ABCDEF, 0x01000000],
        [0x00123456, 0x00ABCDEF, 0],
        2,
    ),
    "32-bit, Bits Stored 24, signed": (
        BitLayout(32, 24, 23, True),
        [0x00800000, 0xFF800000, 0x80000001],
        [0xFF800000, 0xFF800000, 0x00000001],
        2,
    ),
    "16-bit in 16 bits with an 8-bit value, signed: whole high byte is the sign": (
        BitLayout(16, 8, 7, True),
        [0x0080, 0x00FF, 0x007F, 0xFF7F],
        [0xFF80, 0xFFFF, 0x007F, 0x007F],
        3,
    ),
    "High Bit 15, Bits Stored 12: the low four bits are not stored": (
        BitLayout(16, 12, 15, False),
        [0x123F, 0xFFF0, 0x0001],
        [0x1230, 0xFFF0, 0x0000],
        2,
    ),
}


@pytest.mark.parametrize("little", [True, False], ids=["little-endian", "big-endian"])
@pytest.mark.parametrize(("layout", "values", "expected", "count"), CASES.values(), ids=list(CASES))
def test_bits_outside_the_stored_range_are_cleared(
    layout: BitLayout, values: list[int], expected: list[int], count: int, little: bool
) -> None:
    layout = BitLayout(layout.bits_allocated, layout.bits_stored, layout.high_bit, layout.signed, little)
    cleaned = clean_high_bits(_pack(values, layout.bits_allocated, little), layout)
    assert cleaned.data == _pack(expected, layout.bits_allocated, little)
    assert cleaned.values == count
    assert clean_high_bits(cleaned.data, layout).values == 0  # a fixed point: the re-check passes it


def test_a_multi_frame_file_is_cleaned_in_every_frame_and_only_where_bits_were_set() -> None:
    frame = [100 + i for i in range(64)]
    marked = [v | 0x8000 if i % 5 == 0 else v for i, v in enumerate(frame)]  # 13 values per frame
    data = _pack(frame + marked + frame + marked, 16)
    cleaned = clean_high_bits(data, CT12)
    assert cleaned.data == _pack(frame * 4, 16)
    assert cleaned.values == 26
    assert "26 pixel values had bits set" in cleaned.rule and "(PS3.5 8.1.1)" in cleaned.rule


def test_the_padding_byte_of_odd_length_data_is_kept_and_not_counted() -> None:
    layout = BitLayout(8, 7, 6, False)
    cleaned = clean_high_bits(bytes([0x81, 0x02, 0x83]) + b"\x00", layout)
    assert cleaned.data == bytes([0x01, 0x02, 0x03, 0x00]) and cleaned.values == 2


@pytest.mark.parametrize(
    ("layout", "data"),
    [
        (CT12, _pack([0, 0x0FFF, 0x0800, 1], 16)),
        (CT12_SIGNED, _pack([-2048, 2047, -1, 0], 16)),  # sign extension is not a bit "set"
        (BitLayout(16, 16, 15, True), b"\xff\xff\x00\x80"),  # every allocated bit stored
        (BitLayout(8, 8, 7, False), b"\xff\x00\x80"),
        (BitLayout(1, 1, 0, False), b"\xff\xa5"),  # 1-bit: every bit is a pixel
        (CT12, b""),
    ],
    ids=["12-bit", "12-bit-signed", "16-of-16", "8-of-8", "1-bit", "empty"],
)
def test_nothing_set_gives_the_same_bytes(layout: BitLayout, data: bytes) -> None:
    cleaned = clean_high_bits(data, layout)
    assert cleaned.values == 0 and cleaned.data is data


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        (BitLayout(12, 12, 11, False), "Bits Allocated 12"),
        (BitLayout(16, 17, 16, False), "Bits Stored 17"),
        (BitLayout(16, 12, 16, False), "High Bit 16"),
        (BitLayout(16, 12, 10, False), "High Bit 10"),
        (BitLayout(16, 0, 0, False), "Bits Stored 0"),
    ],
)
def test_a_layout_that_does_not_fit_is_refused(layout: BitLayout, message: str) -> None:
    with pytest.raises(UnsupportedPixelsError, match=message):
        clean_high_bits(b"\x00" * 8, layout)


def _reference(data: bytes, layout: BitLayout) -> tuple[bytes, int]:
    """One value at a time, by arithmetic: the stored bits, sign-extended when signed, shifted back."""
    n = layout.bits_allocated // 8
    order: Literal["little", "big"] = "little" if layout.little_endian else "big"
    out, count = bytearray(), 0
    whole = len(data) - len(data) % n
    for i in range(0, whole, n):
        value = int.from_bytes(data[i : i + n], order)
        stored = value >> layout.low_bit & ((1 << layout.bits_stored) - 1)
        if layout.signed and stored >> (layout.bits_stored - 1):
            stored -= 1 << layout.bits_stored
        new = (stored << layout.low_bit) & ((1 << layout.bits_allocated) - 1)
        count += new != value
        out += new.to_bytes(n, order)
    return bytes(out) + data[whole:], count


def _layouts() -> list[BitLayout]:
    return [
        BitLayout(allocated, stored, high, signed, little)
        for allocated in (8, 16, 32)
        for stored in range(1, allocated + 1, 1 if allocated < 32 else 5)
        for high in range(stored - 1, allocated, 1 if allocated < 32 else 3)
        for signed in (False, True)
        for little in (True, False)
    ]


def test_every_layout_agrees_with_value_by_value_arithmetic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(high_bits, "_CHUNK", 8)  # several passes, so values at pass boundaries are covered
    rng = random.Random(12)
    for layout in _layouts():
        data = bytes(rng.randrange(256) for _ in range(layout.bits_allocated // 8 * 9 + 1))
        cleaned = clean_high_bits(data, layout)
        assert (cleaned.data, cleaned.values) == _reference(data, layout), layout


@pytest.mark.parametrize("at", [0, 9, 17, 31])
def test_a_value_set_after_clean_chunks_is_cleared_and_the_rest_kept(
    monkeypatch: pytest.MonkeyPatch, at: int
) -> None:
    """Chunks before the first one that changes are not held as a second copy (issue 15), yet written."""
    monkeypatch.setattr(high_bits, "_CHUNK", 8)
    layout = BitLayout(bits_allocated=16, bits_stored=12, high_bit=11, signed=False)
    values = [v % 4096 for v in range(1, 33)]
    values[at] |= 0x8000
    cleaned = clean_high_bits(struct.pack("<32H", *values), layout)
    assert cleaned.values == 1
    assert list(struct.unpack("<32H", cleaned.data)) == [v & 0x0FFF for v in values]


def _dataset(ts: str, pixels: bytes, **image: int) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = UID(ts)
    for keyword, value in {"BitsAllocated": 16, "BitsStored": 12, "HighBit": 11, **image}.items():
        setattr(ds, keyword, value)
    ds.PixelData = pixels
    return ds


def test_a_dataset_is_read_with_its_byte_order_and_left_unchanged() -> None:
    pixels = _pack([0x8001, 0x0002], 16, little=False)
    ds = _dataset(ExplicitVRBigEndian, pixels, PixelRepresentation=0)
    cleaned = clean_pixel_data(ds)
    assert cleaned is not None and cleaned.data == _pack([1, 2], 16, little=False) and cleaned.values == 1
    assert ds.PixelData == pixels  # the engine plans the change; applying it is the plan's job


def test_defaults_follow_ps3_5_and_what_is_not_native_is_not_touched() -> None:
    assert bit_layout_of(_dataset(ExplicitVRLittleEndian, b"", BitsStored=12)) == BitLayout(16, 12, 11, False)
    no_stored = _dataset(ExplicitVRLittleEndian, b"")
    del no_stored.BitsStored, no_stored.HighBit
    assert bit_layout_of(no_stored) == BitLayout(16, 16, 15, False)
    assert clean_pixel_data(_dataset(JPEGBaseline8Bit, b"\xff\xd8")) is None
    assert clean_pixel_data(Dataset()) is None
    no_allocated = _dataset(ExplicitVRLittleEndian, b"\x00\x00")
    del no_allocated.BitsAllocated
    with pytest.raises(UnsupportedPixelsError, match="BitsAllocated is missing"):
        clean_pixel_data(no_allocated)
