"""The burned-in benchmark's own machinery: the generated set is what its truth says, and the harness scores
trivial finders as they must score (bench/burned_in.py, bench/text_finder.py, bench/tesseract_finder.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image, ImageDraw

BENCH = Path(__file__).resolve().parent.parent / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import burned_in  # noqa: E402
import tesseract_finder  # noqa: E402
import text_finder  # noqa: E402
from text_scoring import reads_as, score  # noqa: E402


@pytest.fixture(scope="module")
def small_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return burned_in.generate(40, 14, tmp_path_factory.mktemp("burned-in") / "small")


def truths(folder: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(p.read_text()) for p in sorted((folder / "truth").glob("*.json"))]


def test_the_set_has_every_kind_cine_and_clean_images(small_set: Path) -> None:
    ts = truths(small_set)
    assert len(ts) == 40
    assert {t["kind"] for t in ts} == {"CT", "MR", "CR", "XA", "US"}
    assert sum(t["clean"] for t in ts) >= 4
    assert {t["kind"] for t in ts if t["frames"] > 1} == {"US", "XA"}
    assert {t["photometric"] for t in ts if t["kind"] == "CR"} == {"MONOCHROME1"}
    assert {t["photometric"] for t in ts if t["kind"] == "US"} == {"RGB"}


def test_truth_boxes_are_inside_the_image_and_on_ink(small_set: Path) -> None:
    for t in truths(small_set):
        assert bool(t["boxes"]) is not t["clean"], t["file"]
        pixels, _ = text_finder.load(small_set / "images" / t["file"])
        assert pixels.shape[:3] == (t["frames"], t["rows"], t["columns"])
        for b in t["boxes"]:
            assert b["x"] >= 0 and b["x"] + b["width"] <= t["columns"], (t["file"], b)
            assert b["y"] >= 0 and b["y"] + b["height"] <= t["rows"], (t["file"], b)
            assert 0 <= b["frame"] < t["frames"]
            region = pixels[b["frame"], b["y"] : b["y"] + b["height"], b["x"] : b["x"] + b["width"]]
            assert np.ptp(region) > 0, (t["file"], b)  # ink on something: not a flat patch


def test_burned_in_identifiers_spell_the_header(small_set: Path) -> None:
    """Every box that claims a header attribute spells that file's value (as the scoring recognises it)."""
    seen = set()
    for t in truths(small_set):
        ds = pydicom.dcmread(small_set / "images" / t["file"], stop_before_pixels=True)
        assert t["header"]["PatientName"] == str(ds.PatientName)
        for b in t["boxes"]:
            if b["matches"]:
                assert b["is_phi"]
                assert reads_as(b["text"], b["matches"], t["header"]), (t["file"], b)
                seen.add(b["matches"])
    assert seen == {
        "PatientName",
        "PatientID",
        "AccessionNumber",
        "PatientBirthDate",
        "StudyDate",
        "InstitutionName",
    }


def test_cine_stamps_change_per_frame_and_one_text_is_on_a_single_frame(small_set: Path) -> None:
    for t in (t for t in truths(small_set) if t["frames"] > 1):
        stamps = [b for b in t["boxes"] if "cine_stamp" in b["tags"]]
        assert sorted(b["frame"] for b in stamps) == list(range(t["frames"]))
        assert len({b["text"] for b in stamps}) == t["frames"]
        single = [b for b in t["boxes"] if "single_frame" in b["tags"]]
        assert len(single) == 1 and single[0]["is_phi"]


def test_the_set_is_the_same_from_the_same_seed(small_set: Path, tmp_path: Path) -> None:
    again = burned_in.generate(40, 14, tmp_path / "again")
    for name in ("000-us.dcm", "001-us-cine.dcm", "034-cr.dcm"):
        assert (again / "images" / name).read_bytes() == (small_set / "images" / name).read_bytes()


