"""Palette colour lookup tables: ordinary and segmented (PS3.3 C.7.9.2), for the viewer and the fill value.

The reference is pydicom's own apply_color_lut (numpy, natively), which the e2e render test also uses.
"""

from __future__ import annotations

import random
import struct

import numpy as np
import pydicom
import pytest
from corpus import data_file
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut
from pydicom.pixels.processing import _expand_segmented_lut

from redaction.apply import redact_dataset
from redaction.errors import UnsupportedPixelsError
from redaction.frames import image_info
from redaction.layout import fill_samples, layout_of
from redaction.palette import expand_segmented, palette_of
from redaction.rectangles import Rect
from redaction.regions import Region

ALOKA = ("gdcm-US-ALOKA-16.dcm", "gdcm-US-ALOKA-16_big.dcm")  # segmented, little and big endian


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return 299 * rgb[..., 0].astype(np.int64) + 587 * rgb[..., 1] + 114 * rgb[..., 2]


@pytest.mark.parametrize("name", ALOKA)
def test_segmented_tables_expand_as_pydicom_applies_them(name: str) -> None:
    ds = pydicom.dcmread(data_file(name))
    p = palette_of(ds)
    every = np.arange(len(p.red), dtype=np.uint16) + p.first
    expected = apply_color_lut(every, ds)
    assert np.array_equal(np.array([p.red, p.green, p.blue]).T, expected)
    assert (p.first, p.bits, len(p.red)) == (0, 16, 65536)


@pytest.mark.parametrize("name", ALOKA)
def test_the_viewer_gets_the_expanded_tables(name: str) -> None:
    """Before: 'segmented palette colour tables are not supported', so the series could never be shown,
    checked or included."""
    ds = pydicom.dcmread(data_file(name))
    info = image_info(ds)
    assert info["photometric"] == "PALETTE COLOR" and len(info["palette"]["red"]) == 65536
    assert info["palette"]["green"] == palette_of(ds).green


@pytest.mark.parametrize("name", ALOKA)
def test_fill_value_is_the_darkest_entry(name: str) -> None:
    ds = pydicom.dcmread(data_file(name))
    rgb = apply_color_lut(np.arange(65536, dtype=np.uint16), ds)
    darkest = int(np.argmin(_luminance(rgb)))
    layout = layout_of(ds, little_endian=name.endswith("16.dcm"))
    assert fill_samples(layout, ds) == [darkest.to_bytes(2, "little" if layout.little_endian else "big")]
    assert palette_of(ds).darkest() == darkest


@pytest.mark.parametrize("name", ALOKA)
def test_a_segmented_palette_image_is_redacted_natively(name: str) -> None:
    ds = pydicom.dcmread(data_file(name))
    before = ds.pixel_array.copy()
    rect = Rect(10, 20, 100, 30)
    count = redact_dataset(ds, [Region(rect, sop_instance_uid=str(ds.SOPInstanceUID))])
    after = ds.pixel_array
    inside = (slice(20, 50), slice(10, 110))
    assert count == 1
    assert (after[inside] == palette_of(ds).darkest()).all()
    after[inside] = before[inside]
    assert np.array_equal(after, before)  # nothing else changed


def test_big_endian_ordinary_tables_read_in_the_file_byte_order() -> None:
    """Before: 16-bit entries were read little endian whatever the file: OBXXXX1A_expb.dcm (its big endian
    copy) showed 1 where the original holds 256."""
    little = image_info(pydicom.dcmread(data_file("OBXXXX1A.dcm")))["palette"]
    big = image_info(pydicom.dcmread(data_file("OBXXXX1A_expb.dcm")))["palette"]
    assert big == little and little["red"][1] == 256


def _words(*segments: list[int]) -> list[int]:
    return [w for s in segments for w in s]


# Discrete 10 20 30; linear to 70 over 4; discrete 5 0; indirect: the 2 segments from byte 10 (the linear
# one, now ramping from 0, then the discrete one again).
EVERY_TYPE = _words([0, 3, 10, 20, 30], [1, 4, 70], [0, 2, 5, 0], [2, 2, 10, 0])
EVERY_TYPE_EXPANDED = [10, 20, 30, 40, 50, 60, 70, 5, 0, 18, 35, 52, 70, 5, 0]  # 17.5 -> 18, 52.5 -> 52


