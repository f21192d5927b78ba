"""The page's text detector and recogniser (static/text_finder, onnxruntime-web's wasm backend under Node)
against the native ones (redaction/text_finder, onnxruntime): the detector's input tensor bit for bit, the
same number of boxes on each frame, each edge within 2 px (issue 14's parity goal); for every native box,
the same recogniser input tensor (bit for bit) and the same string read. Frames are rendered with Pillow
(tests/text_images.py): CT-like 12-bit grey, CR MONOCHROME1, ultrasound-like RGB with yellow text (also as
a canvas's RGBA), large frames the network shrinks (the resize step; 1024x768 by a step that is not exact
in float32), a clean frame with strong edges, and single letters (turned before reading) with a line wider
than the recogniser's minimum. Needs the models (tools/fetch_models.py) and Node with
node_modules/onnxruntime-web (`npm ci`); skipped with the reason when the models are absent."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from text_images import LABELS_CT, Label, ct_picture, draw, edges_picture, us_picture

from redaction.text_finder.models import (
    DETECTION_FILE,
    KEYS_FILE,
    RECOGNITION_FILE,
    missing_reason,
    models_dir,
)
from redaction.text_finder.recognize import HEIGHT, MIN_WIDTH, VERTICAL_RATIO

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = REPO_ROOT / "tests" / "text_finder_parity.mjs"
ORT_WEB = REPO_ROOT / "node_modules" / "onnxruntime-web" / "package.json"
MISSING = missing_reason()
pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"text finder cannot run: {MISSING}")
TOLERANCE = 2  # px, on each edge (issue 14)


@dataclass(frozen=True)
class Frame:
    name: str
    samples: np.ndarray[Any, Any]  # (rows, columns) grey or (rows, columns, channels)
    photometric: str


def _frames() -> list[Frame]:
    mask, _ = draw((480, 640), LABELS_CT)
    ct = ct_picture()
    ct[mask] = 4095  # the top of 12 bits, as scanners burn text
    cr = (4095 - ct_picture()).astype(np.uint16)
    cr[mask] = 0  # MONOCHROME1: the smallest value shows white
    us_mask, _ = draw((480, 640), [*LABELS_CT, Label("SAINT ELSEWHERE HOSPITAL", 330, 12, 14)])
    us = us_picture()
    us[us_mask] = (230, 220, 40)  # yellow text
    rgba = np.concatenate([us, np.full((480, 640, 1), 255, np.uint8)], axis=2)
    big_mask, _ = draw(
        (900, 1200), [Label("DOE, JOHN 11.03.2024", 40, 30, 28), Label("ID 12345678", 900, 850, 22)]
    )
    big = np.zeros((900, 1200), np.uint8)
    big[big_mask] = 220
    return [
        Frame("ct_12bit", ct, "MONOCHROME2"),
        Frame("cr_monochrome1", cr, "MONOCHROME1"),
        Frame("us_rgb", us, "RGB"),
        Frame("us_rgba", rgba, "RGB"),
        Frame("large_8bit_resized", big, "MONOCHROME2"),
        Frame("xa_1024x768_resized", _xa(), "MONOCHROME2"),
        Frame("clean_edges", edges_picture(), "MONOCHROME2"),
        Frame("markers_and_a_long_line", _markers(), "MONOCHROME2"),
    ]


def _xa() -> np.ndarray[Any, Any]:
    """1024x768, shrunk to 960x736 by the detector: 768 / 736 is not exact in float32."""
    mask, _ = draw((768, 1024), [Label("DOE, JOHN", 30, 30, 24), Label("11.03.2024 14:22", 760, 720, 20)])
    yy, xx = np.mgrid[:768, :1024]
    noise = np.random.default_rng(11).integers(60, 120, (768, 1024))  # flat areas hide a wrong weight
    img = np.where((yy - 384) ** 2 + (xx - 512) ** 2 < 360**2, noise, 10).astype(np.uint8)
    img[mask] = 240
    return img


def _markers() -> np.ndarray[Any, Any]:
    """Letters, one a box and a column of them (boxes taller than 1.5 times their width: turned before
    reading), and a line wider than the recogniser's minimum input (a batch of its own)."""
    labels = [Label("R", 20, 20, 28), Label("L", 600, 20, 28), Label("7", 300, 420, 24)]
    labels.append(Label("I", 400, 100, 40))
    labels += [Label(c, 560, 150 + 22 * i, 20) for i, c in enumerate("HEAD")]
    labels.append(Label("RIVERSIDE CLINIC DEPT OF RADIOLOGY 11/03/2024 14:22:05", 20, 240, 16))
    mask, _ = draw((480, 640), labels)
    img = np.zeros((480, 640), np.uint8)
    img[mask] = 200
    return img


