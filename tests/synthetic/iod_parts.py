"""The DICOM parts the generators share: SOP class and transfer syntax UIDs, the file meta, code
items, the image module of a small 16x16 CT-like image, and planted patient and study attributes.
"""

from __future__ import annotations

import struct

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID

from .planting import _Planter

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
SECONDARY_CAPTURE_STORAGE = "1.2.840.10008.5.1.4.1.1.7"
COMPREHENSIVE_SR_STORAGE = "1.2.840.10008.5.1.4.1.1.88.33"
GRAYSCALE_SOFTCOPY_PS_STORAGE = "1.2.840.10008.5.1.4.1.1.11.1"
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
JPEG_BASELINE_8BIT = "1.2.840.10008.1.2.4.50"


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def _file_meta(
    sop_class: str, sop_uid: str, transfer_syntax: str = EXPLICIT_VR_LITTLE_ENDIAN
) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class)
    meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    meta.TransferSyntaxUID = UID(transfer_syntax)
    return meta


def _pixels16() -> bytes:
    """16x16 MONOCHROME2 pixels with 12 bits stored and a known pattern."""
    return struct.pack("<256H", *(((r * 16 + c) * 13) % 4096 for r in range(16) for c in range(16)))


def _image_module(p: _Planter, ds: Dataset, pixel_data: bytes | None = None) -> None:
    """Kept image attributes of a small 16x16 CT-like image."""
    keep = p.keep
    keep(ds, "", "ImageType", ["ORIGINAL", "PRIMARY", "AXIAL"])
    keep(ds, "", "SamplesPerPixel", 1)
    keep(ds, "", "PhotometricInterpretation", "MONOCHROME2")
    keep(ds, "", "Rows", 16)
    keep(ds, "", "Columns", 16)
    keep(ds, "", "PixelSpacing", [0.5, 0.5])
    keep(ds, "", "BitsAllocated", 16)
    keep(ds, "", "BitsStored", 12)
    keep(ds, "", "HighBit", 11)
    keep(ds, "", "PixelRepresentation", 0)
    keep(ds, "", "RescaleIntercept", -1024.0)
    keep(ds, "", "RescaleSlope", 1.0)
    keep(ds, "", "WindowCenter", 40.0)
    keep(ds, "", "WindowWidth", 400.0)
    keep(ds, "", "KVP", 120.0)
    keep(ds, "", "SliceThickness", 1.0)
    keep(ds, "", "ImageOrientationPatient", [1.0, 0.0, 0.0, 0.0, 1.0, 0.0])
    keep(ds, "", "PixelData", pixel_data if pixel_data is not None else _pixels16())
    ds["PixelData"].VR = "OW"


# --------------------------------------------------------------------------------------------
# Shared patient/study/series planting for the smaller files
# --------------------------------------------------------------------------------------------


def _patient_study(p: _Planter, ds: Dataset, study_uid: str, study_date: str) -> None:
    """Patient and General Study attributes with markers."""
    p.put(ds, 0x00100010, "", lambda w: f"{p.tok(w)}^Pat")
    p.put(ds, 0x00100020, "")
    p.put(ds, 0x00100030, "")
    ds.PatientSex = "O"
    p.put(ds, 0x0020000D, "", lambda w: p.uid(w, study_uid))
    p.put(ds, 0x00080020, "", lambda w: p.date(w, study_date))
    p.put(ds, 0x00080030, "")
    p.put(ds, 0x00080050, "")
    p.put(ds, 0x00080090, "")
    p.put(ds, 0x00200010, "")
    p.put(ds, 0x00081030, "")
    p.put(ds, 0x00080080, "")
    p.put(ds, 0x00081010, "")  # StationName
