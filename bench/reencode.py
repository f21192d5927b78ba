"""Redacted compressed images written compressed again (issue 16, "Benchmark"): size and time per frame.

    .venv/bin/python bench/reencode.py                # the three files below, natively and the page's path
    .venv/bin/python bench/reencode.py --frames 60     # a shorter cine (the page's memory, a quick look)

Files: the issue's JPEG 2000 lossless CT (693_J2KR.dcm, pydicom-data, 107 KB); a 10-frame RLE palette
ultrasound (OBXXXX1A_rle's 600x800 palette image, each frame shifted a few pixels, RLE-encoded by pydicom);
a 640x480 RGB ultrasound cine of `--frames` frames (300 by default: a speckled sector on black, a name and
a clock burned in), RLE-encoded by pydicom. Each gets a 40x16 region on every frame (the issue's) at the
top left, where the name is.

Natively: the engine's deidentify (decode with pydicom, redact, encode again, write) against the same with
re-encoding off (what was written before issue 16: uncompressed). The page's path:
tests/reencode_page_host.mjs under Node (the page's Pyodide engine and its codecs bundle: decode in JS,
redact and RLE in Python, CharLS wasm for JPEG-LS), decode and engine timed apart, after a warm-up file.
Prints a table, writes bench/out/reencode.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.uid import RLELossless

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from corpus import data_file  # noqa: E402

import redaction.apply as apply  # noqa: E402
from anonymizer.config import Config  # noqa: E402
from anonymizer.engine import deidentify  # noqa: E402
from anonymizer.keys import SecretKey  # noqa: E402
from redaction.apply import PixelEdit  # noqa: E402
from redaction.regions import regions_from_json  # noqa: E402
from tools.bundle_codecs import bundle_codecs  # noqa: E402

OUT = BENCH / "out" / "reencode.json"
KEY = SecretKey(bytes(range(32)))
CLOCK = "2026-11-25T12:00:00+00:00"


def _palette_us(path: Path) -> None:
    ds = pydicom.dcmread(data_file("OBXXXX1A_rle.dcm"))
    frame = ds.pixel_array
    frames = np.stack([np.roll(frame, (k * 3, k * 2), axis=(0, 1)) for k in range(10)])
    ds.NumberOfFrames = 10
    ds.compress(RLELossless, frames, encoding_plugin="pylibjpeg" if _has_pylibjpeg_rle() else "pydicom")
    ds.save_as(path, enforce_file_format=True)


def _has_pylibjpeg_rle() -> bool:
    try:
        import rle  # noqa: F401  # pylibjpeg-rle
    except ImportError:
        return False
    return True


def _cine(path: Path, count: int) -> None:
    """A 640x480 RGB ultrasound cine: a speckled sector on black, a name and a clock burned in."""
    rng = np.random.default_rng(5)
    rows, cols = 480, 640
    yy, xx = np.mgrid[0:rows, 0:cols]
    angle = np.arctan2(xx - cols / 2, yy + 40)
    radius = np.hypot(xx - cols / 2, yy + 40)
    sector = (np.abs(angle) < 0.6) & (radius > 80) & (radius < 470)
    base = rng.gamma(2.0, 40.0, (rows, cols)).clip(0, 255)
    frames = np.zeros((count, rows, cols, 3), np.uint8)
    for k in range(count):
        speckle = np.roll(base, k, axis=1) * 0.7 + rng.gamma(2.0, 12.0, (rows, cols))
        grey = np.where(sector, speckle.clip(0, 255), 0).astype(np.uint8)
        frames[k] = grey[..., None]
        frames[k, 4:14, 4:120] = 255  # the name's strokes (white)
        frames[k, 4:14, 520 : 520 + (k % 60)] = (255, 255, 0)  # a clock that changes (yellow)
    ds = pydicom.dcmread(data_file("OBXXXX1A_rle.dcm"))
    for keyword in (
        "RedPaletteColorLookupTableDescriptor",
        "GreenPaletteColorLookupTableDescriptor",
        "BluePaletteColorLookupTableDescriptor",
        "RedPaletteColorLookupTableData",
        "GreenPaletteColorLookupTableData",
        "BluePaletteColorLookupTableData",
        "SegmentedRedPaletteColorLookupTableData",
        "SegmentedGreenPaletteColorLookupTableData",
        "SegmentedBluePaletteColorLookupTableData",
        "PaletteColorLookupTableUID",
    ):
        if keyword in ds:
            del ds[keyword]
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.NumberOfFrames = rows, cols, 3, count
    ds.PhotometricInterpretation, ds.PlanarConfiguration = "RGB", 0
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.compress(RLELossless, frames, encoding_plugin="pylibjpeg" if _has_pylibjpeg_rle() else "pydicom")
    ds.save_as(path, enforce_file_format=True)


def _regions(path: Path) -> list[dict[str, Any]]:
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    return [
        {
            "sop_instance_uid": str(ds.SOPInstanceUID),
            "frames": None,
            "x": 2,
            "y": 2,
            "width": 40,
            "height": 16,
        }
    ]


def _native(path: Path, *, reencode: bool) -> tuple[bytes, float]:
    data = path.read_bytes()
    config = Config(key=KEY, clock=lambda: datetime.fromisoformat(CLOCK).astimezone(UTC))
    edit = PixelEdit(regions=tuple(regions_from_json(_regions(path))))
    saved = apply.reencode
    if not reencode:
        apply.reencode = lambda *_: None  # type: ignore[assignment]
    try:
        t0 = time.perf_counter()
        out = deidentify(data, config, path=path.name, pixels=edit).data
        return out, (time.perf_counter() - t0) * 1000
    finally:
        apply.reencode = saved  # type: ignore[assignment]


def _page(cases: dict[str, Path], tmp: Path) -> dict[str, dict[str, Any]]:
    bundle_codecs(ROOT, tmp / "bundle", for_node=True)
    mnt = tmp / "mnt"
    mnt.mkdir()
    # A first small file warms the page's engine up (imports, CharLS loaded): not counted.
    jobs: list[dict[str, Any]] = [
        {"name": "warm-up", "path": "/mnt/warm.dcm", "out": "/mnt/warm.out", "regions": []}
    ]
    shutil.copy(data_file("MR_small_jpeg_ls_lossless.dcm"), mnt / "warm.dcm")
    jobs[0]["regions"] = _regions(mnt / "warm.dcm")
    for i, (name, path) in enumerate(cases.items()):
        shutil.copy(path, mnt / f"{i}.dcm")
        jobs.append(
            {"name": name, "path": f"/mnt/{i}.dcm", "out": f"/mnt/{i}.out", "regions": _regions(path)}
        )
    manifest = tmp / "manifest.json"
    settings = {
        "profile": "basic",
        "options": ["retain-modified-dates", "clean-pixel-data"],
        "key": KEY.material.hex(),
        "clock": CLOCK,
    }
    manifest.write_text(json.dumps({"settings": settings, "jobs": jobs}))
    host = ROOT / "tests" / "reencode_page_host.mjs"
    url = (tmp / "bundle" / "codecs.js").as_uri()
    subprocess.run(["node", str(host), url, str(mnt), str(manifest)], cwd=ROOT, check=True)
    done = {}
    for job in json.loads(manifest.read_text())["jobs"][1:]:
        out = mnt / Path(job["out"]).name
        job["bytes"] = out.read_bytes() if out.exists() else b""
        job["size"] = len(job["bytes"]) or None
        done[job["name"]] = job
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=300, help="frames of the cine (default 300)")
    parser.add_argument("--no-page", action="store_true", help="natively only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        cases = {"J2K lossless CT (693_J2KR)": data_file("693_J2KR.dcm")}
        _palette_us(tmp / "palette.dcm")
        cases["RLE palette US, 10 frames"] = tmp / "palette.dcm"
        _cine(tmp / "cine.dcm", args.frames)
        cases[f"RLE RGB US cine 640x480, {args.frames} frames"] = tmp / "cine.dcm"
        rows = []
        page = {} if args.no_page else _page(cases, tmp)
        for name, path in cases.items():
            frames = int(pydicom.dcmread(path, stop_before_pixels=True).get("NumberOfFrames") or 1)
            source = path.stat().st_size
            before, before_ms = _native(path, reencode=False)
            after, after_ms = _native(path, reencode=True)
            ts = pydicom.dcmread(pydicom.filebase.DicomBytesIO(after), stop_before_pixels=True)
            row = {
                "file": name,
                "frames": frames,
                "source_bytes": source,
                "written_as": str(ts.file_meta.TransferSyntaxUID.name),
                "uncompressed_ratio": len(before) / source,
                "native_ratio": len(after) / source,
                "native_ms_per_frame": after_ms / frames,
                "native_uncompressed_ms_per_frame": before_ms / frames,
            }
            if name in page:
                job = page[name]
                row["page_ratio"] = job["size"] / source if job["size"] else None
                row["page_decode_ms_per_frame"] = job["decode_ms"] / frames
                row["page_engine_ms_per_frame"] = job["engine_ms"] / frames
                row["page_identical_to_native"] = job["bytes"] == after
            rows.append(row)
    print(
        f"{'file':44} {'KB':>7} {'as':>16} {'before':>7} {'native':>7} {'ms/fr':>7} {'page':>6} "
        f"{'decode':>7} {'engine':>7}"
    )
    for r in rows:
        print(
            f"{r['file']:44} {r['source_bytes'] / 1024:7.0f} {r['written_as'][:16]:>16} "
            f"{r['uncompressed_ratio']:6.2f}x {r['native_ratio']:6.2f}x {r['native_ms_per_frame']:7.1f} "
            + (
                f"{r['page_ratio']:5.2f}x {r['page_decode_ms_per_frame']:7.1f} "
                f"{r['page_engine_ms_per_frame']:7.1f}"
                if "page_ratio" in r
                else ""
            )
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"machine": platform.platform(), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
