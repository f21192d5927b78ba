"""The page's path for a redacted compressed file (issue 16), Node-hosted: the engine under Pyodide (no
numpy, no pyjpegls) with the page's codecs (the codecs.js bundle) decoding the frames and CharLS's encoder
called from Python, as static/worker.mjs wires them (tests/reencode_page_host.mjs).

The output equals the CLI's: the same transfer syntax, sample for sample the same pixels, and the same file
byte for byte (the page's CharLS writes the codestream pyjpegls writes).
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pydicom
import pytest
from conftest import TEST_KEY
from corpus import data_file

from anonymizer.config import Config
from anonymizer.engine import deidentify
from redaction.apply import PixelEdit
from redaction.regions import regions_from_json
from tools.bundle_codecs import bundle_codecs

pytestmark = pytest.mark.pyodide
ROOT = Path(__file__).resolve().parent.parent
HOST = Path(__file__).with_name("reencode_page_host.mjs")
CLOCK = "2026-11-25T12:00:00+00:00"
SETTINGS = {
    "profile": "basic",
    "options": ["retain-modified-dates", "clean-pixel-data"],
    "key": TEST_KEY.material.hex(),
    "clock": CLOCK,
}
FILES = [
    "MR_small_RLE.dcm",  # RLE, signed 16-bit
    "SC_rgb_rle_2frame.dcm",  # RLE colour, two frames
    "OBXXXX1A_rle.dcm",  # RLE palette colour
    "693_J2KR.dcm",  # the JPEG 2000 lossless CT
    "emri_small_jpeg_ls_lossless.dcm",  # JPEG-LS, 10 frames, 12 of 16 bits
    "J2K_pixelrep_mismatch.dcm",  # signed 13 of 16 bits
    "SC_rgb_jpeg_gdcm.dcm",  # JPEG lossless colour
    "US1_J2KR.dcm",  # J2K YBR_RCT colour ultrasound
]


def _regions(ds: pydicom.Dataset) -> list[dict[str, object]]:
    rows, columns = int(ds.Rows), int(ds.Columns)
    w, h = min(9, columns), min(5, rows)
    sop = str(ds.SOPInstanceUID)
    return [
        {"sop_instance_uid": sop, "frames": None, "x": 0, "y": 0, "width": w, "height": h},
        {"sop_instance_uid": sop, "frames": None, "x": columns - w, "y": rows - h, "width": w, "height": h},
    ]


def _read(data: bytes) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(io.BytesIO(data))


def run_page(names: list[str], tmp: Path, *, jpeg_ls: bool = True) -> dict[str, dict[str, object]]:
    """Each file through the page's path; returns the host's job per name (with "bytes": the output)."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / ".bin" / "esbuild").exists():
        pytest.skip("node and npm ci are needed")
    bundle_codecs(ROOT, tmp / "bundle", for_node=True)
    (tmp / "mnt").mkdir()
    jobs = []
    for i, name in enumerate(names):
        shutil.copy(data_file(name), tmp / "mnt" / f"{i}.dcm")
        ds = _read(data_file(name).read_bytes())
        jobs.append(
            {
                "name": name,
                "path": f"/mnt/{i}.dcm",
                "out": f"/mnt/{i}.out",
                "regions": _regions(ds),
                "view": True,
            }
            | ({} if jpeg_ls else {"jpeg_ls": False})
        )
    manifest = tmp / "manifest.json"
    manifest.write_text(json.dumps({"settings": SETTINGS, "jobs": jobs}))
    url = (tmp / "bundle" / "codecs.js").as_uri()
    proc = subprocess.run(
        [node, str(HOST), url, str(tmp / "mnt"), str(manifest)], cwd=ROOT, capture_output=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    done = {}
    for i, job in enumerate(json.loads(manifest.read_text())["jobs"]):
        out = tmp / "mnt" / f"{i}.out"
        shown = {k: tmp / "mnt" / f"{i}.out.frame{k}" for k in (0, int(job.get("frames") or 1) - 1)}
        done[job["name"]] = {
            **job,
            "bytes": out.read_bytes() if out.exists() else b"",
            "shown": {k: p.read_bytes() for k, p in shown.items() if p.exists()},
        }
    return done


def native(name: str) -> bytes:
    data = data_file(name).read_bytes()
    ds = _read(data)
    config = Config(key=TEST_KEY, clock=lambda: datetime.fromisoformat(CLOCK).astimezone(UTC))
    edit = PixelEdit(regions=tuple(regions_from_json(_regions(ds))))
    return deidentify(data, config, path=name, pixels=edit).data


def _pixels(data: bytes) -> np.ndarray:
    ds = _read(data)
    return ds.pixel_array.reshape(int(ds.get("NumberOfFrames") or 1), ds.Rows, ds.Columns, -1)


def test_the_page_writes_what_the_cli_writes(tmp_path: Path) -> None:
    page = run_page(FILES, tmp_path)
    identical = []
    for name in FILES:
        job = page[name]
        assert job["result"]["status"] == "ok", (name, job["result"])  # type: ignore[index]
        ours, cli = bytes(job["bytes"]), native(name)  # type: ignore[arg-type]
        a, b = _read(ours), _read(cli)
        assert a.file_meta.TransferSyntaxUID == b.file_meta.TransferSyntaxUID, name
        assert a.file_meta.TransferSyntaxUID.is_compressed, name
        assert a.PhotometricInterpretation == b.PhotometricInterpretation, name
        assert (_pixels(ours) == _pixels(cli)).all(), f"{name}: the page's pixels differ from the CLI's"
        identical += [name] * (ours == cli)
        # The page's viewer decodes the written file to the same values (first and last frame), read as its
        # renderer reads them (render.mjs samplesOf: Bits Stored bits, sign-extended when signed).
        pixels = _pixels(ours)
        for k, shown in job["shown"].items():  # type: ignore[attr-defined]
            stored, bits = int(a.BitsStored), int(a.BitsAllocated)
            values = np.frombuffer(shown, f"<u{bits // 8}").astype(np.int64) & ((1 << stored) - 1)
            if a.PixelRepresentation:
                values = np.where(values >> (stored - 1), values - (1 << stored), values)
            assert np.array_equal(values.reshape(pixels[k].shape), pixels[k]), (name, k)
        assert len(job["shown"]) >= 1  # type: ignore[arg-type]
    # RLE is the same Python on both sides; JPEG-LS is CharLS on both (wasm and pyjpegls): the same file.
    assert identical == FILES


def test_without_the_encoder_the_page_writes_rle(tmp_path: Path) -> None:
    page = run_page(["693_J2KR.dcm"], tmp_path, jpeg_ls=False)
    out = bytes(page["693_J2KR.dcm"]["bytes"])  # type: ignore[arg-type]
    assert _read(out).file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.5"
    assert (_pixels(out) == _pixels(native("693_J2KR.dcm"))).all()
