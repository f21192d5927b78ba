"""The page's text scan against the native finder, same files, same run (issue 14: <= 300 ms a 640x480 frame
in the page).

    .venv/bin/python bench/page_text.py [--dist DIST] [--rounds N] [--threads N]

The folder (generated, git-ignored `bench/out/page_text/`): a 30-frame 640x480 ultrasound-like RGB cine (a
name and an ID in place on every frame, a time stamp that changes on each), two 512x512 CT slices with text
(12-bit) and two 640x480 secondary captures with text: 34 frames. The page (dist/ served by `python -m app
serve`, headless Chromium) is given the files with its file picker and scans them in the background as it
does for a user (static/textscan.mjs: engine.scanImage reads each frame, the text worker finds and reads its
text, crops already read in the same image are not read again). Timed in the page (an init script; the
page itself is not changed): the text worker's `load`, each `find` round trip (post to reply) and the
worker's own `ms` and `detectionMs`, and the scan from its first `find` to "done". The native finder
(redaction.text_finder.find_text, one image's frames at a time, as the CLI's --find-text) runs on the same
files in the same run, after each page round (the page's Chromium closed: they do not share the cores).
Prints ms a frame for both, the scan's own overhead (a frame's scan time less its `find` round trip: reading
and decoding the frame in the engine worker, transfers), and the machine's load; bench/out/page_text.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from page import serve
from page_session import BENCH, CHROMIUM, ROOT, launch
from pydicom.uid import generate_uid

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from text_images import LABELS_CT, Label, ct_picture, dicom_file, draw, series_file, us_picture  # noqa: E402

OUT = BENCH / "out" / "page_text.json"
FOLDER = BENCH / "out" / "page_text"
CINE_FRAMES = 30
SCAN_TIMEOUT_MS = 900_000

# Times the text worker's messages (the page's TextFinder in textscan.mjs) and the scan line's status.
TIMER = """
(() => {
  const bench = (window.__textBench = { finds: [], load: null, status: [] });
  const Base = window.Worker;
  window.Worker = class extends Base {
    constructor(url, options) {
      super(url, options);
      if (!String(url).includes("text_worker")) return;
      const sent = new Map();
      const post = this.postMessage.bind(this);
      this.postMessage = (message, transfer) => {
        const cmd = message && message.cmd;
        if (cmd === "find" || cmd === "load") sent.set(message.id, [cmd, performance.now()]);
        return post(message, transfer);
      };
      this.addEventListener("message", ({ data }) => {
        const entry = sent.get(data.id);
        if (!entry) return;
        sent.delete(data.id);
        const [cmd, at] = entry;
        const now = performance.now();
        const reply = data.reply || null;
        const error = data.error || null;
        if (cmd === "load") bench.load = { at, done: now, reply, error };
        else bench.finds.push({ at, done: now, ms: reply?.ms, detectionMs: reply?.detectionMs, error });
      });
    }
  };
  new MutationObserver(() => {
    const line = document.getElementById("text-scan");
    const st = line && line.dataset.status;
    const last = bench.status[bench.status.length - 1];
    if (st && (!last || last[0] !== st)) bench.status.push([st, performance.now()]);
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-status"] });
})();
"""


def make_folder(folder: Path) -> list[Path]:
    """The files the page and the native finder are given (written again each run: the same pixels)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.dcm"):
        old.unlink()
    study = generate_uid()
    name, ident = Label("DOE, JOHN", 12, 10, 18), Label("ID 12345678", 12, 34, 14)
    cine = []
    for f in range(CINE_FRAMES):
        mask, _ = draw((480, 640), [name, ident, Label(f"14:22:{f:02d}", 520, 450, 16)])
        img = us_picture()
        img[mask] = (230, 220, 40)
        cine.append(img)
    files = [
        series_file(
            folder / "us.dcm", dicom_file(np.stack(cine), photometric="RGB", modality="US"), study, 1, "US"
        )
    ]
    for i in range(2):
        mask, _ = draw((512, 512), LABELS_CT)
        img = ct_picture(512, 512)
        img[mask] = 4095 - 400 * i
        data = dicom_file(img, photometric="MONOCHROME2", bits_stored=12)
        files.append(
            series_file(folder / f"ct{i}.dcm", data, study, 2, "CT", SOPClassUID="1.2.840.10008.5.1.4.1.1.2")
        )
    for i in range(2):
        mask, _ = draw(
            (480, 640), [Label(f"DOE, JOHN  11.03.202{i}", 40, 40, 20), Label("ST ELSEWHERE", 400, 440, 12)]
        )
        img = np.full((480, 640), 30, np.uint8)
        img[120:400, 100:540] = 90
        img[mask] = 235
        files.append(
            series_file(
                folder / f"sc{i}.dcm",
                dicom_file(img, photometric="MONOCHROME2", modality="OT"),
                study,
                3,
                "SC",
            )
        )
    return files


def frames_in(files: list[Path]) -> int:
    return sum(
        int(getattr(pydicom.dcmread(p, stop_before_pixels=True), "NumberOfFrames", 1) or 1) for p in files
    )


def page_round(dist: Path, files: list[Path], frames: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory(prefix="page-text-") as tmp,
        serve(dist, Path(tmp) / "data") as server,
        sync_playwright() as pw,
        launch(pw, Path(tmp) / "profile", rpc_timer=False) as session,
    ):
        page = session.page
        session.context.add_init_script(TIMER)
        page.goto(server.url + "/")
        page.locator('body[data-state="ready"]').wait_for(timeout=120_000)
        page.set_input_files("#pick-files", [str(p) for p in files])
        page.locator("#text-scan[data-status='done']").wait_for(timeout=SCAN_TIMEOUT_MS)
        bench = page.evaluate("() => window.__textBench")
        line = page.inner_text("#text-scan")
    finds = bench["finds"]
    errors = [f["error"] for f in finds if f["error"]]
    if errors or not bench["load"] or bench["load"]["error"]:
        raise RuntimeError(f"the page's text worker failed: {errors[:3] or bench['load']}")
    done = next(t for s, t in bench["status"] if s == "done")
    scan_ms = done - finds[0]["at"]  # the first frame's engine read is outside (it precedes the first find)
    round_trips = [f["done"] - f["at"] for f in finds]
    return {
        "line": line,
        "load_ms": bench["load"]["reply"]["ms"],
        "threads": bench["load"]["reply"]["numThreads"],
        "finds": len(finds),
        "frames": frames,
        "first_find_ms": round_trips[0],
        "ms_per_frame": scan_ms / frames,
        "find_round_trip_ms": float(np.mean(round_trips[1:])),
        "find_worker_ms": float(np.mean([f["ms"] for f in finds[1:]])),
        "detection_ms": float(np.mean([f["detectionMs"] for f in finds[1:]])),
        "overhead_ms_per_frame": (scan_ms - sum(round_trips)) / frames,
    }


def native_round(files: list[Path]) -> dict[str, Any]:
    from text_finder import load

    from redaction.text_finder.finder import find_text

    frames = 0
    seconds = 0.0
    cpu = 0.0
    for path in files:
        pixels, photometric = load(path)
        n = pixels.shape[0]
        started, c = time.perf_counter(), time.process_time()
        find_text(pixels, photometric=photometric)
        seconds += time.perf_counter() - started
        cpu += time.process_time() - c
        frames += n
    return {
        "frames": frames,
        "ms_per_frame": seconds * 1000 / frames,
        "cpu_ms_per_frame": cpu * 1000 / frames,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dist", type=Path, default=ROOT / "dist", help="the built page (tools/build_dist.py)")
    p.add_argument("--rounds", type=int, default=2, help="page round then native round, this many times")
    p.add_argument("--out", type=Path, default=OUT)
    a = p.parse_args(argv)
    if not (a.dist / "text_worker.mjs").exists() or not (a.dist / "text").is_dir():
        raise SystemExit(f"{a.dist} has no text worker: build the page first (tools/build_dist.py)")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing")
    files = make_folder(FOLDER)
    frames = frames_in(files)
    rounds = []
    for r in range(a.rounds):
        load_before = os.getloadavg()[0]
        page = page_round(a.dist, files, frames)
        native = native_round(files)
        rounds.append({"load_average": load_before, "page": page, "native": native})
        print(
            f"round {r + 1}: load {load_before:.1f}; page {page['ms_per_frame']:.0f} ms a frame "
            f"({page['threads']} threads; find {page['find_round_trip_ms']:.0f} round trip, "
            f"{page['find_worker_ms']:.0f} in the worker, detection {page['detection_ms']:.0f}; "
            f"scan overhead {page['overhead_ms_per_frame']:.1f}; "
            f"first find {page['first_find_ms']:.0f}, load "
            f"{page['load_ms']} ms); native {native['ms_per_frame']:.0f} ms a frame "
            f"(CPU {native['cpu_ms_per_frame']:.0f}); {frames} frames",
            flush=True,
        )
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(
        json.dumps({"frames": frames, "files": [f.name for f in files], "rounds": rounds}, indent=1)
    )
    print(f"written: {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