def test_every_segment_type() -> None:
    assert expand_segmented(EVERY_TYPE, 15) == EVERY_TYPE_EXPANDED


def test_indirect_offsets_use_both_words() -> None:
    long = [0, 40000, *range(40000)]  # the next segment starts at byte 80004 = 0x1_3884
    words = _words(long, [0, 1, 7], [2, 1, 0x3884, 1])
    assert expand_segmented(words, 40002)[-2:] == [7, 7]


def _synthetic(words: list[int], entries: int, big_endian: bool = False) -> Dataset:
    ds = Dataset()
    ds.PhotometricInterpretation = "PALETTE COLOR"
    fmt = (">" if big_endian else "<") + f"{len(words)}H"
    for colour in ("Red", "Green", "Blue"):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [entries, 0, 16])
        setattr(ds, f"Segmented{colour}PaletteColorLookupTableData", struct.pack(fmt, *words))
    if big_endian:
        ds.file_meta = pydicom.dataset.FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRBigEndian
    return ds


@pytest.mark.parametrize("big_endian", [False, True], ids=["little", "big"])
def test_every_segment_type_through_the_dataset(big_endian: bool) -> None:
    p = palette_of(_synthetic(EVERY_TYPE, 15, big_endian))
    assert p.red == p.green == p.blue == EVERY_TYPE_EXPANDED
    assert p.darkest() == 8  # the first 0


@pytest.mark.parametrize("seed", range(20))
def test_discrete_and_linear_segments_match_pydicom(seed: int) -> None:
    """pydicom's own expansion (numpy) of random discrete and linear segments, rising and falling."""
    rng = random.Random(seed)
    words = [0, 1, rng.randrange(65536)]
    for _ in range(30):
        if rng.random() < 0.5:
            n = rng.randrange(1, 6)
            words += [0, n, *(rng.randrange(65536) for _ in range(n))]
        else:
            words += [1, rng.randrange(0, 300), rng.randrange(65536)]
    expected = _expand_segmented_lut(tuple(words), "<H")
    assert expand_segmented(words, len(expected)) == expected


@pytest.mark.parametrize(
    ("words", "entries", "message"),
    [
        ([1, 4, 70], 4, "starts with a linear segment"),
        ([0, 1, 5, 2, 1, 6, 0], 2, "does not copy segments before it"),  # itself
        ([0, 1, 5, 2, 1, 14, 0, 0, 1, 9], 3, "does not copy segments before it"),  # a later one
        ([0, 3, 10, 20, 30, 2, 1, 2, 0], 6, "does not copy segments before it"),  # not a segment start
        ([0, 3, 10, 20, 30, 2, 2, 0, 0], 9, "does not copy segments before it"),  # runs past itself
        ([3, 1, 5], 1, "unknown segment type 3 at byte 0"),
        ([0, 5, 1, 2], 5, "ends inside its segment at byte 0"),
        ([0, 3, 1, 2, 3], 4, "expands to 3 entries; its descriptor says 4"),
        ([0, 3, 1, 2, 3, 1, 9, 0], 4, "expands to more than the descriptor's 4 entries"),
    ],
    ids=[
        "linear-first",
        "indirect-self",
        "indirect-forward",
        "indirect-mid-segment",
        "indirect-past-itself",
        "unknown-opcode",
        "truncated",
        "too-short",
        "too-long",
    ],
)
def test_malformed_tables_are_refused_with_a_reason(words: list[int], entries: int, message: str) -> None:
    with pytest.raises(UnsupportedPixelsError, match=message):
        palette_of(_synthetic(words, entries))


def test_crafted_nesting_cannot_run_away() -> None:
    """Each indirect segment copies every segment before it: empty discrete segments add no entries, so
    only the work bound stops an expansion that would take 2^40 steps."""
    words = [0, 0]
    for k in range(1, 41):
        words += [2, k, 0, 0]
    with pytest.raises(UnsupportedPixelsError, match="too deeply"):
        expand_segmented(words, 1)


def test_eight_bit_segmented_tables_are_refused() -> None:
    ds = _synthetic([0, 2, 1, 2], 2)
    for colour in ("Red", "Green", "Blue"):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [2, 0, 8])
    with pytest.raises(UnsupportedPixelsError, match="segmented with 8-bit entries"):
        palette_of(ds)
