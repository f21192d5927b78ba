"""jpeg_file(): a Secondary Capture whose JPEG Baseline codestream carries markers in COM and APP1
(EXIF) segments, and the helpers that read a codestream's segments and its scan data.
"""

from __future__ import annotations

import io
import struct

from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate

from .iod_parts import JPEG_BASELINE_8BIT, SECONDARY_CAPTURE_STORAGE, _file_meta, _patient_study
from .planted import PlantedFile
from .planting import _Planter, _Source


def jpeg_segments(codestream: bytes) -> list[tuple[int, bytes]]:
    """The marker segments of a JPEG codestream before the first SOS, as (marker, payload)."""
    if codestream[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG codestream (no SOI)")
    segments: list[tuple[int, bytes]] = []
    pos = 2
    while pos + 4 <= len(codestream):
        if codestream[pos] != 0xFF:
            raise ValueError(f"marker expected at offset {pos}")
        marker = codestream[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        length = struct.unpack(">H", codestream[pos + 2 : pos + 4])[0]
        segments.append((marker, codestream[pos + 4 : pos + 2 + length]))
        if marker == 0xDA:
            break
        pos += 2 + length
    return segments


def jpeg_scan_data(codestream: bytes) -> bytes:
    """Everything after the first SOS header: the entropy-coded data up to and including EOI.
    Removing COM/APPn segments must leave this byte-identical."""
    pos = 2
    while pos + 4 <= len(codestream):
        marker = codestream[pos + 1]
        if codestream[pos] != 0xFF or marker == 0xFF:
            pos += 1
            continue
        length = struct.unpack(">H", codestream[pos + 2 : pos + 4])[0]
        if marker == 0xDA:
            return codestream[pos + 2 + length :].rstrip(b"\x00")
        pos += 2 + length
    raise ValueError("no SOS segment")


def jpeg_file(seed: int = 0) -> PlantedFile:
    """Secondary Capture with encapsulated JPEG Baseline pixel data. The codestream carries a COM
    segment and an APP1 EXIF segment (ImageDescription, Artist, DateTime) with markers.
    ``kept["#jpeg_scan_data"]`` is :func:`jpeg_scan_data` of the original frame."""
    from PIL import Image  # dev dependency; imported here so the module loads without it

    p = _Planter(_Source(seed, "jpeg"))
    out = p.out
    out.name = "jpeg"
    src = p.src
    sop_uid, study_uid, series_uid = src.uid(), src.uid(), src.uid()
    study_d, exif_d = src.key_dates([0, 5])
    out.temporal.update(StudyDate=study_d)

    img = Image.new("L", (16, 16))
    img.putdata([(r * 16 + c) for r in range(16) for c in range(16)])
    exif = Image.Exif()
    exif[0x010E] = f"Photo of {p.tok('JPEG APP1 EXIF ImageDescription')}"
    exif[0x013B] = p.tok("JPEG APP1 EXIF Artist")
    p.date("JPEG APP1 EXIF DateTime (YYYY:MM:DD form)", exif_d)
    exif[0x0132] = f"{exif_d[:4]}:{exif_d[4:6]}:{exif_d[6:]} 10:11:12"
    comment = f"Scanned for {p.tok('JPEG COM segment')}".encode()
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=95, exif=exif.tobytes(), comment=comment)
    frame = buf.getvalue()
    if not any(marker == 0xC0 for marker, _ in jpeg_segments(frame)):
        raise RuntimeError("Pillow did not write a baseline (SOF0) JPEG")
    out.kept["#jpeg_scan_data"] = jpeg_scan_data(frame)

    ds = Dataset()
    p.keep(ds, "", "SOPClassUID", SECONDARY_CAPTURE_STORAGE)
    p.put(ds, 0x00080018, "", lambda w: p.uid(w, sop_uid))
    p.keep(ds, "", "Modality", "OT")
    p.keep(ds, "", "ConversionType", "DI")
    _patient_study(p, ds, study_uid, study_d)
    p.put(ds, 0x0020000E, "", lambda w: p.uid(w, series_uid))
    p.keep(ds, "", "SeriesNumber", 1)
    p.keep(ds, "", "InstanceNumber", 1)
    p.keep(ds, "", "SamplesPerPixel", 1)
    p.keep(ds, "", "PhotometricInterpretation", "MONOCHROME2")
    p.keep(ds, "", "Rows", 16)
    p.keep(ds, "", "Columns", 16)
    p.keep(ds, "", "BitsAllocated", 8)
    p.keep(ds, "", "BitsStored", 8)
    p.keep(ds, "", "HighBit", 7)
    p.keep(ds, "", "PixelRepresentation", 0)
    p.keep(ds, "", "LossyImageCompression", "01")
    p.keep(ds, "", "LossyImageCompressionMethod", "ISO_10918_1")
    ds.PixelData = encapsulate([frame])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    out.kept["file_meta.TransferSyntaxUID"] = JPEG_BASELINE_8BIT
    return p.finish(ds, _file_meta(SECONDARY_CAPTURE_STORAGE, sop_uid, JPEG_BASELINE_8BIT))
