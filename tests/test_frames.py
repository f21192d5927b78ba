"""What the viewer gets for one frame: layout, display values, codec, and the frame's bytes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pydicom
import pytest
from corpus import data_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, get_frame
from pydicom.uid import UID, ExplicitVRLittleEndian, RLELossless

from anonymizer.browser_api import handle
from redaction.errors import UnsupportedPixelsError
from redaction.frames import frame_bytes, image_info


@pytest.mark.parametrize(
    ("name", "codec", "photometric"),
    [
        ("CT_small.dcm", "none", "MONOCHROME2"),
        ("SC_rgb_rle_2frame.dcm", "rle", "RGB"),
        ("SC_rgb_jpeg_dcmtk.dcm", "jpeg", "YBR_FULL"),
        ("JPEG2000.dcm", "j2k", "MONOCHROME2"),
        ("MR_small_jpeg_ls_lossless.dcm", "jls", "MONOCHROME2"),
        ("SC_rgb_jpeg_gdcm.dcm", "jpeg-lossless", "RGB"),
        ("JPGExtended.dcm", "jpeg12", "MONOCHROME2"),
        ("SC_ybr_full_422_uncompressed.dcm", "none", "YBR_FULL_422"),
    ],
)
def test_info_names_the_codec_and_layout(name: str, codec: str, photometric: str) -> None:
    ds = pydicom.dcmread(data_file(name))
    info = image_info(ds)
    assert info["codec"] == codec and info["photometric"] == photometric
    assert (info["rows"], info["columns"]) == (ds.Rows, ds.Columns)
    assert info["slope"] == float(ds.get("RescaleSlope", 1)) and info["intercept"] == float(
        ds.get("RescaleIntercept", 0)
    )


def test_window_from_the_header_or_none() -> None:
    ct = image_info(pydicom.dcmread(data_file("CT_small.dcm")))
    assert ct["window"] is None or len(ct["window"]) == 2
    ds = pydicom.dcmread(data_file("CT_small.dcm"))
    ds.WindowCenter, ds.WindowWidth = ["40", "300"], ["400", "1500"]
    assert image_info(ds)["window"] == [40.0, 400.0]  # the first of several windows


def test_window_and_rescale_from_shared_functional_groups() -> None:
    ds = pydicom.dcmread(data_file("CT_small.dcm"))
    for k in ("WindowCenter", "WindowWidth", "RescaleSlope", "RescaleIntercept"):
        if k in ds:
            delattr(ds, k)
    voi, transform, group = pydicom.Dataset(), pydicom.Dataset(), pydicom.Dataset()
    voi.WindowCenter, voi.WindowWidth = 50, 350
    transform.RescaleSlope, transform.RescaleIntercept = 2, -1024
    group.FrameVOILUTSequence = [voi]
    group.PixelValueTransformationSequence = [transform]
    ds.SharedFunctionalGroupsSequence = [group]
    info = image_info(ds)
    assert info["window"] == [50.0, 350.0] and (info["slope"], info["intercept"]) == (2.0, -1024.0)


def test_uncompressed_frames_are_slices_of_the_stored_bytes() -> None:
    ds = pydicom.dcmread(data_file("SC_rgb_2frame.dcm"))
    size = ds.Rows * ds.Columns * 3
    assert frame_bytes(ds, 0) == ds.PixelData[:size]
    assert frame_bytes(ds, 1) == ds.PixelData[size : 2 * size]
    with pytest.raises(UnsupportedPixelsError, match="frame 3 does not exist"):
        frame_bytes(ds, 2)


def test_encapsulated_frames_are_codestreams() -> None:
    ds = pydicom.dcmread(data_file("SC_rgb_rle_2frame.dcm"))
    assert frame_bytes(ds, 1) == get_frame(ds.PixelData, 1, number_of_frames=2)


def test_palette_is_passed_as_stored() -> None:
    ds = pydicom.dcmread(data_file("OBXXXX1A.dcm"))
    info = image_info(ds)
    assert info["photometric"] == "PALETTE COLOR"
    pal = info["palette"]
    assert len(pal["red"]) == int(ds.RedPaletteColorLookupTableDescriptor[0] or 65536)
    assert pal["bits"] == ds.RedPaletteColorLookupTableDescriptor[2]


def test_no_pixel_data_is_an_error() -> None:
    ds = pydicom.dcmread(data_file("rtplan.dcm"))
    with pytest.raises(UnsupportedPixelsError, match="no Pixel Data"):
        image_info(ds)


@pytest.mark.parametrize(
    ("photometric", "syntax", "pairs"),
    [
        ("YBR_FULL_422", "1.2.840.10008.1.2.1", True),  # stored 4:2:2: regions widened to pixel pairs
        ("YBR_FULL_422", "1.2.840.10008.1.2.4.50", False),  # JPEG: decoded and written whole
        ("RGB", "1.2.840.10008.1.2.1", False),
    ],
)
def test_info_says_where_regions_are_widened_to_pairs(photometric: str, syntax: str, pairs: bool) -> None:
    ds = pydicom.dcmread(data_file("SC_rgb.dcm"))
    ds.PhotometricInterpretation = photometric
    ds.file_meta.TransferSyntaxUID = syntax
    if syntax != "1.2.840.10008.1.2.1":
        ds.PixelData = encapsulate([b"\xff\xd8\xff\xd9"])
    elif photometric == "YBR_FULL_422":
        ds.PixelData = ds.PixelData[: len(ds.PixelData) * 2 // 3]
    assert image_info(ds)["pairs"] is pairs


def _binary_seg(
    rows: int = 16, columns: int = 12, frames: int = 2, syntax: str = ExplicitVRLittleEndian
) -> Dataset:
    """A binary segmentation (PS3.3 C.8.20.2: Bits Allocated 1, pixels packed eight to a byte)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.66.4"
    ds.Modality, ds.SegmentationType = "SEG", "BINARY"
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, columns, frames
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 1, 1, 0, 0
    packed = bytes([0b10101010]) * ((rows * columns * frames + 7) // 8)
    ds.PixelData = packed + b"\0" * (len(packed) % 2)
    if UID(syntax).is_encapsulated:
        ds.PixelData = encapsulate([packed[: len(packed) // frames]] * frames)
    return ds


ONE_BIT = "1-bit images (segmentations) are not shown by this viewer"


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, RLELossless], ids=["stored", "rle"])
def test_one_bit_images_cannot_be_shown_and_say_so(syntax: str) -> None:
    """Before: image_info described a 1-bit image as if it could be shown; the stored one then failed with
    'Bits Allocated 1 cannot be redacted', and the RLE one went to the page's decoder."""
    with pytest.raises(UnsupportedPixelsError, match=re.escape(ONE_BIT)):
        image_info(_binary_seg(syntax=syntax))


def test_a_real_binary_segmentation_says_why_it_is_not_shown(tmp_path: Path) -> None:
    path = data_file("liver_1frame.dcm")
    assert pydicom.dcmread(path).BitsAllocated == 1
    out = json.loads(
        handle(json.dumps({"cmd": "image", "path": str(path), "frame": 0, "out": str(tmp_path / "f")}))
    )
    assert out == {"status": "failed", "reason": ONE_BIT}


def test_other_bit_depths_cannot_be_shown() -> None:
    ds = pydicom.dcmread(data_file("CT_small.dcm"))
    ds.BitsAllocated = 12  # packed 12-bit (retired): no viewer path
    with pytest.raises(UnsupportedPixelsError, match="Bits Allocated 12 is not shown by this viewer"):
        image_info(ds)