def test_the_harness_scores_whole_image_and_nothing_finders(small_set: Path) -> None:
    rows = text_finder.run_set(small_set, {"whole": text_finder.whole, "none": text_finder.nothing})
    everything, nothing = score(rows["whole image"].runs), score(rows["nothing"].runs)
    assert everything.text_boxes.hit == everything.text_boxes.total > 0
    assert everything.phi_boxes.hit == everything.phi_boxes.total > 0
    assert everything.clean_touched.hit == everything.clean_touched.total > 0
    assert everything.header_marked.hit == 0  # it reads nothing
    assert everything.over_redaction > 0.9
    assert nothing.text_boxes.hit == nothing.clean_touched.hit == 0
    assert nothing.over_redaction == 0
    assert nothing.text_boxes.total == everything.text_boxes.total


def test_halves_are_blocks_of_six_files_each_with_clean_images(small_set: Path) -> None:
    """--halves: the thresholds are tuned on one half and reported on the other; both hold clean images."""
    rows = text_finder.run_set(small_set, {"none": text_finder.nothing})
    halves = text_finder.by_half(rows, small_set)
    tune, report = halves["nothing [tune half]"].runs, halves["nothing [report half]"].runs
    names = [r.name for r in rows["nothing"].runs]
    assert [r.name for r in tune] == [n for i, n in enumerate(names) if (i // 6) % 2 == 0]
    assert sorted(r.name for r in tune + report) == sorted(names)
    assert any(not r.truth for r in tune) and any(not r.truth for r in report)


def test_a_finder_that_fails_is_reported(small_set: Path) -> None:
    def broken(pixels: np.ndarray, photometric: str) -> dict[str, list[object]]:
        raise RuntimeError("model missing")

    rows = text_finder.run_set(small_set, {"broken": broken}, limit=3)
    assert len(rows["broken"].errors) == 3 and "model missing" in rows["broken"].errors[0]


def test_boxes_on_frames_the_image_does_not_have_are_reported(small_set: Path) -> None:
    def one_based(pixels: np.ndarray, photometric: str) -> dict[str, list[object]]:
        return {"one-based": [text_finder.WholeFrame(pixels.shape[0], 0, 0, 10, 10)]}

    rows = text_finder.run_set(small_set, {"one-based": one_based}, limit=2)
    assert len(rows["one-based"].errors) == 2 and "frame out of range" in rows["one-based"].errors[0]


TSV = "\n".join(
    [
        "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext",
        "1\t1\t0\t0\t0\t0\t0\t0\t640\t480\t-1\t",
        "4\t1\t1\t1\t1\t0\t10\t5\t120\t14\t-1\t",
        "5\t1\t1\t1\t1\t1\t10\t5\t60\t14\t91.5\tTANAKA,",
        "5\t1\t1\t1\t1\t2\t76\t6\t54\t13\t88.0\tROSA",
        "5\t1\t2\t1\t1\t1\t300\t400\t8\t20\t12.0\t|",
        "5\t1\t3\t1\t1\t1\t500\t400\t30\t20\t95.0\t ",
    ]
)


def test_tesseract_tsv_words_are_joined_into_lines() -> None:
    words = tesseract_finder.parse_tsv(TSV, frame=2)
    assert [w.text for w in words] == ["TANAKA,", "ROSA", "|"]
    lines = sorted(tesseract_finder.lines_of(words), key=lambda f: f.x)
    assert [(f.frame, f.x, f.y, f.width, f.height, f.text) for f in lines] == [
        (2, 10, 5, 120, 14, "TANAKA, ROSA"),
        (2, 300, 400, 8, 20, "|"),
    ]
    assert [f.text for f in tesseract_finder.lines_of(words, min_confidence=60)] == ["TANAKA, ROSA"]


@pytest.mark.skipif(not tesseract_finder.available(), reason="Debian tesseract-ocr not installed")
def test_tesseract_finds_large_plain_text() -> None:
    img = Image.new("L", (640, 480), 0)
    ImageDraw.Draw(img).text((40, 200), "OKAFOR 1234567", fill=255, font_size=28)
    found = tesseract_finder.find_text(np.asarray(img)[None])
    assert any("OKAFOR" in f.text and f.x <= 42 and 195 <= f.y <= 215 for f in found), found
