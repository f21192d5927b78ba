"""The viewer's canvas against a native rendering (pydicom + numpy) of the same frame and window: within
±1 for every kind of image a user drops. Screenshots of each are kept (viewer-kind-*.png).

Native rendering: grey = Modality LUT (rescale) then the linear VOI function of PS3.3 C.11.2.1.2.1 with the
header's first window (or the frame's range), MONOCHROME1 inverted; RGB as is (16-bit scaled to 8); YBR_FULL
converted by pydicom; palette through pydicom's apply_color_lut. JPEG baseline is compared with pydicom's
Pillow plugin, which uses the same libjpeg(-turbo) arithmetic as the browser's codec (browser-codecs notes:
pylibjpeg differs by up to 5 on chroma-subsampled JPEG).
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from corpus import data_file
from page_actions import pick_files
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut, convert_color_space
from pydicom.uid import generate_uid

from redaction.frames import image_info

CANVAS_W, CANVAS_H = 640, 512


def _relabel(ds: Dataset, kind: str, number: int) -> Dataset:
    ds.SeriesInstanceUID, ds.SOPInstanceUID = generate_uid(), generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.SeriesDescription, ds.SeriesNumber = f"kind {kind}", number
    ds.Modality = "OT"
    ds.BurnedInAnnotation = "NO"
    return ds


def _kinds() -> dict[str, tuple[Dataset, int, str | None]]:
    """kind -> (dataset, frame number to show, pydicom decoding plugin for the reference)."""
    out: dict[str, tuple[Dataset, int, str | None]] = {}
    read = lambda name: pydicom.dcmread(data_file(name))  # noqa: E731
    out["mono2-signed16"] = (read("CT_small.dcm"), 1, None)
    mono1 = read("CT_small.dcm")
    mono1.PhotometricInterpretation = "MONOCHROME1"
    mono1.WindowCenter, mono1.WindowWidth = 1000, 1600
    out["mono1"] = (mono1, 1, None)
    mono8 = read("CT_small.dcm")
    pixels = (mono8.pixel_array.astype(np.int32) % 251).astype(np.uint8)
    mono8.BitsAllocated, mono8.BitsStored, mono8.HighBit, mono8.PixelRepresentation = 8, 8, 7, 0
    mono8.RescaleSlope, mono8.RescaleIntercept = 1, 0
    mono8.PixelData = pixels.tobytes()
    out["mono2-unsigned8"] = (mono8, 1, None)
    out["rgb"] = (read("US1_UNCR.dcm"), 1, None)
    planar = read("SC_rgb.dcm")
    planar.PixelData = np.ascontiguousarray(planar.pixel_array.transpose(2, 0, 1)).tobytes()
    planar.PlanarConfiguration = 1
    out["rgb-planar"] = (planar, 1, None)
    out["rgb-16bit"] = (read("SC_rgb_16bit.dcm"), 1, None)
    ybr = read("SC_rgb.dcm")
    ybr.PixelData = convert_color_space(ybr.pixel_array, "RGB", "YBR_FULL").tobytes()
    ybr.PhotometricInterpretation = "YBR_FULL"
    out["ybr-full"] = (ybr, 1, None)
    out["ybr-full-422"] = (read("SC_ybr_full_422_uncompressed.dcm"), 1, None)
    palette = read("OBXXXX1A.dcm")
    small = (np.arange(100 * 100) % 256).astype(np.uint8).reshape(100, 100)  # every palette entry
    palette.Rows, palette.Columns = small.shape
    palette.PixelData = small.tobytes()
    out["palette"] = (palette, 1, None)
    # Segmented palette colour tables (PS3.3 C.7.9.2: discrete and linear segments, 65536 entries).
    out["palette-segmented"] = (read("gdcm-US-ALOKA-16.dcm"), 1, None)
    out["multiframe-frame2"] = (read("SC_rgb_2frame.dcm"), 2, None)
    out["rle"] = (read("MR_small_RLE.dcm"), 1, None)
    out["jpeg-ls"] = (read("MR_small_jpeg_ls_lossless.dcm"), 1, None)
    out["jpeg2000"] = (read("examples_jpeg2k.dcm"), 1, None)
    out["jpeg-baseline-422"] = (read("SC_rgb_jpeg_dcmtk.dcm"), 1, "pillow")
    out["jpeg-lossless"] = (read("SC_rgb_jpeg_gdcm.dcm"), 1, None)
    for number, (kind, (ds, _, _)) in enumerate(out.items(), start=1):
        _relabel(ds, kind, number)
    return out


def _voi(x: np.ndarray, center: float, width: float) -> np.ndarray:
    low, high = center - 0.5 - (width - 1) / 2, center - 0.5 + (width - 1) / 2
    y = ((x - (center - 0.5)) / (width - 1) + 0.5) * 255
    return np.where(x <= low, 0, np.where(x > high, 255, y))


def native(ds: Dataset, frame: int, plugin: str | None) -> np.ndarray:
    """(rows, columns, 3) uint8: what the viewer should show, computed natively."""
    opts: dict[str, Any] = {"decoding_plugin": plugin} if plugin else {}
    arr = ds.pixel_array if not opts else pydicom.pixels.pixel_array(ds, **opts)
    if int(ds.get("NumberOfFrames") or 1) > 1:
        arr = arr[frame - 1]
    p = str(ds.PhotometricInterpretation)
    info = image_info(ds)
    if p.startswith("MONOCHROME"):
        x = arr.astype(np.float64) * info["slope"] + info["intercept"]
        center, width = info["window"] or ((x.min() + x.max()) / 2, max(1.0, x.max() - x.min()))
        y = _voi(x, center, width)
        if p == "MONOCHROME1":
            y = 255 - y
        return np.repeat(np.round(y)[..., None], 3, axis=2).astype(np.uint8)
    if p == "PALETTE COLOR":
        rgb = apply_color_lut(arr, ds).astype(np.float64)
        bits = int(ds.RedPaletteColorLookupTableDescriptor[2])
        return np.round(rgb * 255 / (255 if bits == 8 else 65535)).astype(np.uint8)
    if arr.dtype.itemsize > 1:
        return np.round(arr.astype(np.float64) * 255 / (2 ** int(ds.BitsStored) - 1)).astype(np.uint8)
    return arr.astype(np.uint8)  # pydicom returns RGB for YBR (as_rgb) and for decoded colour JPEG/J2K


def _canvas(page: Any) -> np.ndarray:
    url = page.locator("#viewer-canvas").evaluate("c => c.toDataURL('image/png')")
    png = base64.b64decode(url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_canvas_matches_native_rendering_for_every_kind(
    recorded: Any, server: str, e2e: Any, tmp_path: Path
) -> None:
    kinds = _kinds()
    paths = []
    for kind, (ds, _, _) in kinds.items():
        path = tmp_path / f"{kind}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    page = recorded.page
    page.goto(server + "/")
    e2e.wait_state(page, "ready", timeout=60)
    pick_files(page, paths)
    failures = []
    for kind, (ds, frame, plugin) in kinds.items():
        page.get_by_role("button", name=f"kind {kind}", exact=False).and_(
            page.locator(f"button[aria-label*='kind {kind}, study']")
        ).click()
        page.wait_for_selector("#viewer-canvas[data-shown='1']")
        if frame != 1:
            page.fill("#viewer-frame", str(frame))
            page.wait_for_selector(f"#viewer-canvas[data-shown='{frame}']")
        canvas = _canvas(page)
        Image.fromarray(canvas).save(e2e.screenshot_path(f"viewer-kind-{kind}"))
        rows, cols = int(ds.Rows), int(ds.Columns)
        scale = min(CANVAS_W / cols, CANVAS_H / rows)
        assert scale >= 1, f"{kind}: pick an image that fits the canvas (nearest-neighbour display)"
        ox, oy = (CANVAS_W - cols * scale) / 2, (CANVAS_H - rows * scale) / 2
        cx = np.arange(int(np.ceil(ox)) + 1, int(ox + cols * scale) - 1)
        cy = np.arange(int(np.ceil(oy)) + 1, int(oy + rows * scale) - 1)
        ix = np.floor((cx + 0.5 - ox) / scale).astype(int)
        iy = np.floor((cy + 0.5 - oy) / scale).astype(int)
        expected = native(ds, frame, plugin)[np.ix_(iy, ix)]
        shown = canvas[np.ix_(cy, cx)]
        diff = np.abs(shown.astype(int) - expected.astype(int))
        if diff.max() > 1:
            failures.append(f"{kind}: max difference {diff.max()} at {np.argwhere(diff > 1)[:3].tolist()}")
    assert not failures, failures


def _open_what_cannot_be_shown(page: Any, server: str, e2e: Any, ds: Any, path: Path, kind: str) -> Any:
    """Save `ds` to `path`, pick it on the page and open its series: the viewer says it cannot show it.
    Returns the series' row."""
    ds.save_as(path, enforce_file_format=True)
    page.goto(server + "/")
    e2e.wait_state(page, "ready", timeout=60)
    pick_files(page, [path])
    row = page.locator("tr.series", has_text=f"kind {kind}")
    row.get_by_role("button").click()
    page.wait_for_selector("#viewer-canvas[data-shown='none']")
    return row


