"""The burned-in text test set: DICOM images with text rendered into the pixels, and the truth for each.

    .venv/bin/python bench/burned_in.py            # ~200 images into bench/corpus/burned-in/full/
    .venv/bin/python bench/burned_in.py --small    # ~40 images into bench/corpus/burned-in/small/

Kinds: CT (signed 16-bit), MR (12-bit), CR (MONOCHROME1, 12-bit), XA (8-bit, some cine) and ultrasound-like
(RGB 8-bit, a sector, a banner, some cine); 640x480 mostly, CT 512x512, some MR 512x512, some CR and XA
1024x768; about one file in six is clean (strong edges, no text). The header carries the identity the text
spells (Patient's Name, Patient ID, Accession Number, birth and study dates, Institution Name), so a finder
that reads can be asked whether it recognised them.

Each set folder holds `images/NNN-kind[-cine][-clean].dcm`, `truth/<same stem>.json` (every text box:
frame (0-based), x, y, width, height, text, is_phi, matches, tags) and `manifest.json`. Everything follows
from --seed and the fonts present (listed in the manifest); a set whose manifest matches is reused.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
from burned_in_compose import Composed, Spec, compose
from burned_in_text import available_fonts, font_label
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

GENERATOR_VERSION = 1
CORPUS = Path(__file__).resolve().parent / "corpus" / "burned-in"
# Files per kind in a set of 200 (scaled for other sizes); every 6th of a kind is clean.
MIX = [("US", 64), ("XA", 36), ("CT", 34), ("MR", 36), ("CR", 30)]
CINE_FRAMES = {"US": 8, "XA": 10}
SOP_CLASS = {
    "CT": "1.2.840.10008.5.1.4.1.1.2",
    "MR": "1.2.840.10008.5.1.4.1.1.4",
    "CR": "1.2.840.10008.5.1.4.1.1.1",
    "XA": "1.2.840.10008.5.1.4.1.1.12.1",
    "US": "1.2.840.10008.5.1.4.1.1.6.1",
    "US-cine": "1.2.840.10008.5.1.4.1.1.3.1",
}


def plan(count: int, seed: int) -> list[Spec]:
    specs: list[Spec] = []
    for kind, per200 in MIX:
        for i in range(max(2, round(count * per200 / 200))):
            clean = i % 6 == 5
            cine = kind in CINE_FRAMES and not clean and i % 7 == 1
            rows, cols = 480, 640
            if kind == "CT" or (kind == "MR" and i % 2):
                rows, cols = 512, 512
            elif (kind == "CR" and i % 3 == 0) or (kind == "XA" and i % 3 == 2 and not cine):
                rows, cols = 768, 1024
            frames = CINE_FRAMES[kind] if cine else 1
            specs.append(Spec(len(specs), kind, rows, cols, frames, clean, seed * 100003 + len(specs)))
    return specs


def stored(kind: str, rgb: np.ndarray) -> tuple[np.ndarray, str]:
    """Display RGB 0..1 -> the modality's stored values and Photometric Interpretation."""
    if kind == "US":
        return np.round(rgb * 255).astype(np.uint8), "RGB"
    grey = rgb @ np.asarray([0.299, 0.587, 0.114], np.float32)
    if kind == "CT":  # HU, window covering the whole range
        return np.round(grey * 3000 - 1000).astype(np.int16), "MONOCHROME2"
    if kind == "MR":
        return np.round(grey * 4095).astype(np.uint16), "MONOCHROME2"
    if kind == "CR":  # MONOCHROME1: the smallest value shows white
        return np.round((1 - grey) * 4095).astype(np.uint16), "MONOCHROME1"
    return np.round(grey * 255).astype(np.uint8), "MONOCHROME2"


def _uid(spec: Spec, what: str) -> UID:
    """A UID that follows from the seed (the same set every run)."""
    return generate_uid(entropy_srcs=[str(spec.seed), what])


