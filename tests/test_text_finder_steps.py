"""The text finder's pre- and post-processing, step by step, without the models: the arithmetic the page
must port exactly (redaction/text_finder: prepare, resize, detect, recognize)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from redaction.text_finder.detect import (
    BINARY_THRESHOLD,
    BOX_THRESHOLD,
    MEAN,
    PAD,
    STD,
    Box,
    boxes_from_map,
    components,
    detection_input,
    input_size,
    padded,
)
from redaction.text_finder.models import read_characters
from redaction.text_finder.prepare import to_rgb8
from redaction.text_finder.recognize import (
    BATCH,
    MIN_WIDTH,
    batches,
    ctc_greedy,
    read_boxes,
    recognition_input,
    recognize,
)
from redaction.text_finder.resize import resize_bilinear


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ((480, 640), (480, 640)),
        ((512, 512), (512, 512)),
        ((100, 50), (96, 64)),
        ((10, 10), (32, 32)),
        ((1024, 2048), (480, 960)),
        ((600, 800), (608, 800)),
    ],
)
def test_input_size_is_a_multiple_of_32_within_the_limit(
    shape: tuple[int, int], expected: tuple[int, int]
) -> None:
    assert input_size(*shape) == expected


def test_windowing_keeps_text_at_the_top_white_and_inverts_monochrome1() -> None:
    frame = np.array([[0, 1000], [2000, 4095]], dtype=np.uint16)
    grey = to_rgb8(frame, "MONOCHROME2")[:, :, 0]
    assert grey.tolist() == [[0, 62], [125, 255]]  # floor((v - 0) * 255 / 4095 + 0.5)
    assert to_rgb8(frame, "MONOCHROME1")[:, :, 0].tolist() == [[255, 193], [130, 0]]
    signed = np.array([[-1024, 3071]], dtype=np.int16)
    assert to_rgb8(signed, "MONOCHROME2")[0, :, 0].tolist() == [0, 255]
    assert to_rgb8(np.full((2, 2), 7, dtype=np.uint16), "MONOCHROME2").max() == 0  # a flat frame
    eight = np.array([[3, 250]], dtype=np.uint8)
    assert to_rgb8(eight, "MONOCHROME2")[0, :, 2].tolist() == [3, 250]  # 8 bits as stored
    rgb = np.zeros((1, 1, 3), dtype=np.uint8) + np.array([1, 2, 3], dtype=np.uint8)
    assert to_rgb8(rgb, "RGB").tolist() == [[[1, 2, 3]]]


def test_resize_bilinear_aligns_pixel_centres() -> None:
    img = np.array([[0, 10], [20, 30]], dtype=np.uint8)[:, :, None]
    up = resize_bilinear(img, 4, 4)[:, :, 0]
    # Output x 0..3 samples input x = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
    assert up[0].tolist() == [0.0, 2.5, 7.5, 10.0]
    assert up[:, 0].tolist() == [0.0, 5.0, 15.0, 20.0]
    assert resize_bilinear(img, 2, 2)[:, :, 0].tolist() == [[0, 10], [20, 30]]


def test_detection_input_is_bgr_normalised() -> None:
    img = np.zeros((32, 32, 3), dtype=np.uint8)
    img[:, :, 0] = 255  # red
    tensor = detection_input(img)
    assert tensor.shape == (1, 3, 32, 32) and tensor.dtype == np.float32
    assert tensor[0, 2, 0, 0] == pytest.approx((1 - MEAN[2]) / STD[2])  # red is the third channel
    assert tensor[0, 0, 0, 0] == pytest.approx((0 - MEAN[0]) / STD[0])


def test_components_are_8_connected_in_order_of_their_first_pixel() -> None:
    bitmap = np.zeros((6, 8), dtype=bool)
    bitmap[0, 5:7] = True
    bitmap[1, 4] = True  # touches (0, 5) diagonally: one component
    bitmap[3:5, 0:3] = True
    bitmap[5, 3] = True  # diagonal again
    bitmap[4, 6] = True  # alone
    assert components(bitmap) == [(4, 0, 7, 2), (0, 3, 4, 6), (6, 4, 7, 5)]
    u = np.zeros((3, 5), dtype=bool)
    u[:, 0] = u[:, 4] = u[2, :] = True  # a U: two arms joined below
    assert components(u) == [(0, 0, 5, 3)]


def test_boxes_from_map_score_unclip_and_scale() -> None:
    prob = np.zeros((32, 64), dtype=np.float32)
    prob[10:14, 8:28] = 0.9  # 20 x 4 map pixels
    prob[20:22, 40:60] = 0.9  # 2 pixels high: under the minimum size
    prob[25:29, 40:50] = 0.45  # above the binary threshold, under the box threshold
    assert BINARY_THRESHOLD < 0.45 < BOX_THRESHOLD
    (box,) = boxes_from_map(prob, 64, 128)  # the image is twice the map's size
    # d = 20 * 4 * 1.5 / (2 * (20 + 4)) = 2.5; left floor((8 - 2.5) * 2) = 11, top floor((10 - 2.5) * 2) = 15,
    # right ceil((28 + 2.5) * 2) = 61, bottom ceil((14 + 2.5) * 2) = 33.
    assert (box.x, box.y, box.width, box.height) == (11, 15, 50, 18)
    assert box.score == pytest.approx(0.9)


def test_the_image_is_padded_black_before_detection() -> None:
    """Text 1-2 px from the edge was the commonest miss: the network is shown black beyond the edge."""
    img = np.full((480, 640, 3), 200, dtype=np.uint8)
    big = padded(img)
    assert PAD == 16 and big.shape == (512, 672, 3)
    assert (big[:PAD] == 0).all() and (big[:, -PAD:] == 0).all() and (big[PAD:-PAD, PAD:-PAD] == 200).all()
    assert detection_input(big).shape == (1, 3, 512, 672)


def test_boxes_from_a_padded_map_come_back_to_image_pixels_with_their_kernel() -> None:
    prob = np.zeros((64, 96), dtype=np.float32)
    prob[20:24, 30:50] = 0.9  # 20 x 4 map pixels, d = 2.5 (as above); the map is the padded image's size
    (box,) = boxes_from_map(prob, 64 - 2 * 8, 96 - 2 * 8, pad=8)
    # left floor(30 - 2.5) - 8 = 19, top floor(20 - 2.5) - 8 = 9, right ceil(50 + 2.5) - 8 = 45, bottom 19.
    assert (box.x, box.y, box.width, box.height) == (19, 9, 26, 10)
    assert box.kernel == (22, 12, 42, 16)  # the component itself, less the padding
    prob = np.zeros((64, 96), dtype=np.float32)
    prob[2:8, 2:20] = 0.9  # text in the padding's corner: clipped to the image
    (box,) = boxes_from_map(prob, 48, 80, pad=8)
    assert (box.x, box.y) == (0, 0) and box.kernel is not None and box.kernel[:2] == (0, 0)


def test_boxes_at_the_border_are_clipped_not_cut() -> None:
    prob = np.zeros((32, 32), dtype=np.float32)
    prob[0:4, 0:10] = 0.95
    (box,) = boxes_from_map(prob, 32, 32)
    assert (box.x, box.y) == (0, 0) and box.width >= 10 and box.height >= 4


def test_recognition_input_height_48_padded_with_zeros() -> None:
    img = np.full((20, 100, 3), 255, dtype=np.uint8)
    tensor = recognition_input(img, Box(0, 0, 40, 20, 1.0))
    assert tensor.shape == (1, 3, 48, MIN_WIDTH)
    assert tensor[0, :, :, :96].min() == pytest.approx(1.0)  # white: (1 - 0.5) / 0.5; t = 48 * 40 / 20
    assert (tensor[0, :, :, 96:] == 0).all()
    tall = recognition_input(img, Box(0, 0, 10, 20, 1.0))  # height >= 1.5 width: turned
    assert tall.shape == (1, 3, 48, MIN_WIDTH)


def test_ctc_greedy_collapses_repeats_and_drops_blanks() -> None:
    chars = ("", "a", "b", " ")
    path = [1, 1, 0, 1, 2, 2, 0, 0, 3, 1]
    probs = np.full((len(path), 4), 0.1, dtype=np.float32)
    for t, c in enumerate(path):
        probs[t, c] = 0.7
    text, score = ctc_greedy(probs, chars)
    assert text == "aab a" and score == pytest.approx(0.7)
    assert ctc_greedy(np.eye(4, dtype=np.float32)[[0, 0]], chars) == ("", 0.0)


def test_keys_file_gives_blank_keys_and_space(tmp_path: Path) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text("a\nb\nc\n", encoding="utf-8")
    assert read_characters(keys) == ("", "a", "b", "c", " ")


@pytest.mark.parametrize(
    ("widths", "expected"),
    [
        ([], []),
        ([320, 320, 400, 320], [[0, 1, 3], [2]]),
        ([500, 320, 400], [[1], [2], [0]]),
        ([320] * (BATCH + 2), [list(range(BATCH)), [BATCH, BATCH + 1]]),
    ],
)
def test_batches_join_equal_widths_in_order_at_most_batch(
    widths: list[int], expected: list[list[int]]
) -> None:
    assert batches(widths) == expected


class _Session:
    """A recogniser that reads each batch item from its own tensor: column c's class is 1 + (the item's
    rounded mean of column 8c, first channel) mod 3, so a box given another's tensor reads otherwise."""

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    class _Input:
        name = "x"

    def get_inputs(self) -> list[Any]:
        return [self._Input()]

    def run(self, _: Any, feeds: dict[str, np.ndarray[Any, Any]]) -> list[np.ndarray[Any, Any]]:
        x = feeds["x"]
        self.shapes.append(x.shape)
        cls = 1 + np.round(x[:, 0, :, ::8].mean(axis=1) * 10).astype(int) % 3
        out = np.full((x.shape[0], x.shape[3] // 8, 4), 0.1, dtype=np.float32)
        np.put_along_axis(out, cls[:, :, None], 0.7, axis=2)
        return [out]


def _picture() -> tuple[np.ndarray[Any, Any], list[Box]]:
    rng = np.random.default_rng(5)
    img = rng.integers(0, 256, (60, 900, 3)).astype(np.uint8)
    boxes = [
        Box(0, 0, 40, 20, 1.0),
        Box(0, 20, 500, 20, 1.0),
        Box(50, 5, 30, 20, 1.0),
        Box(300, 30, 20, 30, 1.0),
    ]
    return img, boxes


def test_read_boxes_runs_a_batch_per_width_and_reads_each_box_as_alone() -> None:
    img, boxes = _picture()
    session = _Session()
    chars = ("", "a", "b", "c")
    alone = [recognize(_Session(), chars, img, box) for box in boxes]
    assert len(set(alone)) == len(alone), "the fake session must tell the boxes apart"
    assert read_boxes(session, chars, img, boxes) == alone
    assert session.shapes == [(3, 3, 48, MIN_WIDTH), (1, 3, 48, 1200)]  # 500 * 48 / 20 = 1200


def test_a_crop_read_before_is_not_run_again() -> None:
    img, boxes = _picture()
    chars = ("", "a", "b", "c")
    known: dict[bytes, tuple[str, float]] = {}
    first = read_boxes(_Session(), chars, img, boxes, known)
    again = _Session()
    moved = img.copy()
    moved[0:20, 0:40] = 255 - moved[0:20, 0:40]  # the first box's pixels change: read again, alone
    second = read_boxes(again, chars, moved, [*boxes, boxes[2]], known)
    assert again.shapes == [(1, 3, 48, MIN_WIDTH)]
    assert second[1:] == [*first[1:], first[2]]
    assert second[0] == recognize(_Session(), chars, moved, boxes[0])
