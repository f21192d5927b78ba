"""The viewer and pixel redaction in Chromium: draw a region on a multi-frame RGB ultrasound series, apply it
to the series, download, and check every frame of every file natively (uncompressed and RLE input)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from page_actions import check_every_image, draw_region, pick_files, preset_key
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, RLELossless, generate_uid

ROWS, COLS, FRAMES = 120, 160, 6
US_MULTIFRAME = "1.2.840.10008.5.1.4.1.1.3.1"


def _cine(series_uid: str, number: int, rle: bool) -> Dataset:
    """A small RGB ultrasound cine with a burned-in banner (bright rows at the top of every frame)."""
    rng = np.random.default_rng(number)
    frames = rng.integers(30, 200, (FRAMES, ROWS, COLS, 3), dtype=np.uint8)
    frames[:, 2:12, 4:100] = 255  # the "name" banner
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = US_MULTIFRAME
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.1", series_uid
    ds.PatientName, ds.PatientID, ds.Modality = "Cine^Carla", "CINE001", "US"
    ds.SeriesNumber, ds.InstanceNumber = 3, number
    ds.Rows, ds.Columns, ds.NumberOfFrames = ROWS, COLS, FRAMES
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.FrameIncrementPointer = 0x00181063
    ds.FrameTime = 40
    ds.PixelData = frames.tobytes()
    if rle:
        ds.compress(RLELossless, encoding_plugin="pydicom")
    return ds


def test_region_drawn_once_blacks_out_every_frame_of_the_series(
    recorded: Any, server: str, e2e: Any, tmp_path: Path
) -> None:
    series_uid = generate_uid()
    inputs = []
    for number, rle in ((1, False), (2, True)):
        path = tmp_path / f"cine{number}.dcm"
        _cine(series_uid, number, rle).save_as(path, enforce_file_format=True)
        inputs.append(path)
    page = recorded.page
    preset_key(page)
    page.goto(server + "/")
    e2e.wait_state(page, "ready", timeout=60)
    pick_files(page, inputs)
    row = page.locator("tr.series", has_text="US")
    assert row.get_by_role("checkbox").is_disabled()  # ultrasound: checked before it may be included

    row.get_by_role("button").click()
    page.wait_for_selector("#viewer-canvas[data-shown]")
    assert page.inner_text("#viewer-frame-label") == f"Frame 1 of {FRAMES}"
    page.locator("#review-flags", has_text="Burned In Annotation not stated on US").wait_for()
    page.select_option("#viewer-scope", "series")
    draw_region(page, (0.02, 0.05), (0.7, 0.3), steps=6)
    listed = page.inner_text("#viewer-regions")
    m = re.search(r"(\d+)x(\d+) at (\d+),(\d+): every image of the series", listed)
    assert m, listed
    w, h, x, y = (int(v) for v in m.groups())
    assert x <= 4 and y <= 2 and x + w >= 100 and y + h >= 12, "the region covers the banner"
    page.fill("#viewer-frame", "4")  # scroll to frame 4: the region is shown there too
    page.wait_for_selector("#viewer-canvas[data-shown='4']")
    e2e.screenshot(page, "viewer-01-us-region")
    check_every_image(page)  # every frame of both images shown, then "checked"
    page.locator("tr.series", has_text="images checked").wait_for()
    assert row.get_by_role("checkbox").is_checked()
    # the header review now says what the reviewer did, not the input file's warning
    page.locator("#review-flags", has_text="pixels redacted or confirmed clean by the reviewer").wait_for()
    assert "not stated" not in page.inner_text("#review-flags")

    with page.expect_download(timeout=120_000) as info:
        page.click("#run")
    out = tmp_path / "out.zip"
    info.value.save_as(out)
    e2e.wait_state(page, "done", timeout=60)
    e2e.screenshot(page, "viewer-02-done")

    given = [pydicom.dcmread(p) for p in inputs]
    originals = {d.InstanceNumber: d.pixel_array for d in given}
    syntaxes = {d.InstanceNumber: d.file_meta.TransferSyntaxUID for d in given}
    with zipfile.ZipFile(out) as z:
        written = [pydicom.dcmread(io.BytesIO(z.read(n))) for n in z.namelist() if n.endswith(".dcm")]
    assert len(written) == 2
    for ds in written:
        # Uncompressed stays uncompressed; RLE is redacted and re-encoded as RLE (issue 16)
        assert ds.file_meta.TransferSyntaxUID == syntaxes[ds.InstanceNumber]
        assert ds.BurnedInAnnotation == "NO"
        assert "113101" in [str(c.CodeValue) for c in ds.DeidentificationMethodCodeSequence]
        after = ds.pixel_array
        before = originals[ds.InstanceNumber]
        inside = np.zeros(after.shape, dtype=bool)
        inside[:, y : y + h, x : x + w, :] = True
        assert (after[inside] == 0).all(), "every frame blacked out inside the region"
        assert (after[~inside] == before[~inside]).all(), "every other pixel unchanged"


def test_jpeg_redacted_in_the_page_matches_the_decoded_original_outside(
    recorded: Any, server: str, e2e: Any, tmp_path: Path
) -> None:
    """JPEG baseline (YBR_FULL) blanked in its codestream by the engine in the page (issue 16): still JPEG
    baseline, the compression history kept, the region widened to the 8x8 blocks it touches; outside them
    the decoded pixels equal a decoding of the source (no chroma subsampling: no blending at the edge)."""
    src = pydicom.dcmread(Path(pydicom.__file__).parent / "data" / "test_files" / "SC_rgb_jpeg_dcmtk.dcm")
    src.Modality, src.BurnedInAnnotation = "US", "YES"
    path = tmp_path / "jpeg.dcm"
    src.save_as(path, enforce_file_format=True)
    page = recorded.page
    page.goto(server + "/")
    e2e.wait_state(page, "ready", timeout=60)
    pick_files(page, [path])
    page.locator("tr.series", has_text="US").get_by_role("button").click()
    page.wait_for_selector("#viewer-canvas[data-shown='1']")
    page.select_option("#viewer-scope", "instance")
    draw_region(page, (0.3, 0.3), (0.6, 0.5), steps=4)
    m = re.search(r"(\d+)x(\d+) at (\d+),(\d+)", page.inner_text("#viewer-regions"))
    assert m
    w, h, x, y = (int(v) for v in m.groups())
    page.click("#viewer-checked")
    with page.expect_download(timeout=120_000) as info:
        page.click("#run")
    out = tmp_path / "out.zip"
    info.value.save_as(out)
    e2e.wait_state(page, "done", timeout=60)
    with zipfile.ZipFile(out) as z:
        (name,) = [n for n in z.namelist() if n.endswith(".dcm")]
        ds = pydicom.dcmread(io.BytesIO(z.read(name)))
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.50"
    assert ds.PhotometricInterpretation == src.PhotometricInterpretation
    assert ds.get("LossyImageCompression") == src.get("LossyImageCompression")
    after = pydicom.pixels.pixel_array(ds, decoding_plugin="pillow").astype(int)
    before = pydicom.pixels.pixel_array(src, decoding_plugin="pillow").astype(int)
    x0, y0 = x - x % 8, y - y % 8
    x1, y1 = min(src.Columns, -(-(x + w) // 8) * 8), min(src.Rows, -(-(y + h) // 8) * 8)
    inside = np.zeros(after.shape, dtype=bool)
    inside[y0:y1, x0:x1, :] = True
    assert (after[inside] == 0).all()
    assert (after[~inside] == before[~inside]).all()
