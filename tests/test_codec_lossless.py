"""The page's JPEG lossless decoder (dist/codecs.js, bundled from static/codecs.mjs by tools/bundle_codecs.py)
against pydicom's native decode (pylibjpeg), every sample compared, the last one included.

Frames come from the public corpus and from tests/jpeg_lossless_encoder.py: every predictor (selection
values 1-7), 8/12/16 bits, grey and RGB, and frames whose entropy-coded data ends exactly on a byte
boundary, on which jpeg-lossless-decoder-js 2.1.2 dropped the last sample (issue 11, item 9).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from corpus import data_file
from jpeg_lossless_encoder import dicom, ending_on_a_byte_boundary, native
from pydicom.dataset import Dataset
from pydicom.encaps import generate_frames

from tools.bundle_codecs import bundle_codecs

ROOT = Path(__file__).resolve().parent.parent

# Decodes each frame of the manifest with the bundle's decodeFrame, as the engine worker calls it.
DRIVER = """
import { readFileSync, writeFileSync } from "node:fs";
const [bundle, manifest] = process.argv.slice(2);
const { decodeFrame } = await import(bundle);
const jobs = JSON.parse(readFileSync(manifest, "utf8"));
for (const job of jobs) {
  try {
    const { data, bitsAllocated } = await decodeFrame(new Uint8Array(readFileSync(job.frame)), job.image);
    writeFileSync(job.out, data);
    job.bitsAllocated = bitsAllocated;
  } catch (err) {
    job.error = String(err.message || err);
  }
}
writeFileSync(manifest, JSON.stringify(jobs));
"""


def _cases() -> dict[str, Dataset]:
    rng = np.random.default_rng(11)
    cases: dict[str, Dataset] = {}
    for name in ("JPEG-LL.dcm", "JPGLosslessP14SV1_1s_1f_8b.dcm", "SC_rgb_jpeg_gdcm.dcm"):
        cases[name] = pydicom.dcmread(data_file(name))
    # A frame ending in a long run of one value, its last code on a byte boundary (as DCMTK writes them).
    run = np.full((32, 40), 120, np.uint8)
    run[:8] = rng.integers(0, 256, (8, 40))
    cases["8-bit run, byte-aligned end"] = dicom(ending_on_a_byte_boundary(run, 8), 8)
    for predictor in range(1, 8):
        noise = rng.integers(0, 1 << 16, (24, 30)).astype(np.uint16)
        cases[f"16-bit SV{predictor}, byte-aligned end"] = dicom(
            ending_on_a_byte_boundary(noise, 16, predictor), 16, predictor
        )
        grey = rng.integers(0, 256, (21, 17)).astype(np.uint8)
        cases[f"8-bit SV{predictor}"] = dicom(grey, 8, predictor)
    twelve = rng.integers(0, 1 << 12, (20, 20)).astype(np.uint16)
    cases["12-bit, byte-aligned end"] = dicom(ending_on_a_byte_boundary(twelve, 12), 12)
    rgb = rng.integers(0, 256, (16, 18, 3)).astype(np.uint8)
    cases["RGB, byte-aligned end"] = dicom(ending_on_a_byte_boundary(rgb, 8), 8)
    cases["RGB SV6"] = dicom(rgb, 8, 6)
    return cases


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("node") is None or not (ROOT / "node_modules" / ".bin" / "esbuild").exists():
        pytest.skip("node and npm ci are needed")
    out = tmp_path_factory.mktemp("codecs")
    bundle_codecs(ROOT, out)
    return out / "codecs.js"


def _decode_in_node(bundle: Path, cases: dict[str, Dataset], tmp: Path) -> dict[str, dict[str, object]]:
    jobs = []
    for number, (name, ds) in enumerate(cases.items()):
        frame = next(generate_frames(ds.PixelData, number_of_frames=int(ds.get("NumberOfFrames") or 1)))
        (tmp / f"{number}.jpg").write_bytes(frame)
        image = {
            "codec": "jpeg-lossless",
            "rows": ds.Rows,
            "columns": ds.Columns,
            "samples": ds.SamplesPerPixel,
            "bits_allocated": ds.BitsAllocated,
            "photometric": ds.PhotometricInterpretation,
            "transfer_syntax": ds.file_meta.TransferSyntaxUID,
        }
        jobs.append(
            {
                "name": name,
                "frame": str(tmp / f"{number}.jpg"),
                "out": str(tmp / f"{number}.raw"),
                "image": image,
            }
        )
    manifest = tmp / "manifest.json"
    manifest.write_text(json.dumps(jobs))
    driver = tmp / "driver.mjs"
    driver.write_text(DRIVER)
    subprocess.run(["node", str(driver), bundle.as_uri(), str(manifest)], check=True, timeout=120)
    return {job["name"]: job for job in json.loads(manifest.read_text())}


def test_every_sample_matches_pydicom(bundle: Path, tmp_path: Path) -> None:
    cases = _cases()
    decoded = _decode_in_node(bundle, cases, tmp_path)
    failures = []
    for name, ds in cases.items():
        job = decoded[name]
        if "error" in job:
            failures.append(f"{name}: {job['error']}")
            continue
        expected = native(ds)
        if int(ds.get("NumberOfFrames") or 1) > 1:
            expected = expected[0]
        dtype = np.uint8 if ds.BitsAllocated == 8 else np.dtype("<u2")
        got = np.frombuffer(Path(str(job["out"])).read_bytes(), dtype).reshape(expected.shape)
        if ds.PixelRepresentation == 1:
            got = got.view(np.int16 if ds.BitsAllocated == 16 else np.int8)
        flat_got, flat_expected = got.reshape(-1), expected.reshape(-1)
        if flat_got[-1] != flat_expected[-1]:
            failures.append(f"{name}: last sample {flat_got[-1]}, pydicom {flat_expected[-1]}")
        elif not np.array_equal(flat_got, flat_expected):
            wrong = np.flatnonzero(flat_got != flat_expected)
            failures.append(f"{name}: {wrong.size} samples differ, first at {wrong[0]}")
    assert not failures, "\n".join(failures)