def _native(frame: Frame) -> list[tuple[int, int, int, int]]:
    from redaction.text_finder.detect import detect
    from redaction.text_finder.models import load_models
    from redaction.text_finder.prepare import to_rgb8

    samples = frame.samples[:, :, :3] if frame.samples.ndim == 3 else frame.samples
    boxes = detect(load_models().detection, to_rgb8(samples, frame.photometric))
    return [(b.x, b.y, b.x + b.width, b.y + b.height) for b in boxes]


def _fitted(frame: Frame) -> list[tuple[int, int, int, int]]:
    """The native detector's boxes fitted to the ink (tighten), as find_text fits them."""
    from redaction.text_finder.detect import detect
    from redaction.text_finder.models import load_models
    from redaction.text_finder.prepare import to_rgb8
    from redaction.text_finder.tighten import tighten

    samples = frame.samples[:, :, :3] if frame.samples.ndim == 3 else frame.samples
    image = to_rgb8(samples, frame.photometric)
    fitted = [tighten(image, b) for b in detect(load_models().detection, image)]
    return [(b.x, b.y, b.x + b.width, b.y + b.height) for b in fitted]


def _node() -> str:
    node = os.environ.get("PACSBIN_NODE") or shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH (set $PACSBIN_NODE): the page's detector is tested under Node")
    if not ORT_WEB.is_file():
        proc = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=REPO_ROOT, capture_output=True, text=True
        )
        assert proc.returncode == 0, f"`npm ci` failed: {proc.stdout}{proc.stderr}"
    return node


