"""Redacted compressed files in Chromium (issue 16): a region drawn in the viewer on a JPEG-LS, a JPEG 2000
lossless, an RLE file and a progressive JPEG labelled baseline; downloaded, each is encoded as the CLI
encodes it (JPEG-LS, JPEG 2000 lossless, RLE; the progressive JPEG, which cannot be blanked in its
codestream, decoded by the page and written uncompressed) and its pixels equal the native engine's output
for the regions the page exported (regions.json, the file the CLI's --redact reads)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from conftest import TEST_KEY
from corpus import data_file
from page_actions import check_every_image, draw_region, pick_files, preset_key
from playwright.sync_api import expect
from pydicom.uid import generate_uid

from anonymizer.config import Config
from anonymizer.engine import deidentify
from redaction.apply import PixelEdit
from redaction.regions import regions_from_json

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
SCAN_TIMEOUT_MS = 240_000


def _progressive(tmp: Path) -> Path:
    """A grey progressive JPEG labelled JPEG baseline (.50): the engine cannot blank it in place."""
    from PIL import Image

    ds = pydicom.dcmread(TEST_FILES / "SC_rgb_jpeg_dcmtk.dcm")
    rng = np.random.default_rng(7)
    grey = rng.integers(40, 200, (ds.Rows, ds.Columns), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(grey, "L").save(buf, format="JPEG", progressive=True, quality=90)
    ds.PixelData = pydicom.encaps.encapsulate([buf.getvalue()])
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    del ds.PlanarConfiguration
    return _relabel(ds, tmp / "progressive.dcm", "Progressive JPEG")


def _relabel(ds: pydicom.Dataset, path: Path, description: str) -> Path:
    """Its own series, named in the list; not ultrasound (no check needed to include it)."""
    ds.SeriesInstanceUID, ds.SeriesDescription, ds.Modality = generate_uid(), description, "OT"
    ds.save_as(path, enforce_file_format=True)
    return path


CASES = {
    # description: (source file, expected transfer syntax of the download)
    "JPEG-LS": ("emri_small_jpeg_ls_lossless.dcm", "1.2.840.10008.1.2.4.80"),
    "J2K lossless": ("US1_J2KR.dcm", "1.2.840.10008.1.2.4.90"),
    "RLE": ("MR_small_RLE.dcm", "1.2.840.10008.1.2.5"),
    "Progressive JPEG": (None, "1.2.840.10008.1.2.1"),
}
DECODED = "1.2.840.10008.1.2.1"


def _inputs(tmp: Path) -> dict[str, Path]:
    out = {}
    for description, (name, _) in CASES.items():
        if name is None:
            out[description] = _progressive(tmp)
        else:
            ds = pydicom.dcmread(data_file(name))
            out[description] = _relabel(ds, tmp / name, description)
    return out


def _shape(ds: pydicom.Dataset) -> tuple[int, int, int, int]:
    return int(ds.Rows), int(ds.Columns), int(ds.get("NumberOfFrames") or 1), int(ds.SamplesPerPixel)


def _native(path: Path, regions: list[dict[str, Any]]) -> pydicom.Dataset:
    """What the CLI writes for `path` with `--redact regions.json` (the same engine call)."""
    edit = PixelEdit(regions=tuple(regions_from_json(regions)))
    return pydicom.dcmread(io.BytesIO(deidentify(path.read_bytes(), Config(key=TEST_KEY), pixels=edit).data))


def test_redacted_compressed_files_are_written_as_the_cli_writes_them(
    recorded: Any, server: str, e2e: Any, tmp_path: Path
) -> None:
    inputs = _inputs(tmp_path)
    page = recorded.page
    preset_key(page)
    page.goto(server + "/")
    e2e.wait_state(page, "ready", timeout=60)
    pick_files(page, list(inputs.values()), listed="4 DICOM files in the list")
    page.locator("#text-scan[data-status='done']").wait_for(timeout=SCAN_TIMEOUT_MS)
    for n, description in enumerate(CASES):
        row = page.locator("tr.series", has_text=description)
        row.get_by_role("button", name="Review").click()
        page.wait_for_selector("#viewer-canvas[data-shown='1']")
        page.select_option("#viewer-scope", "instance")
        draw_region(page, (0.05, 0.1), (0.45, 0.3), steps=4)
        assert re.search(r"\d+x\d+ at \d+,\d+", page.inner_text("#viewer-regions"))
        page.locator("#viewer-canvas").focus()
        page.keyboard.press("Shift+A")  # text the page found: accepted (the export carries it)
        expect(page.locator("#viewer-suggestions li.text-suggestion")).to_have_count(0)
        check_every_image(page)  # OT without Burned In Annotation: checked before it may be included
        e2e.screenshot(page, f"compressed-{n + 1:02d}-{description.replace(' ', '-').lower()}")
        page.keyboard.press("Escape")
    with page.expect_download() as exported:
        page.click("#regions-export")
    regions = json.loads(Path(exported.value.path()).read_text())
    with page.expect_download(timeout=240_000) as info:
        page.click("#run")
    out = tmp_path / "out.zip"
    info.value.save_as(out)
    e2e.wait_state(page, "done", timeout=120)
    e2e.screenshot(page, "compressed-05-done")

    with zipfile.ZipFile(out) as z:
        written = [pydicom.dcmread(io.BytesIO(z.read(n))) for n in z.namelist() if n.endswith(".dcm")]
    # Series Description is removed by the profile: each file is told by its image's shape.
    by_shape = {_shape(ds): ds for ds in written}
    assert len(by_shape) == len(written) == len(CASES)
    for description, (_, syntax) in CASES.items():
        cli = _native(inputs[description], regions)
        sop = str(pydicom.dcmread(inputs[description], stop_before_pixels=True).SOPInstanceUID)
        drawn = [r for r in regions if r["sop_instance_uid"] == sop]
        assert drawn, description
        ours = by_shape[_shape(cli)]
        assert ours.file_meta.TransferSyntaxUID == syntax, description
        assert cli.file_meta.TransferSyntaxUID == syntax, description
        assert ours.PhotometricInterpretation == cli.PhotometricInterpretation, description
        a, b = ours.pixel_array, cli.pixel_array
        if syntax == DECODED:
            # The decoded JPEG: the page's libjpeg-turbo and the CLI's decoder (pylibjpeg's libjpeg) round
            # the inverse DCT differently, by 1 at most; the page equals libjpeg-turbo (Pillow) exactly.
            source = pydicom.dcmread(inputs[description])
            turbo = pydicom.pixels.pixel_array(source, decoding_plugin="pillow")
            assert a.shape == b.shape and int(np.abs(a.astype(int) - b).max()) <= 1, description
            inside = np.zeros(a.shape, dtype=bool)
            for r in drawn:
                inside[r["y"] : r["y"] + r["height"], r["x"] : r["x"] + r["width"]] = True
            b = np.where(inside, 0, turbo)
        assert a.shape == b.shape and (a == b).all(), (description, int(np.abs(a.astype(int) - b).max()))
        frames = a.reshape(int(ours.get("NumberOfFrames") or 1), ours.Rows, ours.Columns, -1)
        for r in drawn:  # the fill: black (0, or the lowest value of signed samples) on every frame
            inside = frames[:, r["y"] : r["y"] + r["height"], r["x"] : r["x"] + r["width"]]
            assert (inside == (np.iinfo(a.dtype).min if ours.PixelRepresentation else 0)).all(), r
