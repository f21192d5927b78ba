"""The benchmark corpus: single-frame CT slices and large Enhanced CT multi-frame files.

Both start from pydicom's bundled CT_small.dcm (GE private groups, Other Patient IDs Sequence, trailing
padding) and add what real headers carry: several patients/studies/series, names, dates, accession numbers,
nested sequences (request attributes with a code sequence inside, referenced images, a private sequence)
and free text naming the patient. Pixel data: 512x512 signed 16-bit, Explicit VR Little Endian, a phantom
disc plus noise (so no two frames are equal).

Each set lives in its own folder named by its parameters (`ct-2000/`, `large-3x400/`) with a manifest
beside it (`ct-2000.json`, not inside: the tools would read it as an input); a set whose manifest matches
the parameters and the files on disk is reused.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileDataset
from pydicom.sequence import Sequence
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

GENERATOR_VERSION = 2
SIZE = 512
TEMPLATE = Path(pydicom.__file__).parent / "data" / "test_files" / "CT_small.dcm"
ENHANCED_CT = UID("1.2.840.10008.5.1.4.1.1.2.1")
CT_IMAGE = UID("1.2.840.10008.5.1.4.1.1.2")

SURNAMES = [
    "MUELLER",
    "NGUYEN",
    "OKAFOR",
    "GARCIA",
    "JOHANSSON",
    "TANAKA",
    "SMITH",
    "DUBOIS",
    "ROSSI",
    "KOWALSKI",
    "PATEL",
    "IVANOVA",
    "MURPHY",
    "SILVA",
    "HANSEN",
    "COHEN",
]
GIVEN = [
    "ANNA",
    "BRUNO",
    "CHIARA",
    "DAVID",
    "ELENA",
    "FARID",
    "GRETA",
    "HIRO",
    "IMANI",
    "JONAS",
    "KEIKO",
    "LUCA",
]
PHYSICIANS = ["HOUSE^GREGORY^^DR", "GREY^MEREDITH^^DR", "KILDARE^JAMES^^DR", "QUINN^MICHAELA^^DR"]


@dataclass(frozen=True)
class SetInfo:
    """One generated set: its folder, its manifest parameters, what is on disk."""

    name: str
    path: Path
    params: dict[str, int]
    files: int
    bytes: int
    generated: bool  # False when reused
    seconds: float


def _uid(*parts: object) -> UID:
    # generate_uid hashes the sources joined without a separator: join them here so ("1", "12") != ("11", "2")
    return UID(generate_uid(entropy_srcs=["|".join(str(p) for p in ("pacsbin-bench", *parts))]))


def _template() -> FileDataset:
    ds = pydicom.dcmread(TEMPLATE)
    ds.Rows = SIZE
    ds.Columns = SIZE
    ds.PixelSpacing = [0.7, 0.7]
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ds


def _phantom() -> np.ndarray:
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    r2 = (yy - SIZE / 2) ** 2 + ((xx - SIZE / 2) * 1.2) ** 2
    img = np.zeros((SIZE, SIZE), dtype=np.int16)
    img[r2 < (SIZE * 0.42) ** 2] = 1064  # soft tissue (stored value; intercept -1024)
    img[r2 < (SIZE * 0.38) ** 2] = 1024
    img[(yy - SIZE * 0.62) ** 2 + (xx - SIZE / 2) ** 2 < (SIZE * 0.05) ** 2] = 2200  # "spine"
    return img


def _frame(rng: np.random.Generator, base: np.ndarray, k: int) -> np.ndarray:
    noise = rng.integers(-40, 40, size=base.shape, dtype=np.int16)
    out = base + noise
    out[(k * 7) % SIZE, :] += 300  # one bright line moving with the slice: frames differ structurally
    return out


def _patient(p: int) -> dict[str, str]:
    surname, given = SURNAMES[p % len(SURNAMES)], GIVEN[(p * 5) % len(GIVEN)]
    return {
        "name": f"{surname}^{given}^{chr(65 + p % 26)}",
        "id": f"MRN{100000 + p * 7919:07d}",
        "birth": f"{1940 + (p * 13) % 60}{1 + p % 12:02d}{1 + (p * 3) % 28:02d}",
        "sex": "FM"[p % 2],
        "address": f"{10 + p} Harbour Road^^Springfield^^{90000 + p}",
    }


def _headers(ds: Dataset, pat: dict[str, str], p: int, s: int, study_uid: str, study_date: str) -> None:
    """Patient, study and request headers shared by both sets."""
    ds.PatientName = pat["name"]
    ds.PatientID = pat["id"]
    ds.PatientBirthDate = pat["birth"]
    ds.PatientSex = pat["sex"]
    ds.PatientAge = f"{int(study_date[:4]) - int(pat['birth'][:4]):03d}Y"
    ds.PatientAddress = pat["address"]
    ds.PatientWeight = str(55 + p % 40)
    ds.OtherPatientIDsSequence[0].PatientID = f"ALT{p:05d}"
    ds.OtherPatientIDsSequence[1].PatientID = f"{pat['id']}-OLD"
    ds.StudyInstanceUID = study_uid
    ds.StudyDate = ds.InstanceCreationDate = study_date
    ds.StudyTime = f"{8 + s % 10:02d}{(s * 7) % 60:02d}00"
    ds.StudyID = f"S{p:03d}{s:02d}"
    ds.AccessionNumber = f"ACC{p:04d}{s:03d}"
    ds.StudyDescription = f"CT CHEST ABDOMEN PELVIS W CONTRAST ({pat['name'].split('^')[0]})"
    ds.ReferringPhysicianName = PHYSICIANS[p % len(PHYSICIANS)]
    ds.InstitutionName = "SPRINGFIELD GENERAL HOSPITAL"
    ds.InstitutionAddress = "1 Main Street, Springfield"
    ds.StationName = f"CTSCAN{s % 3}"
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = (
        "RPID16",
        "RADLEX",
        "CT Chest Abdomen Pelvis",
    )
    req = Dataset()
    req.RequestedProcedureID = f"RP{p:04d}{s:02d}"
    req.ScheduledProcedureStepID = f"SPS{p:04d}{s:02d}"
    req.RequestedProcedureDescription = "CT CAP with contrast"
    req.ScheduledProtocolCodeSequence = Sequence([code])
    ds.RequestAttributesSequence = Sequence([req])
    proc = Dataset()
    proc.CodeValue, proc.CodingSchemeDesignator, proc.CodeMeaning = "CTCAP", "L", "CT chest/abdomen/pelvis"
    ds.ProcedureCodeSequence = Sequence([proc])
    ref = Dataset()
    ref.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"
    ref.ReferencedSOPInstanceUID = _uid("detached-study", p, s)
    ds.ReferencedStudySequence = Sequence([ref])
    private = ds.private_block(0x0071, "PACSBIN BENCH 1.0", create=True)
    inner = Dataset()
    inner.PatientName = pat["name"]
    inner.StudyDate = study_date
    private.add_new(0x01, "SQ", Sequence([inner]))
    private.add_new(0x02, "LO", f"reviewed by {PHYSICIANS[(p + 1) % len(PHYSICIANS)]}")


def _manifest_ok(path: Path, manifest: Path, params: dict[str, int]) -> tuple[int, int] | None:
    if not manifest.exists() or not path.is_dir():
        return None
    try:
        data = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return None
    if data.get("params") != params:
        return None
    files = [p for p in path.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    if len(files) != data.get("files") or size != data.get("bytes"):
        return None
    return len(files), size


def _finish(name: str, path: Path, manifest: Path, params: dict[str, int], start: float) -> SetInfo:
    files = [p for p in path.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    manifest.write_text(json.dumps({"params": params, "files": len(files), "bytes": size}, indent=2) + "\n")
    return SetInfo(name, path, params, len(files), size, True, time.monotonic() - start)


def ct_slices(root: Path, slices: int, seed: int = 1) -> SetInfo:
    """`slices` single-frame CT slices in root/ct-<slices>/<patient>/<study>/<series>/IM<n>.dcm."""
    params = {"generator": GENERATOR_VERSION, "slices": slices, "seed": seed}
    name = f"ct-{slices}"
    path, manifest = root / name, root / f"{name}.json"
    found = _manifest_ok(path, manifest, params)
    if found:
        return SetInfo(name, path, params, found[0], found[1], False, 0.0)
    start = time.monotonic()
    shutil.rmtree(path, ignore_errors=True)
    rng = np.random.default_rng(seed)
    base = _phantom()
    patients = max(2, slices // 200)
    series_total = patients * 4  # 2 studies x 2 series per patient
    n = 0
    seen: set[str] = set()
    for q in range(series_total):
        p, s, se = q // 4, (q // 2) % 2, q % 2
        count = slices // series_total + (1 if q < slices % series_total else 0)
        pat = _patient(p)
        study_uid = _uid("study", seed, p, s)
        study_date = f"{2015 + (p + s) % 9}{1 + (p * 5 + s) % 12:02d}{1 + (p * 11 + s * 3) % 28:02d}"
        ds = _template()
        _headers(ds, pat, p, s, study_uid, study_date)
        ds.SeriesInstanceUID = _uid("series", seed, p, s, se)
        ds.FrameOfReferenceUID = _uid("for", seed, p, s)
        ds.SeriesNumber = se + 1
        ds.SeriesDescription = ["Axial 5mm soft tissue", "Axial 1.25mm bone"][se]
        ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = study_date
        ds.OperatorsName = ["TECH^ALEX", "TECH^SAM"][se]
        ds.PerformingPhysicianName = PHYSICIANS[(p + 2) % len(PHYSICIANS)]
        ds.ImageComments = (
            f"Patient {pat['name'].replace('^', ' ')} ({pat['id']}), prior study {ds.AccessionNumber}"
        )
        folder = (
            path
            / f"{pat['name'].replace('^', '_')}"
            / f"{study_date}_{ds.AccessionNumber}"
            / f"SE{se + 1:02d}"
        )
        folder.mkdir(parents=True, exist_ok=True)
        prev_uid = ""
        for i in range(count):
            uid = _uid("sop", seed, q, i)
            if uid in seen:
                raise RuntimeError(f"duplicate SOP Instance UID {uid}: fix _uid")
            seen.add(uid)
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid
            ds.InstanceNumber = i + 1
            z = -50.0 - 5.0 * i
            ds.ImagePositionPatient = [-179.2, -179.2, round(z, 2)]
            ds.SliceLocation = round(z, 2)
            ds.AcquisitionTime = ds.ContentTime = f"{9 + se:02d}{i // 60 % 60:02d}{i % 60:02d}.{i % 1000:03d}"
            if prev_uid:
                src = Dataset()
                src.ReferencedSOPClassUID = CT_IMAGE
                src.ReferencedSOPInstanceUID = prev_uid
                ds.ReferencedImageSequence = Sequence([src])
            ds.PixelData = _frame(rng, base, n).tobytes()
            ds["PixelData"].VR = "OW"
            ds.save_as(folder / f"IM{n:06d}.dcm", enforce_file_format=True)
            prev_uid = uid
            n += 1
    return _finish(name, path, manifest, params, start)


def large_files(root: Path, count: int, frames: int, seed: int = 2) -> SetInfo:
    """`count` Enhanced CT files of `frames` 512x512 frames each in root/large-<count>x<frames>/."""
    params = {"generator": GENERATOR_VERSION, "count": count, "frames": frames, "seed": seed}
    name = f"large-{count}x{frames}"
    path, manifest = root / name, root / f"{name}.json"
    found = _manifest_ok(path, manifest, params)
    if found:
        return SetInfo(name, path, params, found[0], found[1], False, 0.0)
    start = time.monotonic()
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    base = _phantom()
    for k in range(count):
        ds = _template()
        p = 50 + k
        pat = _patient(p)
        study_date = f"{2018 + k % 6}0{1 + k % 9}1{k % 10}"
        _headers(ds, pat, p, 0, _uid("enh-study", seed, k), study_date)
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = ENHANCED_CT
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = _uid("enh-sop", seed, k)
        ds.SeriesInstanceUID = _uid("enh-series", seed, k)
        ds.FrameOfReferenceUID = _uid("enh-for", seed, k)
        ds.SeriesDescription = "Enhanced CT thin slices"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL", "NONE"]
        ds.SeriesDate = ds.ContentDate = ds.AcquisitionDate = study_date
        ds.AcquisitionDateTime = f"{study_date}101500.000000"
        for kw in (
            "ImagePositionPatient",
            "ImageOrientationPatient",
            "SliceLocation",
            "PixelSpacing",
            "SliceThickness",
            "RescaleIntercept",
            "RescaleSlope",
        ):
            delattr(ds, kw)
        ds.NumberOfFrames = frames
        measures, orient, transform, ftype = Dataset(), Dataset(), Dataset(), Dataset()
        measures.PixelSpacing, measures.SliceThickness = [0.7, 0.7], "0.625"
        orient.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        transform.RescaleIntercept, transform.RescaleSlope, transform.RescaleType = "-1024", "1", "HU"
        ftype.FrameType = ["ORIGINAL", "PRIMARY", "AXIAL", "NONE"]
        shared = Dataset()
        shared.PixelMeasuresSequence = Sequence([measures])
        shared.PlaneOrientationSequence = Sequence([orient])
        shared.PixelValueTransformationSequence = Sequence([transform])
        shared.CTImageFrameTypeSequence = Sequence([ftype])
        ds.SharedFunctionalGroupsSequence = Sequence([shared])
        dim_uid = _uid("enh-dim", seed, k)
        dims = []
        for pointer, group in ((0x00209056, 0x00209111), (0x00209057, 0x00209111)):
            d = Dataset()
            d.DimensionOrganizationUID, d.DimensionIndexPointer, d.FunctionalGroupPointer = (
                dim_uid,
                pointer,
                group,
            )
            dims.append(d)
        ds.DimensionIndexSequence = Sequence(dims)
        org = Dataset()
        org.DimensionOrganizationUID = dim_uid
        ds.DimensionOrganizationSequence = Sequence([org])
        per_frame = []
        for i in range(frames):
            content, position, item = Dataset(), Dataset(), Dataset()
            stamp = f"{study_date}1015{i // 100 % 60:02d}.{i % 100:02d}0000"
            content.FrameAcquisitionDateTime = content.FrameReferenceDateTime = stamp
            content.FrameAcquisitionDuration = 500.0
            content.StackID, content.InStackPositionNumber = "1", i + 1
            content.DimensionIndexValues = [1, i + 1]
            position.ImagePositionPatient = [-179.2, -179.2, round(-20.0 - 0.625 * i, 3)]
            item.FrameContentSequence = Sequence([content])
            item.PlanePositionSequence = Sequence([position])
            per_frame.append(item)
        ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
        pixels = np.empty((frames, SIZE, SIZE), dtype=np.int16)
        for i in range(frames):
            pixels[i] = _frame(rng, base, i)
        ds.PixelData = pixels.tobytes()
        del pixels
        ds["PixelData"].VR = "OW"
        ds.save_as(path / f"ENH{k:03d}.dcm", enforce_file_format=True)
        del ds
    return _finish(name, path, manifest, params, start)


def describe(info: SetInfo) -> str:
    state = f"generated in {info.seconds:.1f} s" if info.generated else "reused"
    return f"{info.name}: {info.files} files, {info.bytes / 1e6:.0f} MB ({state}) {asdict(info)['path']}"