def dataset(spec: Spec, made: Composed) -> Dataset:
    pixels, photometric = stored(spec.kind, made.frames)
    who = made.who
    ds = Dataset()
    sop_class = UID(SOP_CLASS["US-cine" if spec.kind == "US" and spec.frames > 1 else spec.kind])
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = _uid(spec, "sop")
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, _uid(spec, "sop")
    ds.StudyInstanceUID, ds.SeriesInstanceUID = _uid(spec, "study"), _uid(spec, "series")
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = who.patient_name, who.patient_id, who.birth_date
    ds.PatientSex = "O"
    ds.AccessionNumber, ds.InstitutionName = who.accession, who.institution
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = who.study_date
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = who.study_time
    ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = "1", 1, 1
    ds.Modality = spec.kind
    ds.BurnedInAnnotation = "NO" if spec.clean else "YES"
    ds.Rows, ds.Columns = spec.rows, spec.cols
    ds.PhotometricInterpretation = photometric
    ds.SamplesPerPixel = 3 if photometric == "RGB" else 1
    if photometric == "RGB":
        ds.PlanarConfiguration = 0
    bits = pixels.dtype.itemsize * 8
    ds.BitsAllocated = bits
    ds.BitsStored = 12 if spec.kind in ("MR", "CR") else bits
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if pixels.dtype == np.int16 else 0
    if spec.kind == "CT":
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = 0, 1, "HU"
    if photometric != "RGB":
        low, high = int(pixels.min()), int(pixels.max())
        ds.WindowCenter, ds.WindowWidth = (low + high) // 2, max(1, high - low)
    if spec.frames > 1:
        ds.NumberOfFrames = spec.frames
        ds.FrameTime = 33.3
        ds.FrameIncrementPointer = 0x00181063  # Frame Time
    ds.PixelData = (pixels if spec.frames > 1 else pixels[0]).tobytes()
    return ds


def truth(spec: Spec, made: Composed, ds: Dataset) -> dict[str, object]:
    return {
        "file": f"{spec.stem}.dcm",
        "kind": spec.kind,
        "rows": spec.rows,
        "columns": spec.cols,
        "frames": spec.frames,
        "photometric": str(ds.PhotometricInterpretation),
        "clean": spec.clean,
        "seed": spec.seed,
        "header": {
            k: str(ds.get(k, ""))
            for k in (
                "PatientName",
                "PatientID",
                "AccessionNumber",
                "PatientBirthDate",
                "StudyDate",
                "StudyTime",
                "InstitutionName",
            )
        },
        "boxes": [asdict(b) for b in made.boxes],
    }


def generate(count: int, seed: int, out: Path) -> Path:
    """Write the set (or reuse it when its manifest matches); the set folder."""
    fonts = available_fonts()
    params = {
        "generator": GENERATOR_VERSION,
        "count": count,
        "seed": seed,
        "fonts": [font_label(f) for f in fonts],
    }
    manifest = out / "manifest.json"
    specs = plan(count, seed)
    reusable = manifest.exists() and json.loads(manifest.read_text()).get("params") == params
    if reusable and all((out / "images" / f"{s.stem}.dcm").exists() for s in specs):
        return out
    shutil.rmtree(out, ignore_errors=True)
    (out / "images").mkdir(parents=True)
    (out / "truth").mkdir()
    started, boxes = time.monotonic(), 0
    for spec in specs:
        made = compose(spec, fonts)
        ds = dataset(spec, made)
        ds.save_as(out / "images" / f"{spec.stem}.dcm", enforce_file_format=True)
        (out / "truth" / f"{spec.stem}.json").write_text(json.dumps(truth(spec, made, ds), indent=1))
        boxes += len(made.boxes)
    summary = {
        "files": len(specs),
        "frames": sum(s.frames for s in specs),
        "clean": sum(s.clean for s in specs),
        "boxes": boxes,
        "seconds": round(time.monotonic() - started, 1),
    }
    manifest.write_text(json.dumps({"params": params, "summary": summary}, indent=1))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--small", action="store_true", help="~40 images instead of ~200")
    p.add_argument("--count", type=int, help="about this many images (default 200, 40 with --small)")
    p.add_argument("--seed", type=int, default=14)
    p.add_argument("--out", type=Path, help="set folder (default bench/corpus/burned-in/full or small)")
    a = p.parse_args(argv)
    count = a.count or (40 if a.small else 200)
    out = a.out or CORPUS / ("small" if a.small else "full" if count == 200 else f"n{count}")
    path = generate(count, a.seed, out)
    print(path, json.loads((path / "manifest.json").read_text())["summary"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
