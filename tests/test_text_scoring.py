"""The burned-in benchmark's scoring (bench/text_scoring.py) on tiny hand-made cases."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bench.text_scoring import Box, ImageRun, coverage, found_box, over_redaction, reads_as, score

HEADER = {
    "PatientName": "TANAKA^ROSA",
    "PatientID": "H5173485",
    "AccessionNumber": "A39135081",
    "PatientBirthDate": "19850614",
    "StudyDate": "20260302",
    "InstitutionName": "ST. MARY HOSPITAL",
}


@dataclass(frozen=True)
class Found:
    """What a finder returns (the shape of redaction.text_finder's Found)."""

    frame: int
    x: float
    y: float
    width: float
    height: float
    text: str = ""
    score: float = 1.0


def truth(x: int = 10, y: int = 10, w: int = 20, h: int = 10, *, frame: int = 0, **kw: object) -> Box:
    return Box(frame, x, y, w, h, **kw)  # type: ignore[arg-type]


def run(
    truths: list[Box],
    found: list[object],
    *,
    rows: int = 100,
    cols: int = 100,
    frames: int = 1,
    seconds: float = 0.0,
) -> ImageRun:
    return ImageRun(
        "t", rows, cols, frames, tuple(truths), tuple(found_box(f) for f in found), seconds, HEADER
    )


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        ([Found(0, 10, 10, 20, 10)], 1.0),
        ([Found(0, 5, 5, 40, 30)], 1.0),  # a larger box covers
        ([Found(0, 10, 10, 19, 10)], 0.95),  # one column of 20 missing: still >= 95%
        ([Found(0, 10, 10, 18, 10)], 0.90),
        ([Found(0, 10, 10, 10, 10), Found(0, 20, 10, 10, 10)], 1.0),  # the union counts
        ([Found(0, 10, 10, 10, 10), Found(0, 10, 10, 10, 10)], 0.5),  # overlap counted once
        ([Found(1, 10, 10, 20, 10)], 0.0),  # another frame
        ([Found(0, 10.5, 10.5, 19.2, 9.0)], 1.0),  # fractional edges widen to whole pixels
        ([], 0.0),
    ],
)
def test_coverage(found: list[Found], expected: float) -> None:
    assert coverage(truth(), [found_box(f) for f in found], 100, 100) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("found", "covered"),
    [([Found(0, 10, 10, 19, 10)], 1), ([Found(0, 10, 10, 18, 10)], 0), ([Found(0, 0, 0, 100, 100)], 1)],
)
def test_a_box_is_covered_at_95_percent(found: list[Found], covered: int) -> None:
    s = score([run([truth(is_phi=True)], found)])
    assert (s.text_boxes.hit, s.text_boxes.total) == (covered, 1)
    assert (s.phi_boxes.hit, s.phi_boxes.total) == (covered, 1)


def test_phi_boxes_are_counted_apart_from_other_text() -> None:
    s = score([run([truth(is_phi=True), truth(50, 50, is_phi=False)], [Found(0, 50, 50, 20, 10)])])
    assert (s.text_boxes.hit, s.text_boxes.total) == (1, 2)
    assert (s.phi_boxes.hit, s.phi_boxes.total) == (0, 1)


@pytest.mark.parametrize(("found", "touched"), [([], 0), ([Found(0, 1, 1, 2, 2)], 1)])
def test_clean_images_touched(found: list[Found], touched: int) -> None:
    s = score([run([], found), run([truth()], [Found(0, 10, 10, 20, 10)])])
    assert (s.clean_touched.hit, s.clean_touched.total) == (touched, 1)


@pytest.mark.parametrize(
    ("found", "frames", "expected"),
    [
        ([Found(0, 10, 10, 20, 10)], 1, 0.0),  # exactly the truth box
        ([Found(0, 10, 10, 40, 10)], 1, 0.02),  # 20x10 beyond it on a 100x100 image
        ([Found(0, 60, 60, 10, 10)], 1, 0.01),  # nowhere near text
        ([Found(0, 60, 60, 10, 10)], 2, 0.005),  # mean over frames: nothing found on frame 1
        ([Found(0, 60, 60, 10, 10), Found(0, 60, 60, 10, 10)], 1, 0.01),  # overlaps counted once
    ],
)
def test_over_redaction(found: list[Found], frames: int, expected: float) -> None:
    assert over_redaction(run([truth()], found, frames=frames)) == pytest.approx(expected)