def _in_node(
    frames: list[Frame],
    tmp: Path,
    repeat: int = 1,
    boxes: list[list[tuple[int, int, int, int]]] | None = None,
    threads: int = 1,
) -> dict[str, Any]:
    """The page's finder on `frames` under Node; with `boxes` (the native ones, per frame), its
    recogniser too: what those boxes read and the SHA-256 of their input tensors."""
    entries = []
    for n, frame in enumerate(frames):
        path = tmp / f"{frame.name}.raw"
        frame.samples.astype(frame.samples.dtype.newbyteorder("<")).tofile(path)
        rows, columns = frame.samples.shape[:2]
        entries.append(
            {
                "path": str(path),
                "width": columns,
                "height": rows,
                "channels": 1 if frame.samples.ndim == 2 else frame.samples.shape[2],
                "photometric": frame.photometric,
                "bits": frame.samples.dtype.itemsize * 8,
            }
        )
        if boxes is not None:
            entries[-1]["boxes"] = [
                {"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0} for x0, y0, x1, y1 in boxes[n]
            ]
    manifest = tmp / "manifest.json"
    folder = models_dir()
    settings: dict[str, Any] = {
        "model": str(folder / DETECTION_FILE),
        "frames": entries,
        "repeat": repeat,
        "threads": threads,
    }
    if boxes is not None:
        settings["recognition"] = {"model": str(folder / RECOGNITION_FILE), "keys": str(folder / KEYS_FILE)}
    manifest.write_text(json.dumps(settings))
    proc = subprocess.run(
        [_node(), str(HOST), str(manifest)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def _same(name: str, page: list[dict[str, Any]], native: list[tuple[int, int, int, int]]) -> None:
    js = [(b["x"], b["y"], b["x"] + b["width"], b["y"] + b["height"]) for b in page]
    assert len(js) == len(native), f"{name}: page {js}, native {native}"
    for a, b in zip(js, native, strict=True):
        assert max(abs(p - q) for p, q in zip(a, b, strict=True)) <= TOLERANCE, f"{name}: {a} vs {b}"


def test_page_detector_finds_the_native_boxes_within_2_px(tmp_path: Path) -> None:
    frames = _frames()
    page = _in_node(frames, tmp_path)["frames"]
    for frame, found in zip(frames, page, strict=True):
        native = _native(frame)
        _same(frame.name, found["boxes"], native)
        _same(f"{frame.name}, fitted to the ink", found["tightened"], _fitted(frame))
        assert found["detection_tensor"] == _detection_tensor(frame), (
            f"{frame.name}: the input tensor differs"
        )
        if frame.name == "clean_edges":
            assert native == [], f"the clean frame is touched natively: {native}"
        else:
            assert native, f"{frame.name}: no text found natively, the comparison would be empty"


def _detection_tensor(frame: Frame) -> str:
    """The SHA-256 of the native detector's input tensor (of the padded image, as detect makes it)."""
    import hashlib

    from redaction.text_finder.detect import detection_input, padded
    from redaction.text_finder.prepare import to_rgb8

    samples = frame.samples[:, :, :3] if frame.samples.ndim == 3 else frame.samples
    tensor = detection_input(padded(to_rgb8(samples, frame.photometric)))
    return hashlib.sha256(tensor.tobytes()).hexdigest()


def _native_reads(
    frame: Frame, boxes: list[tuple[int, int, int, int]]
) -> tuple[list[str], list[float], list[str]]:
    """What the native recogniser reads in `boxes` and the SHA-256 of each box's input tensor."""
    import hashlib

    from redaction.text_finder.detect import Box
    from redaction.text_finder.models import load_models
    from redaction.text_finder.prepare import to_rgb8
    from redaction.text_finder.recognize import read_boxes, recognition_input

    models = load_models()
    samples = frame.samples[:, :, :3] if frame.samples.ndim == 3 else frame.samples
    image = to_rgb8(samples, frame.photometric)
    native = [Box(x0, y0, x1 - x0, y1 - y0, 1.0) for x0, y0, x1, y1 in boxes]
    reads = read_boxes(models.recognition, models.characters, image, native)
    tensors = [hashlib.sha256(recognition_input(image, box).tobytes()).hexdigest() for box in native]
    return [text for text, _ in reads], [score for _, score in reads], tensors


def test_page_recogniser_reads_what_the_native_one_reads_from_the_same_tensor(tmp_path: Path) -> None:
    frames = _frames()
    boxes = [_native(frame) for frame in frames]
    page = _in_node(frames, tmp_path, boxes=boxes)["frames"]
    read = turned = wide = 0
    for frame, found, native_boxes in zip(frames, page, boxes, strict=True):
        texts, scores, tensors = _native_reads(frame, native_boxes)
        assert found["tensors"] == tensors, f"{frame.name}: the page's input tensors differ from the native"
        assert found["native_texts"] == texts, f"{frame.name}"
        # The confidence filters.keep_read judges: the same on both sides up to the runtimes' float32
        # kernels (onnxruntime-web's wasm SIMD vs the native CPU ones: ~1e-6 seen)
        assert found["native_scores"] == pytest.approx(scores, abs=1e-4), f"{frame.name}"
        read += sum(1 for t in texts if t.strip())
        turned += sum(1 for x0, y0, x1, y1 in native_boxes if y1 - y0 >= VERTICAL_RATIO * (x1 - x0))
        wide += sum(1 for x0, y0, x1, y1 in native_boxes if HEIGHT * (x1 - x0) > MIN_WIDTH * (y1 - y0))
    assert read >= 15 and turned >= 1 and wide >= 2, f"{read} read, {turned} turned, {wide} wide: too thin"


READS = [
    ("DOE JOHN", 0.93),
    ("L", 0.99),
    ("", 0.0),
    ("   ", 0.9),
    ("幸", 0.05),
    ("RS", 0.32),
    ("8", 0.7),
    ("8", 0.6999),
]


def test_page_keeps_the_same_readings_as_the_native_filter() -> None:
    """filters.mjs's keepRead against filters.keep_read on readings of text and of false alarms."""
    from redaction.text_finder.filters import keep_read

    script = (
        "import { keepRead } from './static/text_finder/filters.mjs';"
        f"console.log(JSON.stringify({json.dumps(READS)}.map(([t, s]) => keepRead(t, s))));"
    )
    proc = subprocess.run(
        [_node(), "--input-type=module", "-e", script], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        json.loads(proc.stdout)
        == [keep_read(t, s) for t, s in READS]
        == [True, True, False, False, False, False, True, False]
    )
