"""The page's text scan hands the detector the samples the CLI's finder sees (issue 14: page and CLI find
the same boxes): each frame as the engine worker gives it to the page (browser_api.image: the stored
bytes and the layout) through static/text_samples.mjs and static/text_finder/prepare.mjs under Node,
against redaction/text_finder/dicom.py frames_of + prepare.py to_rgb8 natively: the same 8-bit RGB, byte
for byte, for grey of 8 to 32 bits (signed, big endian, MONOCHROME1), RGB of 8 and 16 bits, YBR_FULL and
YBR_FULL_422 as stored, PALETTE COLOR and a multi-frame image."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from corpus import data_file, file

from anonymizer.browser_api import image
from redaction.text_finder.dicom import frames_of
from redaction.text_finder.prepare import to_rgb8

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = REPO_ROOT / "tests" / "text_samples_host.mjs"

FILES = [
    file("CT_small.dcm"),  # 16-bit signed
    file("MR_small_bigendian.dcm"),
    file("SC_ybr_full_422_uncompressed.dcm"),
    file("rtdose.dcm"),  # 32-bit, 15 frames
    data_file("SC_rgb_2frame.dcm"),
    data_file("OBXXXX1A.dcm"),  # PALETTE COLOR
    data_file("US1_UNCR.dcm"),
    data_file("RG1_UNCR.dcm"),  # MONOCHROME1, 16-bit
    data_file("SC_rgb_16bit.dcm"),
    data_file("SC_ybr_full_uncompressed.dcm"),
]


def _mono1_8bit(tmp: Path) -> Path:
    ds = pydicom.dcmread(file("CT_small.dcm"))
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = (np.arange(128 * 128) % 251).astype(np.uint8).tobytes()
    path = tmp / "mono1_8bit.dcm"
    ds.save_as(path)
    return path


def _node() -> str:
    node = os.environ.get("PACSBIN_NODE") or shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH (set $PACSBIN_NODE): the page's modules are tested under Node")
    return node


@pytest.mark.parametrize("path", [*FILES, None], ids=[p.name for p in FILES] + ["mono1_8bit"])
def test_the_page_gives_the_finder_the_cli_s_samples(path: Path | None, tmp_path: Path) -> None:
    path = path or _mono1_8bit(tmp_path)
    ds = pydicom.dcmread(path)
    frames = frames_of(ds)
    native = [to_rgb8(f, frames.photometric) for f in frames]
    manifest = []
    for i in range(len(native)):
        reply = image(str(path), i, str(tmp_path / f"frame{i}"))
        manifest.append(
            {"image": reply["image"], "frame": str(tmp_path / f"frame{i}"), "out": str(tmp_path / f"rgb{i}")}
        )
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    proc = subprocess.run(
        [_node(), str(HOST), str(tmp_path / "manifest.json")], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    for i, want in enumerate(native):
        got = np.fromfile(tmp_path / f"rgb{i}", dtype=np.uint8).reshape(want.shape)
        diff = np.abs(got.astype(int) - want.astype(int))
        assert diff.max() == 0, (
            f"frame {i + 1}: {int((diff > 0).sum())} samples differ, by up to {diff.max()}"
        )
