"""Viewer and redaction benchmark (issue 4): render a 512x512 CT frame and a 1024x768 RGB frame in the page,
and redact a 300-frame 640x480 RGB cine natively and in the browser's Python (Pyodide under Node).

    .venv/bin/python bench/viewer.py            # or: python3 build.py bench (set "viewer")

Figures are ratios against a peer measured in the same run: the page's time to show a frame (worker: read,
Python image call, transfer; page: window/level to RGBA, draw) against a native rendering of the same frame
(pydicom read + numpy window); our pure-Python redaction against numpy slice assignment on the same bytes.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from redaction.layout import layout_of  # noqa: E402
from redaction.rectangles import Rect, fill_rectangles  # noqa: E402

CINE = (300, 480, 640)  # frames, rows, columns
RECT = Rect(0, 0, 640, 60)  # an ultrasound banner


def _image(rows: int, cols: int, frames: int, rgb: bool) -> Dataset:
    rng = np.random.default_rng(1)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7" if rgb else "1.2.840.10008.5.1.4.1.1.2"
    ds.SOPInstanceUID, ds.SeriesInstanceUID, ds.StudyInstanceUID = (
        generate_uid(),
        generate_uid(),
        generate_uid(),
    )
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.Modality, ds.BurnedInAnnotation, ds.SeriesDescription = ("OT" if rgb else "CT"), "NO", f"{cols}x{rows}"
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, cols, frames
    if rgb:
        ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
        ds.PixelData = rng.integers(0, 255, (frames, rows, cols, 3), dtype=np.uint8).tobytes()
    else:
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept, ds.WindowCenter, ds.WindowWidth = 1, -1024, 40, 400
        ds.PixelData = rng.integers(0, 3000, (frames, rows, cols), dtype=np.int16).tobytes()
    return ds


def native_render_ms(path: Path, frame: int) -> float:
    t = time.perf_counter()
    ds = pydicom.dcmread(path)
    arr = ds.pixel_array[frame].astype(np.float64)
    if ds.SamplesPerPixel == 1:
        x = arr * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        c, w = float(ds.WindowCenter), float(ds.WindowWidth)
        y = np.clip(((x - (c - 0.5)) / (w - 1) + 0.5) * 255, 0, 255).astype(np.uint8)
        rgba = np.dstack([y, y, y, np.full_like(y, 255)])
    else:
        rgba = np.dstack([arr.astype(np.uint8), np.full(arr.shape[:2], 255, np.uint8)])
    assert rgba.shape[2] == 4
    return (time.perf_counter() - t) * 1000


def page_render(paths: list[Path], frames: int) -> dict[str, dict[str, float]]:
    """ms from asking for a frame (slider) to the canvas showing it, per file; first frame = opening."""
    from playwright.sync_api import sync_playwright

    from app.launch import start_server_process

    url, stop = start_server_process(ROOT / "dist")
    out: dict[str, dict[str, float]] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(url)
            page.locator("body[data-state=ready]").wait_for(timeout=60_000)
            page.set_input_files("#pick-files", [str(p) for p in paths])
            page.locator("#index-progress", has_text="in the list").wait_for(timeout=60_000)
            for path in paths:
                label = pydicom.dcmread(path, stop_before_pixels=True).SeriesDescription
                t = time.perf_counter()
                page.locator(f"button[aria-label$='{label}']").click()
                page.wait_for_selector("#viewer-canvas[data-shown='1']", timeout=60_000)
                first = (time.perf_counter() - t) * 1000
                steps = []
                for n in range(2, frames + 1):
                    t = time.perf_counter()
                    page.fill("#viewer-frame", str(n))
                    page.wait_for_selector(f"#viewer-canvas[data-shown='{n}']", timeout=60_000)
                    steps.append((time.perf_counter() - t) * 1000)
                out[label] = {
                    "open_ms": round(first, 1),
                    "frame_ms_median": round(statistics.median(steps), 1),
                }
            browser.close()
    finally:
        stop()
    return out


def native_redaction() -> dict[str, float]:
    frames, rows, cols = CINE
    ds = _image(rows, cols, frames, rgb=True)
    data = bytearray(ds.PixelData)
    t = time.perf_counter()
    fill_rectangles(data, layout_of(ds), [(RECT, None)])
    ours = time.perf_counter() - t
    arr = np.frombuffer(bytes(ds.PixelData), np.uint8).reshape(frames, rows, cols, 3).copy()
    t = time.perf_counter()
    arr[:, RECT.y : RECT.y + RECT.height, RECT.x : RECT.x + RECT.width] = 0
    peer = time.perf_counter() - t
    assert bytes(data) == arr.tobytes()
    return {"ours_ms": round(ours * 1000, 1), "numpy_ms": round(peer * 1000, 2)}


PYODIDE_SCRIPT = """
import json, time
from redaction.layout import Layout
from redaction.rectangles import Rect, fill_rectangles
frames, rows, cols = %r
layout = Layout(rows, cols, frames, 3, 8, 8, False, 0, "RGB")
data = bytearray(frames * rows * cols * 3)
t = time.perf_counter()
fill_rectangles(data, layout, [(Rect(0, 0, 640, 60), None)])
print(json.dumps({"pyodide_ms": round((time.perf_counter() - t) * 1000, 1)}))
"""


def pyodide_redaction(tmp: Path) -> dict[str, float]:
    script = tmp / "redact_cine.py"
    script.write_text(PYODIDE_SCRIPT % (CINE,))
    cmd = [
        "node",
        str(ROOT / "tools" / "pyodide_run.mjs"),
        "--wheels",
        str(ROOT / "vendor-wheels"),
        "--src",
        str(ROOT),
        str(script),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        return {"error": proc.stderr[-500:]}  # type: ignore[dict-item]
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run(out: Path) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ct, rgb = tmp / "ct.dcm", tmp / "rgb.dcm"
        _image(512, 512, 10, rgb=False).save_as(ct, enforce_file_format=True)
        _image(768, 1024, 10, rgb=True).save_as(rgb, enforce_file_format=True)
        native = {"512x512": native_render_ms(ct, 1), "1024x768": native_render_ms(rgb, 1)}
        shown = page_render([ct, rgb], 10)
        redaction = native_redaction() | pyodide_redaction(tmp)
    result: dict[str, object] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "render": {},
        "redact_cine": redaction,
    }
    lines = []
    for label, native_ms in native.items():
        page_ms = shown[label]
        result["render"][label] = {**page_ms, "native_ms": round(native_ms, 1)}  # type: ignore[index]
        lines.append(
            f"show a {label} frame: page {page_ms['frame_ms_median']} ms per frame "
            f"(opening {page_ms['open_ms']} ms),"
            f" native read+render {native_ms:.1f} ms: {page_ms['frame_ms_median'] / native_ms:.1f}x native"
        )
    lines.append(
        f"redact a {CINE[0]}-frame {CINE[2]}x{CINE[1]} RGB cine (one 640x60 banner): pure Python natively "
        f"{redaction['ours_ms']} ms ({redaction['ours_ms'] / redaction['numpy_ms']:.0f}x numpy's "
        f"{redaction['numpy_ms']} ms), in Pyodide {redaction.get('pyodide_ms', '?')} ms"
    )
    result["summary"] = lines
    for line in lines:
        print("  " + line)
    (out / "viewer.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    run(out_dir)