def test_over_redaction_is_the_mean_over_images() -> None:
    s = score([run([truth()], [Found(0, 10, 10, 40, 10)]), run([], [])])
    assert s.over_redaction == pytest.approx(0.01)


@pytest.mark.parametrize(
    ("keyword", "text", "expected"),
    [
        ("PatientName", "TANAKA, ROSA", True),
        ("PatientName", "TANAKA^ROSA", True),
        ("PatientName", "Rosa Tanaka", True),
        ("PatientName", "TANAKO", False),
        ("PatientID", "ID: H5173485", True),
        ("PatientID", "H517348", False),
        ("AccessionNumber", "Acc# A39135081", True),
        ("PatientBirthDate", "DOB 06/14/1985", True),
        ("PatientBirthDate", "14/06/1985", True),
        ("PatientBirthDate", "14-JUN-1985", True),
        ("PatientBirthDate", "1985-06-14", True),
        ("PatientBirthDate", "19850614", True),
        ("PatientBirthDate", "15/06/1985", False),
        ("StudyDate", "2026-03-02", True),
        ("InstitutionName", "ST. MARY HOSPITAL", True),
        ("InstitutionName", "ST. MARY", False),
        ("PatientName", "", False),
    ],
)
def test_reads_as(keyword: str, text: str, expected: bool) -> None:
    assert reads_as(text, keyword, HEADER) is expected


@dataclass(frozen=True)
class Marked(Found):
    matches: tuple[str, ...] = ()


@pytest.mark.parametrize(
    ("found", "marked"),
    [
        ([Found(0, 10, 10, 20, 10, "TANAKA, ROSA")], 1),  # read: checked against the header
        ([Found(0, 10, 10, 10, 10, "TANAKA,"), Found(0, 20, 10, 10, 10, "ROSA")], 1),  # words joined
        ([Found(0, 10, 10, 20, 10, "TANAK4 R0SA")], 0),  # misread
        ([Found(0, 10, 10, 20, 10)], 0),  # found, nothing read
        ([Found(0, 10, 10, 10, 10, "TANAKA, ROSA")], 0),  # read but not covered: not counted
        ([Marked(0, 10, 10, 20, 10, "", 1.0, ("PatientName",))], 1),  # the finder's own mark counts...
        ([Marked(0, 10, 10, 20, 10, "TANAKA", 1.0, ())], 0),  # ...also when it says no
        ([Marked(0, 10, 10, 20, 10, "", 1.0, ("PatientID",))], 0),
    ],
)
def test_header_boxes_found_and_marked(found: list[Found], marked: int) -> None:
    s = score([run([truth(is_phi=True, matches="PatientName")], found)])
    assert s.header_marked.hit == marked
    assert s.header_marked.total == s.header_found.total == 1


def test_found_boxes_on_no_text() -> None:
    s = score(
        [
            run(
                [truth()],
                [Found(0, 10, 10, 20, 10), Found(0, 70, 70, 5, 5), Found(1, 10, 10, 20, 10)],
                frames=2,
            )
        ]
    )
    assert (s.found_on_no_text.hit, s.found_on_no_text.total) == (2, 3)


def test_phi_by_tag() -> None:
    truths = [
        truth(is_phi=True, tags=("size:8-11", "low_contrast")),
        truth(50, 50, is_phi=True, tags=("size:8-11",)),
    ]
    s = score([run(truths, [Found(0, 10, 10, 20, 10)])])
    assert (s.phi_by_tag["size:8-11"].hit, s.phi_by_tag["size:8-11"].total) == (1, 2)
    assert (s.phi_by_tag["low_contrast"].hit, s.phi_by_tag["low_contrast"].total) == (1, 1)


def test_ms_per_640x480_frame_counts_only_those_images() -> None:
    runs = [
        run([], [], rows=480, cols=640, frames=4, seconds=0.2),
        run([], [], rows=480, cols=640, frames=1, seconds=0.05),
        run([], [], rows=768, cols=1024, frames=1, seconds=9.0),
    ]
    assert score(runs).ms_per_640x480_frame == pytest.approx(50.0)
    assert score(runs[2:]).ms_per_640x480_frame is None