@pytest.mark.parametrize("kind", ["jpeg-12bit"])
def test_what_the_browser_cannot_decode_is_flagged_and_cannot_be_checked(
    kind: str, recorded: Any, server: str, e2e: Any, tmp_path: Path
) -> None:
    ds = _relabel(pydicom.dcmread(data_file("JPGExtended.dcm")), kind, 1)
    ds.BurnedInAnnotation = "YES"
    page = recorded.page
    row = _open_what_cannot_be_shown(page, server, e2e, ds, tmp_path / "jpeg12.dcm", kind)
    assert "cannot be decoded exactly in the browser" in page.inner_text("#viewer-message")
    assert page.locator("#viewer-checked").is_disabled()
    assert row.get_by_role("checkbox").is_disabled()
    e2e.screenshot(page, "viewer-undecodable")


def test_a_one_bit_segmentation_says_it_cannot_be_shown(
    recorded: Any, server: str, e2e: Any, tmp_path: Path
) -> None:
    ds = _relabel(pydicom.dcmread(data_file("liver_1frame.dcm")), "seg-1bit", 1)
    ds.Modality = "SEG"
    page = recorded.page
    _open_what_cannot_be_shown(page, server, e2e, ds, tmp_path / "seg.dcm", "seg-1bit")
    e2e.screenshot(page, "viewer-one-bit-seg")
    assert "1-bit images (segmentations) are not shown by this viewer" in page.inner_text("#viewer-message")
