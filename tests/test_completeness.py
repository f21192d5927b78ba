"""A file cut short is flagged when the study list indexes it (from a prefix and the real size), in plain
words first; whole files never are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from corpus import data_file, file, public_files

from anonymizer.browser_api import handle
from anonymizer.reading.completeness import find_incomplete
from anonymizer.reading.study_summary import LAST_SUMMARY_TAG, SCANNED_TAGS, summarize
from anonymizer.reading.summary_scan import scan_summary

PREFIX = 16 * 1024  # the page's prefix (static/worker.mjs)
# The corpus's own cut files: pydicom ships them to test its handling of truncation.
CUT_IN_CORPUS = {"MR_truncated.dcm", "rtplan_truncated.dcm", "emri_small_jpeg_2k_lossless_too_short.dcm"}


@pytest.mark.parametrize("path", public_files(), ids=lambda p: p.name)
def test_whole_files_are_not_flagged_and_cut_ones_are(path: Path) -> None:
    data = path.read_bytes()
    for prefix in (data[:PREFIX], data):
        cut = find_incomplete(prefix, len(data))
        if path.name not in CUT_IN_CORPUS:
            assert cut is None, cut
        elif prefix is data:  # a prefix may end before the cut shows: then there is no verdict
            assert cut is not None and cut.message().startswith("incomplete file: it ends before")


@pytest.mark.parametrize(
    ("name", "keep"),
    [
        ("CT_small.dcm", 0.5),  # explicit VR LE, cut in the pixels
        ("CT_small.dcm", 0.99),
        ("MR_small_bigendian.dcm", 0.6),  # explicit VR big endian
        ("MR_small_implicit.dcm", 0.6),  # implicit VR
        ("JPEG2000.dcm", 0.95),  # encapsulated: a fragment runs past the end
        ("JPEG2000.dcm", 0.7),  # cut in the header
        ("rtplan.dcm", 0.8),  # no pixels: a sequence runs past the end
    ],
)
def test_a_cut_file_is_found_from_its_prefix(name: str, keep: float) -> None:
    data = data_file(name).read_bytes()
    size = int(len(data) * keep)
    cut = find_incomplete(data[: min(PREFIX, size)], size)
    assert cut is not None
    text = cut.message()
    assert text.startswith("incomplete file: it ends before its ") and "export it again" in text
    assert "declares" in text or "no sequence delimiter" in text
    if name != "rtplan.dcm" and keep != 0.7:
        assert "image data" in text and "(7FE0,0010)" in text


def test_the_message_says_how_much_is_there() -> None:
    data = file("CT_small.dcm").read_bytes()
    cut = find_incomplete(data[:PREFIX], len(data) - 20_000)
    assert cut is not None
    assert "(19 kB of 39 kB)" in cut.message(), cut.message()
    short = find_incomplete(data[:PREFIX], 39_056)  # the pixel data ends at 39,068
    assert short is not None and "(39,056 of 39,068 bytes)" in short.message(), short


def test_summary_lists_the_file_with_the_flag() -> None:
    data = file("CT_small.dcm").read_bytes()
    out = summarize(data[:PREFIX], False, size=len(data) - 5000)
    assert out["status"] == "ok" and out["header"]["Modality"] == "CT"
    assert out["flags"][0].startswith("incomplete file") and out["incomplete"] == out["flags"][0]
    whole = summarize(data[:-5000], True)
    assert whole["flags"][0].startswith("incomplete file")
    assert "incomplete" not in summarize(data[:PREFIX], False, size=len(data))
    assert "incomplete" not in summarize(data[:PREFIX], False)  # size unknown: no verdict


def test_worker_index_many_passes_the_size(tmp_path: Path) -> None:
    data = file("CT_small.dcm").read_bytes()
    (tmp_path / "p").write_bytes(data[:PREFIX])
    items = [
        {"path": str(tmp_path / "p"), "complete": False, "size": len(data) - 3000},
        {"path": str(tmp_path / "p"), "complete": False, "size": len(data)},
    ]
    cut, whole = json.loads(handle(json.dumps({"cmd": "index_many", "items": items})))["results"]
    assert cut["status"] == "ok" and cut["flags"][0].startswith("incomplete file: it ends before its image")
    assert whole["status"] == "ok" and not any("incomplete" in f for f in whole["flags"])


@pytest.mark.parametrize("path", public_files(), ids=lambda p: p.name)
@pytest.mark.parametrize("keep", [1.0, 0.9, 0.6, 0.3])
def test_resuming_where_the_summary_scan_stopped_finds_what_the_whole_walk_finds(
    path: Path, keep: float
) -> None:
    """The study list walks a prefix once: the check starts where the summary's scan stopped."""
    whole = path.read_bytes()
    data = whole[: int(len(whole) * keep)]
    for prefix in (data[:PREFIX], data):
        scan = scan_summary(prefix, SCANNED_TAGS, LAST_SUMMARY_TAG)
        if scan is None or not scan.reached:
            continue
        assert find_incomplete(prefix, len(data), scan.resume) == find_incomplete(prefix, len(data))
